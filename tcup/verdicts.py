"""Why each required test did or did not pass, and the two verdicts.

Every test of a judged capability gets one state, with what it means and what the user can do:

========================  ===========================================================================
``passed``                it passed (by name, alias or idempotent id)
``failed``                it ran and failed
``skipped``               Tempest skipped it (its reason is shown): a feature tempest.conf says is absent
``needs-accounts``        it could not run for lack of accounts or roles (which ones is said)
``flagged``               the guideline flags it: it does not count, as in RefStack
``exempted``              the installed Tempest cannot run it non-admin (or the environment cannot
                          provide it): named with its reason and source, never counted as a pass
``missing``               the installed Tempest has no such test
``not-run``               the run has no result for it (interrupted, or left out by --regex)
========================  ===========================================================================

The **tcup verdict** is YES when every required test is passed, flagged or exempted. The
**RefStack verdict** is RefStack's exact rule (:func:`interop_model.compliance.evaluate`): it knows
no exemption and no idempotent id, so it is shown beside tcup's whenever they differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from interop_model.compliance import ComplianceReport, TestVerdict
from interop_model.exemptions import ExemptionIndex
from interop_model.guidelines import Status
from tcup.exemptions import Exemption
from tcup.resolution import Match, Resolution

__all__ = ["STATES", "CapabilityRow", "SectionVerdict", "TestRow", "TestState", "judge_section"]


class TestState(StrEnum):
    """What became of one required test."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NEEDS_ACCOUNTS = "needs-accounts"
    FLAGGED = "flagged"
    EXEMPTED = "exempted"
    MISSING = "missing"
    NOT_RUN = "not-run"


TestState.__test__ = False  # type: ignore[attr-defined]  # NOTE: not a pytest test class
STATES = tuple(TestState)
_SATISFIED = (TestState.PASSED, TestState.FLAGGED, TestState.EXEMPTED)

ACCOUNTS_ACTION = (
    "add the missing accounts: --accounts-file FILE, --extra-cloud NAME, or build a file with "
    "`tcup accounts --from-cloud A --from-cloud B -o accounts.yaml`"
)

# (pattern in Tempest's skip or failure text, what the test needs); the first match wins.
_ACCOUNT_NEEDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Missing a 2nd set of API credentials"), "needs a second project's user (alt)"),
    (
        re.compile(r"Insufficient number of users provided"),
        "needs more free accounts than the accounts file has (a second project's user, or one per worker)",
    ),
    (re.compile(r"Missing Identity Admin API credentials"), "needs admin credentials (not part of a non-admin run)"),
    (re.compile(r"credentials with the (\S+) role"), "needs a user with the {0} role"),
    (re.compile(r"No credentials with role: (\S+)"), "needs a user with the {0} role"),
    (re.compile(r"No credentials matching role: (\S+?),"), "needs a user with the {0} role"),
    (re.compile(r"No credentials with project_name: (\S+?)[, ]"), "needs a user in project {0}"),
    (re.compile(r"No accounts file specified"), "needs an accounts file"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TestRow:
    """One test of a judged capability: its state, why, and what the user can do."""

    capability: str
    status: Status
    name: str
    idempotent_id: str | None
    state: TestState
    detail: str
    action: str
    outcome: str | None
    passed_by_name: bool
    flagged: bool = False
    exemption: Exemption | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON view written to ``compliance.json``."""
        data: dict[str, Any] = {
            "capability": self.capability,
            "status": self.status.value,
            "name": self.name,
            "idempotent_id": self.idempotent_id,
            "state": self.state.value,
            "outcome": self.outcome,
            "passed_by_name": self.passed_by_name,
            "flagged": self.flagged,
            "detail": self.detail,
            "action": self.action,
        }
        if self.exemption is not None:
            data["exemption"] = self.exemption.to_dict()
        return data


TestRow.__test__ = False  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class CapabilityRow:
    """One capability: how many of its tests are in each state."""

    name: str
    status: Status
    defined: bool
    counts: dict[str, int]

    @property
    def complete(self) -> bool:
        """Every test passed, flagged or exempted."""
        return self.defined and all(self.counts[s.value] == 0 for s in STATES if s not in _SATISFIED)


@dataclass(frozen=True, slots=True, kw_only=True)
class SectionVerdict:
    """One guideline and target: the rows, and both verdicts."""

    report: ComplianceReport
    capabilities: list[CapabilityRow]
    tests: list[TestRow]
    tcup_compliant: bool
    selected: list[str] | None = None  # the judged capabilities, when not all of the target
    exemptions_used: list[Exemption] = field(default_factory=list)

    @property
    def refstack_compliant(self) -> bool:
        """RefStack's exact verdict for the whole target."""
        return self.report.refstack_compliant

    @property
    def verdicts_differ(self) -> bool:
        """True when tcup's verdict and RefStack's are not the same."""
        return self.tcup_compliant != self.refstack_compliant

    def not_passed(self) -> list[TestRow]:
        """Required tests that did not pass, in table order."""
        return [t for t in self.tests if t.status is Status.REQUIRED and t.state is not TestState.PASSED]


def judge_section(
    report: ComplianceReport,
    resolution: Resolution | None,
    exemptions: Sequence[Exemption] = (),
    *,
    selected: Iterable[str] | None = None,
) -> SectionVerdict:
    """Classify every test of the judged capabilities and reach tcup's verdict.

    :param exemptions: those that hold for this run (see :func:`tcup.exemptions.applicable_exemptions`).
    :param selected: judge only these capabilities (the run selected them); None judges all.
    """
    wanted = set(selected) if selected is not None else None
    missing = _missing_notes(resolution)
    index = ExemptionIndex(exemptions)
    rows: list[TestRow] = []
    caps: list[CapabilityRow] = []
    used: dict[str, Exemption] = {}
    for cap in report.capabilities:
        if wanted is not None and cap.name not in wanted:
            continue
        counts = dict.fromkeys((s.value for s in STATES), 0)
        for verdict in cap.tests:
            exemption = index.find(verdict.name, verdict.idempotent_id)
            row = _classify(cap.name, cap.status, verdict, exemption, missing.get((cap.name, verdict.name)))
            if row.exemption is not None:
                used[row.exemption.test] = row.exemption
            counts[row.state.value] += 1
            rows.append(row)
        caps.append(CapabilityRow(name=cap.name, status=cap.status, defined=cap.defined, counts=counts))
    required = [c for c in caps if c.status is Status.REQUIRED]
    return SectionVerdict(
        report=report,
        capabilities=caps,
        tests=rows,
        tcup_compliant=all(c.complete for c in required),
        selected=sorted(wanted) if wanted is not None else None,
        exemptions_used=list(used.values()),
    )


def _classify(
    capability: str, status: Status, t: TestVerdict, exemption: Exemption | None, missing_note: str | None
) -> TestRow:
    def row(state: TestState, detail: str, action: str, used: Exemption | None = None) -> TestRow:
        return TestRow(
            capability=capability,
            status=status,
            name=t.name,
            idempotent_id=str(t.idempotent_id) if t.idempotent_id else None,
            state=state,
            detail=detail,
            action=action,
            outcome=t.outcome,
            passed_by_name=t.passed_by_name,
            flagged=t.flagged,
            exemption=used,
        )

    if t.passed:
        detail = "" if t.passed_by_name else f"passed by idempotent id as {t.matched_as} (RefStack matches names only)"
        return row(TestState.PASSED, detail, "")
    reason = (t.reason or "").strip()
    if t.flagged:
        return row(TestState.FLAGGED, t.flag_reason or "flagged by the guideline", "none: flagged tests do not count")
    if exemption is not None and exemption.covers(t.outcome):
        return row(
            TestState.EXEMPTED,
            f"{exemption.reason} (source: {exemption.source})",
            "none: the installed Tempest cannot run it this way; the RefStack-compatible verdict still counts it",
            exemption,
        )
    if t.outcome is None:
        if missing_note is not None:
            return row(
                TestState.MISSING,
                missing_note,
                "install the Tempest (or plugin) the guideline was written for; `tcup list-tests --resolve` shows "
                "how each test matches",
            )
        return row(
            TestState.NOT_RUN,
            "the run has no result for this test (interrupted, or left out by --regex)",
            "run it again (the results of a complete run count)",
        )
    need = account_need(reason)
    if need is not None:
        return row(TestState.NEEDS_ACCOUNTS, need, ACCOUNTS_ACTION)
    if t.outcome == "skip":
        return row(
            TestState.SKIPPED,
            f"skipped by Tempest: {_last_line(reason) or 'no reason given'}",
            "if the cloud has this feature, enable it in tempest.conf with --tempest-option SECTION.KEY=VALUE; "
            "otherwise the cloud lacks this capability",
        )
    return row(
        TestState.FAILED,
        _last_line(reason) or f"outcome {t.outcome}",
        "see its traceback in run.json and tempest.log; fix the cloud (or its tempest.conf) and run again",
    )


def account_need(reason: str) -> str | None:
    """What a test needs, when its skip or failure text says it lacked accounts or roles."""
    for pattern, need in _ACCOUNT_NEEDS:
        found = pattern.search(reason)
        if found:
            return need.format(*found.groups())
    return None


def _missing_notes(resolution: Resolution | None) -> dict[tuple[str, str], str]:
    if resolution is None:
        return {}
    return {(r.capability, r.entry.name): r.note for r in resolution.items if r.how is Match.MISSING}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
