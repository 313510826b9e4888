"""Every required test gets a state that says why it did not pass; two verdicts, never a skip as a failure.

The streams are recorded subunit v2 bytes (written as stestr's workers write them) for the platform
target of 2020.06, with one test of each kind of non-pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interop_model.compliance import evaluate
from interop_model.guidelines import Status
from interop_model.results import RunReport
from tcup.exemptions import applicable_exemptions, load_exemptions, read_exemptions
from tcup.guideline_source import load_guideline
from tcup.reporting import ComplianceSection, compliance_document
from tcup.resolution import resolve_entries, select_entries
from tcup.subunit_reader import read_results_file
from tcup.test_index import TempestInstall, TestIndex
from tcup.verdicts import TestState, account_need, judge_section
from tests.tcup.subunit_streams import stream_bytes

MARKER = "tempest.api.object_storage.test_account_services.AccountTest.test_list_containers_with_marker"
RESELLER = (
    "AccountQuotasTest skipped because the configured credential provider is not able to provide "
    "credentials with the ResellerAdmin role assigned."
)
INSUFFICIENT = (
    "Traceback (most recent call last):\n  ...\ntempest.lib.exceptions.InvalidCredentials: Invalid Credentials\n"
    "Details: Insufficient number of users provided. u1,u2 have allocated all the credentials for this "
    "allocation request"
)


def _judge(interop_dir: Path, tmp_path: Path, outcomes: dict[str, tuple[str, str | None]], drop: set[str]):
    guideline = load_guideline(str(interop_dir / "2020.06.json"))
    entries = select_entries(guideline, "platform", statuses=[Status.REQUIRED], flagged=True)
    ids = {e.name: f"{e.name}[id-{e.uuid}]" for _, _, e in entries if e.uuid}
    index = TestIndex(TempestInstall("47.0.0", "/t", ()), [i for n, i in ids.items() if n not in drop])
    resolution = resolve_entries(entries, index)
    tests = []
    for name, local in ids.items():
        if name in drop or outcomes.get(name) == ("absent", None):
            continue
        status, reason = outcomes.get(name, ("success", None))
        tests.append((local, status, reason))
    stream = tmp_path / "tempest.subunit"
    stream.write_bytes(stream_bytes(tests))
    run = RunReport(cpid="c", duration_seconds=1, results=tuple(read_results_file(stream).results))
    report = evaluate(guideline, "platform", run)
    exemptions = applicable_exemptions(load_exemptions(), "47.0.0")
    verdict = judge_section(report, resolution, exemptions)
    return guideline, entries, report, resolution, verdict


def test_each_kind_of_non_pass_is_named(interop_dir: Path, tmp_path: Path) -> None:
    guideline = load_guideline(str(interop_dir / "2020.06.json"))
    entries = select_entries(guideline, "platform", statuses=[Status.REQUIRED], flagged=True)
    names = [e.name for _, _, e in entries if e.uuid and not e.flagged and e.name != MARKER]
    flagged = next(e.name for _, _, e in entries if e.flagged)
    quota, alt, skipped, failed, absent, missing = names[:6]
    outcomes = {
        MARKER: ("skip", "Skipped because of bug#2147232."),
        quota: ("skip", RESELLER),
        alt: ("fail", INSUFFICIENT),
        skipped: ("skip", "Object versioning is not enabled"),
        failed: ("fail", "Traceback (most recent call last):\nAssertionError: 404 != 200"),
        flagged: ("fail", "Traceback:\nboom"),
        absent: ("absent", None),
    }
    _, _, report, resolution, verdict = _judge(interop_dir, tmp_path, outcomes, drop={missing})
    state = {(t.name): t for t in verdict.tests}
    assert state[MARKER].state is TestState.EXEMPTED and "bug#2147232" in state[MARKER].detail
    assert state[MARKER].exemption is not None and "launchpad" in state[MARKER].exemption.source
    assert state[quota].state is TestState.NEEDS_ACCOUNTS
    assert state[quota].detail == "needs a user with the ResellerAdmin role"
    assert state[alt].state is TestState.NEEDS_ACCOUNTS and "tcup accounts" in state[alt].action
    assert state[skipped].state is TestState.SKIPPED and "Object versioning is not enabled" in state[skipped].detail
    assert state[failed].state is TestState.FAILED and state[failed].detail == "AssertionError: 404 != 200"
    assert state[flagged].state is TestState.FLAGGED
    assert state[absent].state is TestState.NOT_RUN
    assert state[missing].state is TestState.MISSING and "47.0.0" in state[missing].detail
    assert all(t.action for t in verdict.not_passed() if t.state is not TestState.PASSED)
    assert not verdict.tcup_compliant and not verdict.refstack_compliant

    doc = compliance_document([ComplianceSection(report, resolution, verdict)])
    (data,) = doc["reports"]
    counts = data["required_states"]
    assert counts["failed"] == 1 and counts["skipped"] == 1 and counts["needs-accounts"] == 2
    assert counts["exempted"] == 1 and counts["missing"] == 1 and counts["not-run"] == 1
    # a skip is never a failure, in any capability's counts
    for cap in data["capabilities"]:
        assert cap["failed"] == sum(1 for t in cap["tests"] if t["state"] == "failed")
        assert all(t["outcome"] != "skip" for t in cap["tests"] if t["state"] == "failed")
    assert {row["state"] for row in data["not_passed"]} == {
        "exempted",
        "needs-accounts",
        "skipped",
        "failed",
        "flagged",
        "not-run",
        "missing",
    }
    assert data["exemptions"][0]["test"] == MARKER and data["exemptions"][0]["kind"] == "tempest-non-admin"


def test_a_clean_cloud_is_compliant_by_tcup_and_refstack_says_why_not(interop_dir: Path, tmp_path: Path) -> None:
    outcomes = {MARKER: ("skip", "Skipped because of bug#2147232.")}
    _, _, report, _, verdict = _judge(interop_dir, tmp_path, outcomes, drop=set())
    assert verdict.tcup_compliant and not verdict.refstack_compliant and verdict.verdicts_differ
    assert [t.name for t in verdict.not_passed()] == [MARKER]


def test_exemption_never_covers_a_failure_or_another_tempest(interop_dir: Path, tmp_path: Path) -> None:
    outcomes = {MARKER: ("fail", "Traceback:\nAssertionError")}
    _, _, _, _, verdict = _judge(interop_dir, tmp_path, outcomes, drop=set())
    assert not verdict.tcup_compliant
    assert next(t for t in verdict.tests if t.name == MARKER).state is TestState.FAILED
    assert applicable_exemptions(load_exemptions(), "46.0.0") == []


def test_environment_exemptions_apply_only_when_asked() -> None:
    text = """exemptions:
  - test: tempest.api.compute.servers.test_x.T.test_y
    kind: environment
    environment: devcloud
    tempest: ">=40"
    when: not-passed
    reason: a fake hypervisor has no console
    source: nova fake driver
"""
    (exemption,) = read_exemptions(text, source="x.yaml")
    assert not applicable_exemptions([exemption], "47.0.0")
    assert applicable_exemptions([exemption], "47.0.0", ["devcloud"]) == [exemption]
    assert exemption.covers("fail") and not exemption.covers("success")


@pytest.mark.parametrize(
    "text",
    [
        "exemptions: 3",
        "exemptions:\n  - test: t\n    kind: nope\n    tempest: '>=1'\n    reason: r\n    source: s",
        "exemptions:\n  - test: t\n    kind: environment\n    tempest: '>=1'\n    reason: r\n    source: s",
        "exemptions:\n  - test: t\n    kind: tempest-non-admin\n    tempest: 'about 47'\n    reason: r\n    source: s",
        "exemptions:\n  - {test: t, kind: tempest-non-admin, tempest: '>=1', reason: r, source: s, extra: 1}",
    ],
)
def test_bad_exemption_files_are_refused(text: str) -> None:
    from tcup.errors import TcupError

    with pytest.raises(TcupError):
        read_exemptions(text, source="x.yaml")


@pytest.mark.parametrize(
    ("reason", "need"),
    [
        ("Missing a 2nd set of API credentials in configuration.", "needs a second project's user (alt)"),
        ("No credentials with role: reader specified in the accounts file", "needs a user with the reader role"),
        ("Missing Identity Admin API credentials in configuration.", "needs admin credentials"),
        ("Object versioning is not enabled", None),
    ],
)
def test_account_needs(reason: str, need: str | None) -> None:
    found = account_need(reason)
    assert (found is None) if need is None else (found is not None and found.startswith(need))


@pytest.mark.parametrize(
    "outcomes",
    [
        {MARKER: ("skip", "Skipped because of bug#2147232.")},
        {MARKER: ("fail", "Traceback:\nAssertionError")},
        {MARKER: ("absent", None)},
        {},
    ],
)
def test_the_service_reaches_the_same_verdict(interop_dir: Path, tmp_path: Path, outcomes) -> None:
    """The shared model's verdict (what the service shows) is the runner's."""
    from interop_model.compliance import judge_verdicts

    _, _, report, _, verdict = _judge(interop_dir, tmp_path, outcomes, drop=set())
    shared = judge_verdicts(report, applicable_exemptions(load_exemptions(), "47.0.0"))
    assert shared.tcup_compliant == verdict.tcup_compliant and shared.refstack_compliant == verdict.refstack_compliant
    assert [e.test for e in shared.exemptions_used] == [e.test for e in verdict.exemptions_used]
