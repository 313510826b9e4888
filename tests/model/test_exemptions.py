"""The shared exemption list and its version ranges (standard library only)."""

from __future__ import annotations

import pytest

from interop_model import CaseResult, Outcome, RunReport, Status, evaluate, judge_verdicts
from interop_model.exemptions import (
    ExemptionKind,
    InvalidExemptions,
    VersionRange,
    applicable_exemptions,
    bundled_exemptions,
    read_exemptions,
)

MARKER = "tempest.api.object_storage.test_account_services.AccountTest.test_list_containers_with_marker"


@pytest.mark.parametrize(
    ("spec", "version", "inside"),
    [
        (">=47.0.0", "47.0.0", True),
        (">=47.0.0", "47", True),
        (">=47.0.0", "48.1.0", True),
        (">=47.0.0", "46.0.0", False),
        (">=47.0.0", "46.9.9", False),
        (">=47.0.0,<48", "47.5.1", True),
        (">=47.0.0,<48", "48.0.0", False),
        (" >= 47 , < 48 ", "47.0.0", True),
        ("==47.0.0", "47", True),
        ("!=47.0.0", "47.0.0", False),
        (">46", "46.0.0", False),
        ("<=46", "46.0.0", True),
        (">=47.0.0", "47.0.0+local.1", True),
        (">=47.0.0", "48.0.0rc1", False),  # a pre-release gets no exemption
        (">=47.0.0", "47.0.1.dev3", False),
        (">=47.0.0", "not a version", False),
    ],
)
def test_version_ranges(spec: str, version: str, inside: bool) -> None:
    assert (version in VersionRange.parse(spec)) is inside


@pytest.mark.parametrize("spec", ["", "47", "~=47.0", "==47.*", ">=47.0.0rc1", ">=47;<48", ">=47,,<48", "=>47"])
def test_anything_but_simple_clauses_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="clause|empty"):
        VersionRange.parse(spec)


def test_the_range_prints_as_written() -> None:
    assert str(VersionRange.parse(" >= 47.0.0 , <48")) == ">=47.0.0,<48"


def test_the_bundled_list_holds_the_marker_test_for_tempest_47_only() -> None:
    (marker,) = [e for e in bundled_exemptions() if e.test == MARKER]
    assert marker.kind is ExemptionKind.TEMPEST_NON_ADMIN and "bug#2147232" in marker.reason
    assert "launchpad" in marker.source
    assert applicable_exemptions([marker], "47.0.0") == [marker]
    assert applicable_exemptions([marker], "46.0.0") == [] and applicable_exemptions([marker], None) == []
    assert marker.covers("skip") and marker.covers(None) and not marker.covers("fail")
    assert marker.to_dict()["tempest"] == ">=47.0.0"


def test_every_problem_of_a_document_is_listed() -> None:
    data = {"exemptions": [{"test": "t", "kind": "nope", "tempest": "about 47", "reason": "r", "source": "", "x": 1}]}
    with pytest.raises(InvalidExemptions) as caught:
        read_exemptions(data, source="x.json")
    problems = caught.value.problems
    assert any("unknown field 'x'" in p for p in problems)
    assert any("kind must be" in p for p in problems)
    assert any("about 47" in p for p in problems)
    assert any("'source'" in p for p in problems)
    with pytest.raises(InvalidExemptions):
        read_exemptions([1, 2], source="x.json")


# -- the two verdicts ---------------------------------------------------------------------------


def _object_run(interop_dir, marker_outcome: Outcome | None, *, passed_only: bool = False):
    from interop_model.guideline_loader import load_guideline_text

    guideline = load_guideline_text((interop_dir / "2020.06.json").read_text(), source="2020.06.json")
    results = []
    for cap in guideline.target_capabilities("platform", [Status.REQUIRED]):
        if not cap.startswith("objectstore-"):
            continue
        for entry in guideline.capabilities[cap].tests:
            if entry.name == MARKER:
                if marker_outcome is not None and not passed_only:
                    results.append(CaseResult(test_id=entry.name, idempotent_id=entry.uuid, outcome=marker_outcome))
            elif not entry.flagged:
                results.append(CaseResult(test_id=entry.name, idempotent_id=entry.uuid))
    return guideline, RunReport(cpid="c", duration_seconds=1, results=tuple(results))


def test_an_exempted_skip_makes_the_selected_capabilities_compliant(interop_dir) -> None:
    guideline, run = _object_run(interop_dir, Outcome.SKIP)
    report = evaluate(guideline, "platform", run)
    selected = [c for c in guideline.target_capabilities("platform", [Status.REQUIRED]) if c.startswith("objectstore-")]
    verdicts = judge_verdicts(report, applicable_exemptions(bundled_exemptions(), "47.0.0"), selected=selected)
    assert verdicts.tcup_compliant and not verdicts.refstack_compliant and verdicts.differ
    assert not verdicts.refstack_selected and not verdicts.tcup_whole_target
    required = [c for c, s in guideline.target_statuses("platform").items() if s.value == "required"]
    assert len(verdicts.not_selected) == len(required) - len(selected)
    (exempted,) = verdicts.exempted
    assert exempted.test.name == MARKER and exempted.capability == "objectstore-account-list"
    data = verdicts.to_dict()
    assert data["verdicts"] == {"tcup": "YES", "refstack": "NO", "differ": True}
    assert data["exemptions"][0]["test"] == MARKER and data["whole_target"]["capabilities_not_selected"] > 0

    # another Tempest: no exemption; a failure: never covered
    assert not judge_verdicts(
        report, applicable_exemptions(bundled_exemptions(), "46.0.0"), selected=selected
    ).tcup_compliant
    failed = evaluate(guideline, "platform", _object_run(interop_dir, Outcome.FAIL)[1])
    assert not judge_verdicts(failed, bundled_exemptions(), selected=selected).tcup_compliant


def test_passed_only_evidence_takes_the_outcomes_from_the_full_report(interop_dir) -> None:
    guideline, full_run = _object_run(interop_dir, Outcome.FAIL)
    passed_only = evaluate(guideline, "platform", _object_run(interop_dir, Outcome.FAIL, passed_only=True)[1])
    exemptions = bundled_exemptions()
    caps = [c for c in guideline.target_capabilities("platform", [Status.REQUIRED]) if c.startswith("objectstore-")]
    # on its own, a test not passed looks "not run", which the exemption would cover ...
    assert judge_verdicts(passed_only, exemptions, selected=caps).tcup_compliant
    # ... so the full report's outcome (a failure) decides
    full = evaluate(guideline, "platform", full_run)
    assert not judge_verdicts(passed_only, exemptions, selected=caps, outcomes=full).tcup_compliant
    skipped = evaluate(guideline, "platform", _object_run(interop_dir, Outcome.SKIP)[1])
    assert judge_verdicts(passed_only, exemptions, selected=caps, outcomes=skipped).tcup_compliant
    with pytest.raises(ValueError):
        judge_verdicts(passed_only, exemptions, outcomes=evaluate(guideline, "object", full_run))
