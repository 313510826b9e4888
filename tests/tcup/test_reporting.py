"""Output files: the upload bytes, the compliance document with unresolved tests, and secret scrubbing."""

from __future__ import annotations

import io
import json
from pathlib import Path
from uuid import UUID

import pytest
from rich.console import Console

from interop_model.compliance import evaluate
from interop_model.guidelines import Status
from interop_model.results import CaseResult, Outcome, RunReport
from interop_model.wire import dumps_v1, loads_extended, to_v1_document
from tcup.commands.report_view import print_compliance
from tcup.exemptions import load_exemptions
from tcup.guideline_source import load_guideline
from tcup.reporting import (
    ComplianceSection,
    compliance_document,
    counts_line,
    scrub_outputs,
    write_run_documents,
)
from tcup.resolution import resolve_entries, select_entries
from tcup.subunit_reader import read_results_file
from tcup.test_index import TempestInstall, TestIndex
from tcup.verdicts import judge_section
from tests.tcup.subunit_streams import stream_bytes

SECRET = "pa55-w0rd-xyz"
TOKEN = "gAAAAABtoken-0123"


def _run() -> RunReport:
    return RunReport(
        cpid="c",
        duration_seconds=3,
        results=(
            CaseResult(test_id="tempest.a.B.test_ok", idempotent_id=UUID(int=1), outcome=Outcome.SUCCESS, duration=0.5),
            CaseResult(test_id="tempest.a.B.test_skip", outcome=Outcome.SKIP, reason="no nova"),
        ),
    )


def test_run_documents(tmp_path: Path) -> None:
    paths = write_run_documents(tmp_path, _run())
    assert paths["v1"].read_bytes() == dumps_v1(to_v1_document(_run()))  # exactly what is uploaded
    assert loads_extended(paths["extended"].read_bytes()) == _run()
    assert counts_line(_run().counts()) == "1 passed, 0 failed, 1 skipped"


def test_compliance_document_and_table(interop_dir: Path, subunit_fixtures: Path) -> None:
    guideline = load_guideline(str(interop_dir / "2020.06.json"))
    read = read_results_file(subunit_fixtures / "interop-2020.06-nonadmin.subunit")
    run = RunReport(cpid="c", duration_seconds=1, results=tuple(read.results))
    entries = select_entries(
        guideline,
        "platform",
        statuses=[Status.REQUIRED],
        capabilities=["identity-v3-tokens-create", "objectstore-account-list"],
        flagged=False,
    )
    # a local Tempest that lacks one test and renamed another
    ids = [f"{r.test_id}[id-{r.idempotent_id}]" for r in read.results if r.idempotent_id]
    renamed = ids[0]
    ids = [i for i in ids if i != renamed] + [renamed.replace(".test_", ".test_renamed_", 1)]
    index = TestIndex(TempestInstall("47.0.0", "/t", ()), ids)
    resolution = resolve_entries(entries, index)
    report = evaluate(guideline, "platform", run)
    selected = ["identity-v3-tokens-create", "objectstore-account-list"]
    verdict = judge_section(report, resolution, load_exemptions(), selected=selected)
    section = ComplianceSection(report, resolution, verdict)
    doc = compliance_document([section])
    (report,) = doc["reports"]
    assert report["guideline"] == "2020.06" and report["target"] == "platform"
    assert report["tempest_version"] == "47.0.0" and sum(report["resolution"].values()) == len(entries)
    caps = {c["name"]: c for c in report["capabilities"]}
    assert caps["identity-v3-tokens-create"]["complete"]
    # the test Tempest 47 skips non-admin is exempted, never a failure
    assert caps["objectstore-account-list"]["failed"] == 0 and caps["objectstore-account-list"]["exempted"] == 1
    assert {u["match"] for u in report["unresolved"]} <= {"missing", "renamed", "alias"}
    out = io.StringIO()
    print_compliance(Console(file=out, width=200), [section])
    text = out.getvalue()
    assert "identity-v3-tokens-create" in text and "objectstore-account-create" not in text
    assert "Verdict: YES" in text and "RefStack-compatible verdict: NO" in text


def test_scrub_outputs_text_and_subunit(tmp_path: Path) -> None:
    (tmp_path / "tempest.log").write_text(f"login with {SECRET} ok\nX-Auth-Token: {TOKEN}\n")
    (tmp_path / "clean.json").write_text(json.dumps({"a": 1}))
    stream = tmp_path / "tempest.subunit"
    stream.write_bytes(stream_bytes([("tempest.a.B.test_x", "fail", f"password={SECRET}")]))
    changed = scrub_outputs(tmp_path, [SECRET, TOKEN, "", "ab"])
    assert sorted(p.name for p in changed) == ["tempest.log", "tempest.subunit"]
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert SECRET.encode() not in data and TOKEN.encode() not in data
    (case,) = read_results_file(stream).results
    assert case.reason == "password=***"
    assert not list(tmp_path.glob("*.scrub"))


@pytest.mark.parametrize("secrets", [[], ["x"]])
def test_scrub_outputs_ignores_empty_and_tiny_secrets(tmp_path: Path, secrets: list[str]) -> None:
    (tmp_path / "f").write_text("x y z")
    assert scrub_outputs(tmp_path, secrets) == []
