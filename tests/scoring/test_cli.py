"""The tcup-score command line: every command, its help, and one-message errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner

from scoring.cli import cli

COMMANDS = sorted(cli.commands)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_command_is_documented() -> None:
    assert COMMANDS == ["board", "compare", "draft", "import", "pass-rates", "tabulate"]
    code, out, _ = invoke("--help")
    assert code == 0
    for name in COMMANDS:
        assert name in out
        command = cli.commands[name]
        assert command.help and "Example: tcup-score " + name in command.help
        assert all(p.help for p in command.params if isinstance(p, click.Option))


def test_graduated_marks_are_documented_in_help() -> None:
    code, out, _ = invoke("tabulate", "--help")
    assert code == 0 and "weight x mark / 5" in out and "--graduated" in out


def test_tabulate_writes_the_exact_csv(materials: Path, interop_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    code, _, err = invoke(
        "tabulate", "-w", str(materials / "scoring.txt"), "-g", str(interop_dir / "next.json"), "--csv", str(out)
    )
    assert code == 0 and err == ""
    assert out.read_bytes() == (materials / "tabulated_scores.csv").read_bytes()


def test_tabulate_reports_and_rewrites_stale_addon_totals(materials: Path, interop_dir: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "scoring_dns.txt"
    shutil.copy(materials / "scoring_dns.txt", sheet)
    guideline = str(interop_dir / "add-ons" / "dns.next.json")
    code, out, err = invoke("tabulate", "-w", str(sheet), "-g", guideline, "--check")
    assert code == 1
    assert f"{sheet}:16: dns-zone-crud: the sheet says [64] but the marks give 66* with the weights of dns.next" in err
    assert out.splitlines()[1] == "dns-zone-crud,*,1,1,1,1,1,1,1,0,*,1,*,1,66*"
    before = sheet.read_bytes()
    code, _, err = invoke("tabulate", "-w", str(sheet), "-g", guideline, "--write")
    assert code == 1 and sheet.read_bytes() == before  # what the board wrote is only replaced when asked
    assert f"Error: {sheet}: not rewritten: --write would replace 2 total(s)" in err and "add --overwrite" in err
    code, _, _ = invoke("tabulate", "-w", str(sheet), "-g", guideline, "--write", "--overwrite")
    assert code == 0
    assert sheet.read_text().splitlines()[-1] == "dns-record-crud: [*,1,1][1,1,1][1,1,0][*,1,*][1] [66]*"
    code, _, err = invoke("tabulate", "-w", str(sheet), "-g", guideline, "--check", "--csv", str(tmp_path / "x"))
    assert code == 0 and err == ""


def test_errors_are_one_message_with_file_line_and_fix(tmp_path: Path, interop_dir: Path) -> None:
    sheet = tmp_path / "bad.txt"
    sheet.write_text(
        "Title\ncompute-x: [1,1,1] [1,1] [1,1,1] [1,1,1] [1]\ncompute-y: [1,1,1] [1,1,1] [1,1,1] [1,1,1]\n"
    )
    code, out, err = invoke("tabulate", "-w", str(sheet), "-g", str(interop_dir / "next.json"))
    assert code == 1 and out == ""
    assert err.startswith("Error: 2 malformed worksheet line(s):\n")
    assert f"{sheet}:2: compute-x: group 2, direction" in err and f"{sheet}:3: compute-y: expected 5" in err
    assert err.count("fix:") == 2 and "Traceback" not in err


def test_missing_weights_error(tmp_path: Path, interop_dir: Path) -> None:
    sheet = tmp_path / "core.txt"
    sheet.write_text("dns-zone-crud: [1,1,1] [1,1,1] [1,1,0] [1,1,1] [1]\n")
    code, _, err = invoke("tabulate", "-w", str(sheet), "-g", str(interop_dir / "add-ons" / "dns.next.json"))
    assert code == 1
    assert f"{sheet}:1: dns-zone-crud: Widely Deployed is marked 1 but" in err and "mark it * as not considered" in err


def test_invalid_guideline_is_one_message(tmp_path: Path, materials: Path) -> None:
    bad = tmp_path / "g.json"
    bad.write_text("{")
    code, _, err = invoke("tabulate", "-w", str(materials / "scoring.txt"), "-g", str(bad))
    assert code == 1 and f"{bad}: invalid guideline: not valid JSON at line 1" in err


def test_compare_lists_rules(materials: Path, interop_dir: Path) -> None:
    code, out, err = invoke("compare", "-w", str(materials / "scoring.txt"), "-g", str(interop_dir / "next.json"))
    assert code == 0
    assert "previous guidelines: 2020.06.json, 2019.11.json (auto" in err
    line = next(x for x in out.splitlines() if x.startswith("compute-images-create  required-below-cutoff"))
    assert "status: required vs 72  [A4.5, A7.2]" in line
    assert "137 disagreements (evidence-disagrees 93, candidate-not-listed 19" in err


def test_board_import_round_trip_and_pass_rates(materials: Path, interop_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    test = "tempest.api.compute.images.test_images_oneserver.ImagesOneServerTestJSON.test_create_delete_image"
    (runs / "a.json").write_text(json.dumps({"cpid": "a", "duration_seconds": 1, "results": [{"name": test}]}))
    board = tmp_path / "board.xlsx"
    code, _, err = invoke(
        "board",
        "-w",
        str(materials / "scoring.txt"),
        "-g",
        str(interop_dir / "next.json"),
        "-p",
        str(interop_dir / "2020.06.json"),
        "-r",
        str(runs),
        "--out",
        str(board),
    )
    assert code == 0 and f"{board}: 140 capabilities" in err
    evidence = openpyxl.load_workbook(board)["Evidence"]
    assert [c.value for c in evidence[1]][:7] == [
        "Capability",
        "Tests",
        "Non-flagged tests",
        "Clouds",
        "Clouds passing",
        "Pass rate",
        "Test pass rate",
    ]
    code, out, _ = invoke("import", str(board), "--worksheet-out", "-")
    assert code == 0 and out == (materials / "scoring.txt").read_text()
    csv = tmp_path / "round.csv"
    assert invoke("import", str(board), "--csv", str(csv))[0] == 0
    assert csv.read_bytes() == (materials / "tabulated_scores.csv").read_bytes()
    code, out, _ = invoke("pass-rates", "-g", str(interop_dir / "2020.06.json"), "-r", str(runs / "a.json"))
    assert code == 0
    row = next(x for x in out.splitlines() if x.startswith("compute-images-create,"))
    assert row == "compute-images-create,2,2,1,0,0.0,0.5,0.0"


def test_import_needs_an_output(tmp_path: Path) -> None:
    book = tmp_path / "b.xlsx"
    openpyxl.Workbook().save(book)
    code, _, err = invoke("import", str(book))
    assert code == 1 and "sheet 'Criteria' is missing" in err


def test_draft_writes_a_loadable_guideline(materials: Path, interop_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "next.json"
    code, _, err = invoke(
        "draft",
        "-p",
        str(interop_dir / "2020.06.json"),
        "-w",
        str(materials / "scoring.txt"),
        "--out",
        str(out),
        "--id",
        "2020.11",
    )
    assert code == 0
    assert "compute-images-create: required -> deprecated [72] A4.5: below the cutoff" in err
    document = json.loads(out.read_text())
    assert document["metadata"]["id"] == "2020.11"
    assert document["metadata"]["os_trademark_approval"]["replaces"] == "2020.06"


@pytest.mark.parametrize("module", ["scoring"])
def test_python_dash_m_works(module: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Usage: tcup-score" in done.stdout


def test_a_worksheet_without_scored_lines_is_an_error(tmp_path: Path, interop_dir: Path) -> None:
    sheet = tmp_path / "notes.txt"
    sheet.write_text("Scoring notes\n=============\n\nNothing scored yet.\n")
    for command in ("tabulate", "compare"):
        code, out, err = invoke(command, "-w", str(sheet), "-g", str(interop_dir / "next.json"))
        assert code == 1 and out == "", (command, out)
        assert f"{sheet}: no scored line" in err and "fix:" in err and "Traceback" not in err
