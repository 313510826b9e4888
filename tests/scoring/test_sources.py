"""Reading files: previous guidelines beside a guideline, the CSV shape read back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scoring import tables as T
from scoring.errors import ScoringError
from scoring.sources import discover_previous, load_worksheet, read_text


def test_previous_guidelines_are_found_beside_the_guideline(interop_dir: Path) -> None:
    assert [p.name for p in discover_previous(interop_dir / "next.json")] == ["2020.06.json", "2019.11.json"]
    assert [p.name for p in discover_previous(interop_dir / "2019.06.json", count=3)] == [
        "2018.11.json",
        "2018.02.json",
        "2017.09.json",
    ]
    assert [p.name for p in discover_previous(interop_dir / "add-ons" / "dns.next.json")] == [
        "dns.2020.06.json",
        "dns.2019.11.json",
    ]
    assert discover_previous(interop_dir / "verticals" / "nfv.next.json") == []


def test_previous_guidelines_in_a_folder_of_our_own(tmp_path: Path) -> None:
    for name in ("2030.01.json", "2030.07.json", "orchestration.2030.01.json", "notes.json", "next.json"):
        (tmp_path / name).write_text("{}")
    assert discover_previous(tmp_path / "next.json") == [tmp_path / "2030.07.json", tmp_path / "2030.01.json"]
    assert discover_previous(tmp_path / "2030.07.json") == [tmp_path / "2030.01.json"]
    assert discover_previous(tmp_path / "notes.json") == []


def test_the_csv_shape_reads_back(materials: Path) -> None:
    frame = T.read_scores_csv((materials / "tabulated_scores.csv").read_text(encoding="utf-8"))
    assert len(frame) == 140
    assert frame.loc["network-floating-ips-create", T.TOTAL_TEXT] == "74*"
    assert frame.loc["compute-images-create", list(T.MARK_COLUMNS)].tolist() == "0 1 1 0 1 1 1 1 1 0 1 1 1".split()
    vetoed = frame.loc["network-extensions-provider-add"]
    assert vetoed[T.TOTAL_TEXT] == "0" and pd.isna(vetoed[list(T.MARK_COLUMNS)]).all()


def test_unreadable_files_are_scoring_errors(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("caf\xe9: [1]".encode("latin-1"))
    with pytest.raises(ScoringError, match="latin1.txt: not UTF-8 text"):
        read_text(tmp_path / "latin1.txt")
    with pytest.raises(ScoringError, match="cannot be read"):
        load_worksheet(tmp_path / "missing.txt")
