"""The real worksheets of ../shared/interop/working_materials, scored with the real guidelines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from interop_model.guidelines import Guideline
from scoring import api
from scoring import tables as T
from scoring.assessment import score_with_guideline
from scoring.worksheet import read_worksheet, render_worksheet


def scored(materials: Path, name: str, guideline: Guideline):  # type: ignore[no-untyped-def]
    path = materials / name
    return score_with_guideline(read_worksheet(path.read_text(encoding="utf-8"), source=str(path)), guideline)


def test_core_csv_equals_tabulated_scores_byte_for_byte(materials: Path, load: Callable[[str], Guideline]) -> None:
    result = scored(materials, "scoring.txt", load("next.json"))
    expected = (materials / "tabulated_scores.csv").read_bytes()
    text = T.to_csv_text(result.marks, result.scores)
    assert text.encode("utf-8") == expected
    assert len(text.splitlines()) == 141  # header + 140 rows


def test_core_known_values(materials: Path, load: Callable[[str], Guideline]) -> None:
    scores = scored(materials, "scoring.txt", load("next.json")).scores
    assert len(scores) == 140
    assert scores.at["network-floating-ips-create", T.TOTAL_TEXT] == "74*"
    assert scores.at["compute-images-create", T.TOTAL_TEXT] == "72"
    assert sorted(scores.index[scores[T.VETOED]]) == [
        "network-extensions-provider-add",
        "network-extensions-provider-create",
        "network-extensions-provider-delete",
        "network-extensions-provider-show",
    ]
    assert int(scores[T.STAR].sum()) == 103  # grep -c "]\*$" scoring.txt
    assert not scores[T.INCOMPLETE].any()


def test_vetoed_rows_are_short_in_the_csv(materials: Path, load: Callable[[str], Guideline]) -> None:
    result = scored(materials, "scoring.txt", load("next.json"))
    rows = T.to_csv_text(result.marks, result.scores).splitlines()
    short = [r for r in rows if r.count(",") == 1]
    assert short == [f"network-extensions-provider-{op},0" for op in ("add", "create", "delete", "show")]


def test_every_stored_total_is_reproduced_so_write_changes_nothing(
    materials: Path, load: Callable[[str], Guideline]
) -> None:
    result = scored(materials, "scoring.txt", load("next.json"))
    assert result.stale.empty
    original = (materials / "scoring.txt").read_text(encoding="utf-8")
    assert render_worksheet(result.worksheet, result.scores[T.TOTAL_TEXT].to_dict()) == original


def test_nfv_worksheet_with_the_nfv_guideline(materials: Path, load: Callable[[str], Guideline]) -> None:
    result = scored(materials, "scoring_nfv.txt", load("verticals/nfv.next.json"))
    assert result.scores[T.TOTAL_TEXT].to_dict() == {
        "networking-trunk-port-crud": "76*",
        "networking-trunk-subport-crud": "76*",
        "networking-trunk-show-trunk-details": "76*",
        "networking-bgpvpn-bgpvpn-crud": "0",
        "networking-bgpvpn-net-assoc-crud": "82*",
        "networking-bgpvpn-router-assoc-crud": "82*",
    }
    csv_path = materials / "tabulated_scores_nfv.csv"
    if not csv_path.is_file():
        pytest.skip(f"{csv_path} is absent")
    assert T.to_csv_text(result.marks, result.scores) == csv_path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("sheet", "guideline", "count"),
    [
        ("scoring_dns.txt", "add-ons/dns.next.json", 2),
        ("scoring_orchestration.txt", "add-ons/orchestration.next.json", 17),
    ],
)
def test_addon_hand_written_64_is_reported_as_66(
    materials: Path, load: Callable[[str], Guideline], sheet: str, guideline: str, count: int
) -> None:
    result = scored(materials, sheet, load(guideline))
    assert set(result.scores[T.TOTAL_TEXT]) == {"66*"}
    assert len(result.stale) == count
    assert set(result.stale[T.BOARD]) == {"64"} and set(result.stale[T.TOTAL_TEXT]) == {"66*"}
    rewritten = render_worksheet(result.worksheet, result.scores[T.TOTAL_TEXT].to_dict())
    assert rewritten.count("[66]*") == count and "[64]" not in rewritten
    assert rewritten.count("[*,1,1][1,1,1][1,1,0][*,1,*][1]") == count  # the compact form is kept


def test_api_tabulate_returns_plain_rows(materials: Path, load: Callable[[str], Guideline]) -> None:
    rows = api.tabulate((materials / "scoring.txt").read_text(encoding="utf-8"), load("next.json"))
    row = next(r for r in rows if r["capability"] == "network-floating-ips-create")
    assert row["total"] == 74 and row["star"] is True and row["total_text"] == "74*"
    assert row["deployed"] == "1" and row["non_admin"] == "1" and row["line"] == 32
    assert all(isinstance(v, str | int | float | bool | type(None)) for r in rows for v in r.values())
