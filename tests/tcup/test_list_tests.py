"""``tcup list-tests`` prints exactly the lines of RefStack's plain-text test list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcup.cli import cli

PLATFORMS = {
    "platform": "OpenStack Powered Platform",
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
}


def refstack_lines(data: dict, target: str, types: list[str] | None, alias: bool, flag: bool) -> list[str]:
    """An independent oracle: RefStack's test-list algorithm, written against the raw JSON."""
    caps: set[str] = set()
    if "metadata" in data:  # schema 2.0
        if target in PLATFORMS:
            components = [c["name"] for c in data["platforms"][PLATFORMS[target]]["components"]]
        else:
            components = [f"os_powered_{target}"]
        for comp in components:
            for status, names in data["components"][comp]["capabilities"].items():
                if types is None or status in types:
                    caps.update(names)
    else:
        components = data["platform"]["required"] if target == "platform" else [target]
        for comp in components:
            for status, names in data["components"][comp].items():
                if types is None or status in types:
                    caps.update(names)
    schema = data.get("schema") or data["metadata"]["schema"]
    lines: list[str] = []
    for name, cap in data["capabilities"].items():
        if name not in caps:
            continue
        if schema == "1.2":
            lines.extend(t for t in cap["tests"] if flag or t not in cap.get("flagged", []))
            continue
        for test, details in cap["tests"].items():
            if details.get("flagged") and not flag:
                continue
            bracket = details.get("idempotent_id", "")
            lines.append(f"{test}[{bracket}]")
            if alias:
                lines.extend(f"{a}[{bracket}]" for a in details.get("aliases", []))
    return sorted(lines)


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["list-tests", *args])
    return result.exit_code, result.stdout, result.stderr


CASES = [
    ("2020.06.json", "platform"),
    ("2020.06.json", "compute"),
    ("2020.06.json", "object"),
    ("2019.11.json", "platform"),
    ("2018.02.json", "compute"),
    ("next.json", "platform"),
    ("2017.09.json", "platform"),
    ("2017.09.json", "object"),
    ("2016.01.json", "compute"),
    ("2015.07.json", "platform"),
    ("2015.03.json", "platform"),
    ("2015.05.json", "object"),
    ("add-ons/dns.2020.06.json", "dns"),
    ("add-ons/orchestration.2019.06.json", "orchestration"),
]
OPTIONS = [
    (None, True, True, []),
    (["required"], True, True, ["--type", "required"]),
    (["required"], False, False, ["--type", "required", "--no-alias", "--no-flagged"]),
    (["advisory", "deprecated"], True, False, ["--type", "advisory,deprecated", "--no-flagged"]),
    (["removed"], False, True, ["--type", "removed", "--no-alias"]),
]


@pytest.mark.parametrize(("name", "target"), CASES)
@pytest.mark.parametrize(("types", "alias", "flag", "args"), OPTIONS)
def test_lines_equal_refstack_algorithm(
    interop_dir: Path, name: str, target: str, types: list[str] | None, alias: bool, flag: bool, args: list[str]
) -> None:
    data = json.loads((interop_dir / name).read_text())
    expected = refstack_lines(data, target, types, alias, flag)
    code, out, _ = run_cli("--guideline", str(interop_dir / name), "--target", target, *args)
    assert code == 0
    assert out.splitlines() == expected


@pytest.mark.parametrize(
    ("target", "args", "lines", "distinct"),
    [
        ("platform", [], 390, 388),
        ("platform", ["--no-alias", "--no-flagged"], 275, 273),
        ("compute", [], 331, 331),
        ("compute", ["--no-alias", "--no-flagged"], 217, 217),
        ("object", [], 61, 59),
        ("object", ["--no-alias", "--no-flagged"], 60, 58),
    ],
)
def test_reference_counts_for_2020_06(
    interop_dir: Path, target: str, args: list[str], lines: int, distinct: int
) -> None:
    code, out, _ = run_cli("-g", str(interop_dir / "2020.06.json"), "-t", target, "--type", "required", *args)
    assert code == 0
    got = out.splitlines()
    assert (len(got), len(set(got))) == (lines, distinct)


def test_bracket_forms(interop_dir: Path) -> None:
    _, core, _ = run_cli("-g", str(interop_dir / "2020.06.json"), "--type", "required")
    assert all("[id-" in line for line in core.splitlines())
    _, addon, _ = run_cli("-g", str(interop_dir / "add-ons/dns.2020.06.json"), "-t", "dns")
    assert addon.splitlines()[0].endswith("[d03b69a5-5052-43bc-a38a-b511b6b34304]")
    _, old, _ = run_cli("-g", str(interop_dir / "2016.01.json"))
    assert any(line.endswith(",smoke]") for line in old.splitlines())
    _, bare, _ = run_cli("-g", str(interop_dir / "2015.03.json"))
    assert bare.splitlines() and not any("[" in line for line in bare.splitlines())


def test_version_names_are_looked_up_in_the_guidelines_dir(interop_dir: Path) -> None:
    code, out, _ = run_cli("-g", "dns.2020.06", "--guidelines-dir", str(interop_dir), "-t", "dns")
    assert code == 0 and len(out.splitlines()) == 10


def _tcup(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tcup", *args], capture_output=True, text=True, env=env)


def test_real_command_line(interop_dir: Path) -> None:
    proc = _tcup("list-tests", "--guideline", str(interop_dir / "2020.06.json"), "--target", "object")
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 61 + len(
        refstack_lines(
            json.loads((interop_dir / "2020.06.json").read_text()),
            "object",
            ["advisory", "deprecated", "removed"],
            True,
            True,
        )
    )


def test_unknown_target_is_an_error(interop_dir: Path) -> None:
    proc = _tcup("list-tests", "-g", str(interop_dir / "2020.06.json"), "-t", "storage")
    assert proc.returncode != 0 and proc.stdout == ""
    assert "Invalid target: storage" in proc.stderr and "platform, compute, object" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_version_is_an_error(interop_dir: Path) -> None:
    proc = _tcup("list-tests", "-g", "2031.01", "--guidelines-dir", str(interop_dir))
    assert proc.returncode != 0 and proc.stdout == ""
    assert "guideline '2031.01' not found" in proc.stderr and "--guidelines-dir" in proc.stderr


def test_broken_guideline_file_is_an_error(interop_dir: Path) -> None:
    proc = _tcup("list-tests", "-g", str(interop_dir / "havanasections.json"))
    assert proc.returncode != 0
    assert "havanasections.json: invalid guideline: not valid JSON at line 52, column 10" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_guideline_source_says_how_to_fix(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("TCUP_")}
    proc = _tcup("list-tests", "-g", "2020.06", env=env)
    assert proc.returncode != 0
    assert "TCUP_GUIDELINES_DIR" in proc.stderr and "TCUP_SERVER" in proc.stderr


def test_check_guideline_lists_warnings(interop_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["check-guideline", "-g", str(interop_dir / "2020.06.json"), "--strict"])
    assert result.exit_code == 1
    assert "warning:" in result.stdout and "acheivements" in result.stdout
    assert result.stdout.strip().endswith("15 warnings")
