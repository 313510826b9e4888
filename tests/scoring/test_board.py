"""The board spreadsheet: live formulas, a lossless round trip, and LibreOffice recalculation."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from interop_model.guidelines import Guideline
from scoring import api
from scoring import tables as T
from scoring.assessment import assess, score_with_guideline
from scoring.board import read_board, write_board
from scoring.engine import score
from scoring.errors import BoardError
from scoring.worksheet import read_worksheet, render_worksheet


@pytest.fixture(scope="module")
def core_board(materials: Path, load: Callable[[str], Guideline], tmp_path_factory: pytest.TempPathFactory) -> Path:
    sheet = read_worksheet((materials / "scoring.txt").read_text(encoding="utf-8"), source="scoring.txt")
    path = tmp_path_factory.mktemp("board") / "board.xlsx"
    write_board(assess(sheet, load("next.json"), previous=[load("2020.06.json"), load("2019.11.json")]), path)
    return path


def test_sheets_and_live_formulas(core_board: Path) -> None:
    book = openpyxl.load_workbook(core_board)
    assert book.sheetnames == ["Criteria", "Scores", "Evidence", "Disagreements", "Worksheet"]
    criteria, scores = book["Criteria"], book["Scores"]
    assert [criteria.cell(row=r, column=1).value for r in range(2, 14)] == list(T.CRITERIA)
    assert criteria["C2"].value == 8 and criteria["A15"].value == "cutoff" and criteria["C15"].value == 74
    assert scores["C1"].value == "=Criteria!$C$2" and scores["N1"].value == "=Criteria!$C$13"
    header = [c.value for c in scores[2]]
    assert header[:3] == ["Capability", "Section", "Widely Deployed"] and header[14:17] == [
        "Non-Admin",
        "Total",
        "Must-pass",
    ]
    row = {h: c.value for h, c in zip(header, scores[4], strict=True)}  # network-floating-ips-create
    assert row["Capability"] == "network-floating-ips-create"
    assert row["Total"].startswith('=IF(O4=0,0,IF(SUMPRODUCT(--(C4:O4="?"))>0,-1,1)*SUMPRODUCT($C$1:$N$1,C4:N4)')
    assert row["Must-pass"] == "=P4>=Criteria!$C$15"
    assert (row["Computed score"], row["Star"], row["Line"]) == (74, "*", 32)
    vetoed = next(r for r in scores.iter_rows(min_row=3, values_only=True) if r[0] == "network-extensions-provider-add")
    assert vetoed[14] == 0
    images = next(r for r in scores.iter_rows(min_row=3, values_only=True) if r[0] == "compute-images-create")
    named = dict(zip(header, images, strict=True))
    assert (named["Status"], named["Previous status"]) == ("required", "required")
    assert named["Disagreement"] == "required-below-cutoff (A4.5, A7.2)"
    rules = [r.formula[0] for r in scores.conditional_formatting for r in r.rules]
    assert {"$O3=0", "$P3<0", "$Q3=TRUE"} <= set(rules)
    assert book["Worksheet"]["A2"].value == "========================================"


def test_unedited_board_round_trips_losslessly(core_board: Path, materials: Path) -> None:
    imported = read_board(core_board)
    assert imported.worksheet_text == (materials / "scoring.txt").read_text(encoding="utf-8")
    assert imported.csv_text == (materials / "tabulated_scores.csv").read_text(encoding="utf-8")
    assert imported.guideline == "next"


@pytest.mark.parametrize(
    ("sheet", "guideline"),
    [("scoring_dns.txt", "add-ons/dns.next.json"), ("scoring_nfv.txt", "verticals/nfv.next.json")],
)
def test_other_sheets_round_trip_to_what_tabulate_writes(
    materials: Path, load: Callable[[str], Guideline], sheet: str, guideline: str
) -> None:
    text = (materials / sheet).read_text(encoding="utf-8")
    buffer = io.BytesIO()
    api.write_board(text, load(guideline), buffer, source=sheet)
    imported = api.import_board(io.BytesIO(buffer.getvalue()))
    assert imported["worksheet_text"] == api.rewrite_worksheet(text, load(guideline), source=sheet)
    assert imported["csv_text"] == api.to_csv_text(text, load(guideline), source=sheet)


def test_graduated_board_round_trip(make_guideline: Callable[..., Guideline], tmp_path: Path) -> None:
    text = "Title\n\ng-one: [5,4,3] [2,1,0] [?,5,5] [0,0,0] [1] [0]\ng-two: [5,5,5] [5,5,5] [5,5,5] [5,5,5] [1]\n"
    guideline = make_guideline({"g-one": "advisory"})
    path = tmp_path / "g.xlsx"
    api.write_board(text, guideline, path, graduated=True)
    imported = read_board(path)
    assert imported.worksheet_text == api.rewrite_worksheet(text, guideline, graduated=True)
    # (8*5 + 6*4 + 10*3 + 11*2 + 8*1 + 8*5 + 9*5) / 5 = 41.8, negative as Discoverable is "?"
    assert "g-one: [5,4,3] [2,1,0] [?,5,5] [0,0,0] [1] [-41.8]\n" in imported.worksheet_text
    lines = imported.csv_text.splitlines()
    assert lines[0].endswith(",Total,Binary Total")
    assert lines[1] == "g-one,5,4,3,2,1,0,?,5,5,0,0,0,1,-41.8,-41"  # binary: marks of 3 or more count


def test_edited_marks_and_weights_are_read_back(core_board: Path, tmp_path: Path, materials: Path) -> None:
    book = openpyxl.load_workbook(core_board)
    book["Criteria"]["C3"] = 16  # Used by Tools: 6 -> 16
    scores = book["Scores"]
    row = next(r for r in scores.iter_rows(min_row=3) if r[0].value == "compute-images-create")
    row[2].value = 1  # Widely Deployed 0 -> 1
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    imported = read_board(edited)
    assert "compute-images-create:           [1,1,1] [0,1,1] [1,1,1] [0,1,1] [1] [90]*\n" in imported.worksheet_text
    assert "network-l3-convert:                   [0,0,0] [1,0,0] [0,0,0] [0,0,0] [1] [11]\n" in imported.worksheet_text
    assert (
        "network-l2-create:                    [1,1,1] [1,1,1] [1,1,0] [1,1,1] [1] [101]*\n" in imported.worksheet_text
    )
    assert "compute-images-create,1,1,1,0,1,1,1,1,1,0,1,1,1,90*\n" in imported.csv_text
    untouched = (materials / "scoring.txt").read_text(encoding="utf-8").splitlines()
    assert imported.worksheet_text.splitlines()[:30] == untouched[:30]


def test_board_errors_name_the_cell(core_board: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(core_board)
    book["Criteria"]["A3"] = "popularity"
    book["Criteria"]["C4"] = "ten"
    book["Scores"]["D5"] = "x"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    with pytest.raises(BoardError) as caught:
        read_board(bad, name="bad.xlsx")
    assert caught.value.problems == [
        "bad.xlsx: Criteria!A3: unknown criterion 'popularity' (fix: use one of deployed, tools, clients, future, "
        "complete, stable, discover, doc, sticky, foundation, atomic, proximity)",
        "bad.xlsx: Criteria!C4: weight 'ten' of 'clients' is not a number (fix: type a number, or leave it empty "
        "when the criterion is not considered)",
        "bad.xlsx: Scores!D5: network-floating-ips-update: mark 'x' for Used by Tools is not one of *, 0, 1, ?",
    ]
    (tmp_path / "not.xlsx").write_text("hello")
    with pytest.raises(BoardError, match="not an .xlsx workbook"):
        read_board(tmp_path / "not.xlsx", name="not.xlsx")


def test_libreoffice_recalculates_totals_for_a_changed_weight(
    core_board: Path, tmp_path: Path, soffice: str, materials: Path, load: Callable[[str], Guideline]
) -> None:
    book = openpyxl.load_workbook(core_board)
    book["Criteria"]["C2"] = 20  # Widely Deployed: 8 -> 20
    book["Criteria"]["C15"] = 80  # cutoff: 74 -> 80
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    out = tmp_path / "out"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(edited),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    values = openpyxl.load_workbook(out / "edited.xlsx", data_only=True)["Scores"]
    header = [c.value for c in values[2]]
    rows = pd.DataFrame(list(values.iter_rows(min_row=3, values_only=True)), columns=header).set_index("Capability")

    sheet = read_worksheet((materials / "scoring.txt").read_text(encoding="utf-8"), source="scoring.txt")
    weights = T.weights_series(load("next.json"))
    weights["deployed"] = 20
    expected = score(T.marks_frame(sheet), weights, 80)
    assert rows["Total"].astype(float).to_dict() == expected[T.TOTAL].to_dict()
    assert rows["Must-pass"].astype(bool).to_dict() == expected[T.STAR].to_dict()
    assert rows.loc["network-floating-ips-create", "Total"] == 86
    assert rows.loc["compute-images-create", "Total"] == 72 and not rows.loc["compute-images-create", "Must-pass"]
    assert rows.loc["network-extensions-provider-add", "Total"] == 0
    # the engine's own numbers stay beside the live ones
    assert rows.loc["network-floating-ips-create", "Computed score"] == 74
    again = read_board(out / "edited.xlsx")  # a LibreOffice-saved board imports too
    assert "network-floating-ips-create:          [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1] [86]*" in again.worksheet_text
    assert again.worksheet_text == render_worksheet(sheet, expected[T.TOTAL_TEXT].to_dict())


def test_api_board_bytes_is_a_workbook(materials: Path, load: Callable[[str], Guideline]) -> None:
    text = (materials / "scoring_dns.txt").read_text(encoding="utf-8")
    data = api.board_bytes(text, load("add-ons/dns.next.json"))
    assert data[:2] == b"PK"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book["Criteria"]["C2"].value is None  # Widely Deployed is not considered for add-ons
    assert book["Criteria"]["D2"].value == "(not considered)"
    scored = score_with_guideline(read_worksheet(text, source="dns"), load("add-ons/dns.next.json"))
    assert scored.scores[T.TOTAL_TEXT].tolist() == ["66*", "66*"]


def test_a_control_character_is_named_before_anything_is_written(
    make_guideline: Callable[..., Guideline], tmp_path: Path
) -> None:
    from scoring.errors import BoardWriteError

    text = "Title \x07 bell\n\ng-one: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"
    path = tmp_path / "board.xlsx"
    with pytest.raises(BoardWriteError) as caught:
        api.write_board(text, make_guideline({"g-one": "advisory"}), path, source="notes.txt")
    assert caught.value.problems == ["notes.txt:1: control character U+0007 (fix: delete it)"]
    assert not path.exists()
