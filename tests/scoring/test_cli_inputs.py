"""tcup-score against paths it cannot write, documents it cannot read, and the board's real
worksheet read with --graduated: one message and exit status 1, never a traceback, and never
a sheet of 0/1 marks rewritten on the graduated scale."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from scoring.cli import cli

DEEP_ARRAY = "[" * 100000 + "]" * 100000
DEEP_OBJECT = '{"a":' * 50000


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_error(code: int, err: str) -> str:
    """The error line of a refused command: status 1, no traceback, the message on its last line."""
    assert code == 1, err
    assert "Traceback" not in err
    last = err.rstrip("\n").splitlines()[-1]
    assert last.startswith("Error: "), err
    return last


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "a.json").write_text('{"cpid": "a", "duration_seconds": 1, "results": [{"name": "t.x"}]}')
    return folder


@pytest.fixture
def board(materials: Path, interop_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "board.xlsx"
    code, _, err = invoke(
        "board", "-w", str(materials / "scoring.txt"), "-g", str(interop_dir / "next.json"), "-o", str(out)
    )
    assert code == 0, err
    return out


def commands(materials: Path, interop: Path, runs: Path, board: Path) -> dict[str, Callable[[str], list[str]]]:
    sheet, guideline = str(materials / "scoring.txt"), str(interop / "next.json")
    return {
        "tabulate --csv": lambda out: ["tabulate", "-w", sheet, "-g", guideline, "--csv", out],
        "compare --csv": lambda out: ["compare", "-w", sheet, "-g", guideline, "--csv", out],
        "pass-rates --csv": lambda out: ["pass-rates", "-g", guideline, "-r", str(runs), "--csv", out],
        "board --out": lambda out: ["board", "-w", sheet, "-g", guideline, "--out", out],
        "import --worksheet-out": lambda out: ["import", str(board), "--worksheet-out", out],
        "import --csv": lambda out: ["import", str(board), "--csv", out],
        "draft --out": lambda out: ["draft", "-p", str(interop / "2020.06.json"), "-w", sheet, "--out", out],
    }


@pytest.mark.parametrize(
    "option",
    [
        "tabulate --csv",
        "compare --csv",
        "pass-rates --csv",
        "board --out",
        "import --worksheet-out",
        "import --csv",
        "draft --out",
    ],
)
@pytest.mark.parametrize("where", ["missing folder", "/dev/full"])
def test_an_output_path_that_cannot_be_written_is_one_line(
    option: str, where: str, materials: Path, interop_dir: Path, results_dir: Path, board: Path, tmp_path: Path
) -> None:
    path = str(tmp_path / "no" / "such" / "dir" / "x.out") if where == "missing folder" else where
    if path == "/dev/full" and not Path(path).exists():
        pytest.skip("/dev/full is absent")
    args = commands(materials, interop_dir, results_dir, board)[option](path)
    code, _, err = invoke(*args)
    line = one_error(code, err)
    assert line.startswith(f"Error: {path}: cannot be written: ") and "(fix: " in line


@pytest.mark.parametrize(
    "text", [DEEP_ARRAY, DEEP_OBJECT, "{", "\ufeff", "[]"], ids=["array", "object", "cut", "bom", "list"]
)
def test_a_guideline_or_results_document_that_cannot_be_read_is_one_message(
    text: str, materials: Path, interop_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    sheet, guideline = str(materials / "scoring.txt"), str(interop_dir / "next.json")
    for args in (
        ["tabulate", "-w", sheet, "-g", str(bad)],
        ["draft", "-p", str(bad), "-w", sheet, "-o", str(tmp_path / "o.json")],
        ["pass-rates", "-g", guideline, "-r", str(bad)],
        ["compare", "-w", sheet, "-g", guideline, "-p", str(interop_dir / "2020.06.json"), "-r", str(bad)],
    ):
        code, _, err = invoke(*args)
        assert code == 1 and "Traceback" not in err, (args, err[-500:])
        assert f"{bad}: " in err, (args, err)
        if text in (DEEP_ARRAY, DEEP_OBJECT):
            assert "nested too deeply to be read" in err


# -- the marks' scale ---------------------------------------------------------------------------


def test_graduated_on_the_boards_binary_worksheet_keeps_the_binary_scale(
    materials: Path, interop_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "scoring.txt"
    shutil.copy(materials / "scoring.txt", sheet)
    guideline = str(interop_dir / "next.json")
    code, out, err = invoke("tabulate", "-w", str(sheet), "-g", guideline, "--graduated", "--check")
    assert code == 0, err
    assert err == f"{sheet}: marks on the binary scale (0/1): no criterion is marked 2 to 5, so each mark of 1 " + (
        "counts its full weight, as the sheet's totals were computed\n"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    expected = list(csv.DictReader(io.StringIO((materials / "tabulated_scores.csv").read_text())))
    assert len(rows) == len(expected) == 140
    full = [r for r in rows if r["Non-Admin"] is not None]
    assert [r["Total"] for r in full] == [r["Total"] for r in expected if r["Non-Admin"] is not None]
    assert all(r["Binary Total"] == r["Total"] for r in full)
    by_name = {r["Capability"]: r for r in rows}
    assert by_name["network-floating-ips-create"]["Binary Total"] == "74*"


def test_graduated_write_leaves_the_boards_worksheet_byte_for_byte(
    materials: Path, interop_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "scoring.txt"
    shutil.copy(materials / "scoring.txt", sheet)
    for extra in ([], ["--overwrite"]):
        code, _, err = invoke(
            "tabulate", "-w", str(sheet), "-g", str(interop_dir / "next.json"), "--graduated", "--write", *extra
        )
        assert code == 0, err
        assert sheet.read_bytes() == (materials / "scoring.txt").read_bytes()
    assert "network-floating-ips-associate:       [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1] [74]*" in sheet.read_text()


def test_a_write_that_would_change_the_boards_totals_is_refused(
    materials: Path, interop_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "scoring.txt"
    shutil.copy(materials / "scoring.txt", sheet)
    before = sheet.read_bytes()
    document = json.loads((interop_dir / "next.json").read_text())
    document["metadata"]["scoring"]["cutoff_score"] = 80  # the stars of the 74s and 76s would go
    other = tmp_path / "next.json"
    other.write_text(json.dumps(document))
    code, _, err = invoke("tabulate", "-w", str(sheet), "-g", str(other), "--write")
    line = one_error(code, err)
    assert "not rewritten: --write would replace" in line and "add --overwrite" in line
    assert sheet.read_bytes() == before
    assert "(fix: run with --write --overwrite)" in err


def test_a_graduated_sheet_is_written_on_the_graduated_scale(interop_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "g.txt"
    sheet.write_text("Graduated\n\ncompute-g: [5,4,3] [2,1,0] [5,5,5] [0,0,0] [1]\n")
    code, out, err = invoke(
        "tabulate", "-w", str(sheet), "-g", str(interop_dir / "next.json"), "--graduated", "--write", "--csv", "-"
    )
    assert code == 0, err
    assert "marks on the graduated scale (0 to 5)" in err
    # (8*5 + 6*4 + 10*3 + 11*2 + 8*1 + 8*5 + 8*5 + 9*5) / 5 = 49.8; binary: 8 + 6 + 10 + 8 + 8 + 9 = 49
    assert sheet.read_text().splitlines()[-1] == "compute-g: [5,4,3] [2,1,0] [5,5,5] [0,0,0] [1] [49.8]"
    assert out.splitlines()[1].endswith(",49.8,49")


def test_overwrite_needs_write(materials: Path, interop_dir: Path) -> None:
    code, _, err = invoke(
        "tabulate", "-w", str(materials / "scoring.txt"), "-g", str(interop_dir / "next.json"), "--overwrite"
    )
    assert code == 2 and "--overwrite only applies with --write" in err


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        ("C16", "abc", "scale 'abc' is neither 1"),
        ("C16", 7, "scale '7' is neither 1"),
        ("C15", "abc", "cutoff 'abc' is not a number"),
        ("C15", "1e999", "cutoff '1e999' is not a number"),
    ],
)
def test_a_board_with_a_garbage_scale_or_cutoff_is_one_message(
    board: Path, tmp_path: Path, cell: str, value: object, message: str
) -> None:
    book = openpyxl.load_workbook(board)
    assert book["Criteria"][f"A{cell[1:]}"].value in ("scale", "cutoff")
    book["Criteria"][cell] = value
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    code, _, err = invoke("import", str(edited), "--csv", "-")
    assert code == 1 and "Traceback" not in err and message in err
