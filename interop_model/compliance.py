"""Compliance of one run with one guideline and target: RefStack's rule, and more.

The verdict reproduces the rule RefStack computed in its browser UI:
every non-flagged test entry of every required capability of the target must have
passed, matching by exact name or alias. Alongside it, and never changing it, the
report gives the verdict when idempotent ids also count (so a test renamed by a newer
Tempest still matches), per-capability counts, distinct-test counts and the add-on's
prerequisites that RefStack never checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

from interop_model.exemptions import Exemption, ExemptionIndex
from interop_model.guidelines import STATUSES, Guideline, Program, Status
from interop_model.results import CaseResult, Outcome, RunReport


class TestVerdict(NamedTuple):
    """One test entry of a capability, judged against a run (a named tuple: a report makes hundreds)."""

    name: str
    idempotent_id: UUID | None
    flagged: bool
    flag_reason: str | None
    passed_by_name: bool  # RefStack's rule: the name or an alias passed
    passed_by_id: bool  # a passed test carried the same idempotent id
    matched_as: str | None  # the run's test name that matched, when it differs from ``name``
    outcome: str | None  # the run's outcome for this test, when the run reports it
    reason: str | None  # the failure or skip reason, when the run reports it

    @property
    def passed(self) -> bool:
        """Passed by name, alias or idempotent id."""
        return self.passed_by_name or self.passed_by_id

    @property
    def state(self) -> str:
        """``passed``, ``flagged``, ``failed`` (run, did not pass) or ``missing`` (not run)."""
        if self.passed:
            return "passed"
        if self.flagged:
            return "flagged"
        return "failed" if self.outcome is not None else "missing"


TestVerdict.__test__ = False  # type: ignore[attr-defined]  # NOTE: not a pytest test class


@dataclass(frozen=True, slots=True, kw_only=True)
class CapabilityResult:
    """One capability of the target, with its status and the verdict of each test."""

    name: str
    status: Status
    defined: bool
    tests: tuple[TestVerdict, ...]

    def count(self, state: str) -> int:
        """How many tests are in ``state`` (see :attr:`TestVerdict.state`)."""
        return sum(1 for t in self.tests if t.state == state)

    @property
    def complete(self) -> bool:
        """Every non-flagged test passed (by name, alias or id)."""
        return all(t.passed or t.flagged for t in self.tests)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusTotals:
    """RefStack's per-status counters, counted per entry."""

    count: int
    passed: int
    flag_pass: int
    flag_fail: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplianceReport:
    """The full report of a run against a guideline and target."""

    guideline: str
    schema: str
    target: str
    program: str
    capabilities: tuple[CapabilityResult, ...]
    totals: dict[Status, StatusTotals]
    refstack_compliant: bool  # RefStack's exact verdict (names and aliases)
    compliant_by_id: bool  # the same rule when idempotent ids also match
    prerequisites: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view, as the API and ``tcup run`` write it."""
        required = self.totals[Status.REQUIRED]
        distinct = {t.name for c in self.capabilities if c.status is Status.REQUIRED for t in c.tests}
        distinct_passed = {
            t.name for c in self.capabilities if c.status is Status.REQUIRED for t in c.tests if t.passed
        }
        non_flagged = required.count - required.flag_pass - required.flag_fail
        return {
            "guideline": self.guideline,
            "schema": self.schema,
            "target": self.target,
            "program": self.program,
            "compliant": self.refstack_compliant,
            "compliant_by_id": self.compliant_by_id,
            "verdict": "YES" if self.refstack_compliant else "NO",
            "required": {
                "count": required.count,
                "passed": required.passed,
                "flag_pass": required.flag_pass,
                "flag_fail": required.flag_fail,
                "percent": _percent(required.passed, required.count),
                "percent_non_flagged": _percent(required.passed - required.flag_pass, non_flagged),
                "distinct_tests": len(distinct),
                "distinct_passed": len(distinct_passed),
            },
            "totals": {
                s.value: {"count": t.count, "passed": t.passed, "flag_pass": t.flag_pass, "flag_fail": t.flag_fail}
                for s, t in self.totals.items()
            },
            "prerequisites": list(self.prerequisites),
            "capabilities": [_capability_dict(c) for c in self.capabilities],
        }


class _PlannedEntry(NamedTuple):
    name: str
    uuid: UUID | None
    uuid_int: int | None
    names: tuple[str, ...]  # the names that count: the name, then its aliases (not for schema 1.2)
    flagged: bool
    flag_reason: str | None


class _Plan(NamedTuple):
    """What judging a run against one guideline and target needs, worked out once."""

    program: Program
    capabilities: tuple[tuple[str, Status, tuple[_PlannedEntry, ...] | None], ...]  # None: not defined


_plans: dict[tuple[int, str], tuple[Guideline, _Plan]] = {}


def _plan(guideline: Guideline, target: str) -> _Plan:
    """The plan of a guideline and target, kept for the 64 last used (guidelines never change)."""
    found = _plans.get((id(guideline), target))
    if found is not None and found[0] is guideline:
        return found[1]
    program = guideline.program(target)
    aliases_count = guideline.schema != "1.2"
    order = {s: i for i, s in enumerate(STATUSES)}
    capabilities = []
    for name, status in sorted(guideline.target_statuses(target).items(), key=lambda kv: (order[kv[1]], kv[0])):
        capability = guideline.capabilities.get(name)
        entries = (
            None
            if capability is None
            else tuple(
                _PlannedEntry(
                    name=e.name,
                    uuid=e.uuid,
                    uuid_int=e.uuid.int if e.uuid is not None else None,
                    names=e.names() if aliases_count else (e.name,),
                    flagged=e.flagged,
                    flag_reason=e.flag.reason if e.flag else None,
                )
                for e in capability.tests
            )
        )
        capabilities.append((name, status, entries))
    plan = _Plan(program=program, capabilities=tuple(capabilities))
    if len(_plans) >= 64:
        _plans.clear()
    _plans[(id(guideline), target)] = (guideline, plan)  # NOTE: holding the guideline keeps its id unique
    return plan


def evaluate(guideline: Guideline, target: str, run: RunReport) -> ComplianceReport:
    """Judge ``run`` against ``guideline`` for ``target`` (raises UnknownTarget)."""
    plan = _plan(guideline, target)
    program = plan.program
    by_name: dict[str, CaseResult] = {}
    by_id: dict[int, CaseResult] = {}  # NOTE: keyed by UUID.int, which hashes far faster than a UUID
    success = Outcome.SUCCESS
    for case in run.results:
        # a pass wins over any other outcome recorded for the same name or id
        passed = case.outcome is success
        if passed or case.test_id not in by_name:
            by_name[case.test_id] = case
        uuid = case.idempotent_id
        if uuid is not None and (passed or uuid.int not in by_id):
            by_id[uuid.int] = case

    results: list[CapabilityResult] = []
    for name, status, entries in plan.capabilities:
        tests = tuple(_judge(e, by_name, by_id) for e in entries) if entries is not None else ()
        results.append(CapabilityResult(name=name, status=status, defined=entries is not None, tests=tests))

    totals = {s: _totals([c for c in results if c.status is s]) for s in STATUSES}
    required = [t for c in results if c.status is Status.REQUIRED for t in c.tests]
    return ComplianceReport(
        guideline=guideline.id,
        schema=guideline.schema,
        target=target,
        program=program.name,
        capabilities=tuple(results),
        totals=totals,
        refstack_compliant=all(t.passed_by_name or t.flagged for t in required),
        compliant_by_id=all(t.passed or t.flagged for t in required),
        prerequisites=program.prerequisites,
    )


def _judge(entry: _PlannedEntry, by_name: dict[str, CaseResult], by_id: dict[int, CaseResult]) -> TestVerdict:
    hit: CaseResult | None = None  # the first name (or alias) that passed
    seen: CaseResult | None = None  # else the first one the run reports at all
    for name in entry.names:
        case = by_name.get(name)
        if case is not None:
            if case.outcome is Outcome.SUCCESS:
                hit = seen = case
                break
            if seen is None:
                seen = case
    id_hit = by_id.get(entry.uuid_int) if entry.uuid_int is not None else None
    id_passed = id_hit is not None and id_hit.outcome is Outcome.SUCCESS
    if id_hit is not None and (seen is None or (hit is None and id_passed)):
        seen = id_hit
    if seen is None:
        return TestVerdict(entry.name, entry.uuid, entry.flagged, entry.flag_reason, False, False, None, None, None)
    return TestVerdict(
        entry.name,
        entry.uuid,
        entry.flagged,
        entry.flag_reason,
        hit is not None,
        id_passed,
        seen.test_id if seen.test_id != entry.name else None,
        seen.outcome.value,
        seen.reason if seen.outcome is not Outcome.SUCCESS else None,
    )


def _capability_dict(c: CapabilityResult) -> dict[str, Any]:
    tests = []
    counts = {"passed": 0, "failed": 0, "flagged": 0, "missing": 0}
    for t in c.tests:
        state = t.state
        counts[state] += 1
        tests.append(
            {
                "name": t.name,
                "idempotent_id": str(t.idempotent_id) if t.idempotent_id else None,
                "state": state,
                "flagged": t.flagged,
                "flag_reason": t.flag_reason,
                "passed_by_name": t.passed_by_name,
                "passed_by_id": t.passed_by_id,
                "matched_as": t.matched_as,
            }
        )
    return {
        "name": c.name,
        "status": c.status.value,
        "defined": c.defined,
        "complete": all(t["state"] == "passed" or t["flagged"] for t in tests),
        "total": len(tests),
        **counts,
        "tests": tests,
    }


def _totals(caps: list[CapabilityResult]) -> StatusTotals:
    tests = [t for c in caps for t in c.tests]
    return StatusTotals(
        count=len(tests),
        passed=sum(t.passed_by_name for t in tests),
        flag_pass=sum(t.flagged and t.passed_by_name for t in tests),
        flag_fail=sum(t.flagged and not t.passed_by_name for t in tests),
    )


def _percent(part: int, whole: int) -> float:
    return round(part * 100.0 / whole, 1) if whole else 100.0


# -- the two verdicts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ExemptedTest:
    """A required test that did not pass and that an exemption covers (never counted as a pass)."""

    capability: str
    test: TestVerdict
    exemption: Exemption


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdicts:
    """RefStack's verdict and tcup's, for the capabilities a run selected and for its whole target.

    tcup's verdict: every required test of the judged capabilities passed (by name, alias or
    idempotent id), is flagged, or is covered by an exemption that holds for the run; a required
    capability the guideline does not define is never complete. RefStack's verdict is
    :attr:`ComplianceReport.refstack_compliant`, untouched.
    """

    tcup_compliant: bool  # the selected capabilities (the whole target when ``selected`` is None)
    refstack_compliant: bool  # RefStack's exact rule, whole target
    tcup_whole_target: bool
    refstack_selected: bool  # RefStack's rule over the selected capabilities only
    selected: tuple[str, ...] | None  # the judged capabilities of the target, None: every one
    not_selected: tuple[str, ...]  # required capabilities of the target the run did not select
    exempted: tuple[ExemptedTest, ...]  # in the judged capabilities

    @property
    def differ(self) -> bool:
        """tcup's verdict and RefStack's are not the same."""
        return self.tcup_compliant != self.refstack_compliant

    @property
    def exemptions_used(self) -> list[Exemption]:
        """Each exemption that covered a test, once."""
        return list({e.exemption.test: e.exemption for e in self.exempted}.values())

    def to_dict(self) -> dict[str, Any]:
        """The fields added beside :meth:`ComplianceReport.to_dict` (as ``compliance.json`` names them)."""
        return {
            "refstack_compliant": self.refstack_compliant,
            "tcup_compliant": self.tcup_compliant,
            "verdicts": {
                "tcup": "YES" if self.tcup_compliant else "NO",
                "refstack": "YES" if self.refstack_compliant else "NO",
                "differ": self.differ,
            },
            "judged_capabilities": list(self.selected) if self.selected is not None else None,
            "whole_target": {
                "tcup_compliant": self.tcup_whole_target,
                "refstack_compliant": self.refstack_compliant,
                "capabilities_not_selected": len(self.not_selected),
                "not_selected": list(self.not_selected),
            },
            "selected_refstack_compliant": self.refstack_selected,
            "exemptions": [e.to_dict() for e in self.exemptions_used],
            "exempted_tests": [
                {
                    "capability": e.capability,
                    "name": e.test.name,
                    "outcome": e.test.outcome,
                    "exemption": e.exemption.test,
                }
                for e in self.exempted
            ],
        }


def judge_verdicts(
    report: ComplianceReport,
    exemptions: Sequence[Exemption] = (),
    *,
    selected: Iterable[str] | None = None,
    outcomes: ComplianceReport | None = None,
) -> Verdicts:
    """Both verdicts of ``report``.

    :param exemptions: those that hold for the run (:func:`interop_model.exemptions.applicable_exemptions`).
    :param selected: the capabilities the run selected; None judges the whole target.
    :param outcomes: the report (same guideline and target) whose outcomes say whether an exemption
        covers a test, when ``report`` holds the passed tests only (a test not passed is then "not
        run" there, which would hide a failure); default: ``report`` itself.
    """
    evidence = outcomes if outcomes is not None else report
    if (evidence.guideline, evidence.target) != (report.guideline, report.target):
        raise ValueError("the outcomes must come from a report of the same guideline and target")
    wanted = set(selected) if selected is not None else None
    index = ExemptionIndex(exemptions)
    exempted: list[ExemptedTest] = []
    tcup_selected = tcup_whole = refstack_selected = True
    not_selected: list[str] = []
    for cap, seen in zip(report.capabilities, evidence.capabilities, strict=True):
        chosen = wanted is None or cap.name in wanted
        if cap.status is not Status.REQUIRED:
            continue
        if not chosen:
            not_selected.append(cap.name)
        complete = cap.defined
        for test, observed in zip(cap.tests, seen.tests, strict=True):
            if test.passed or test.flagged:
                continue
            exemption = index.find(test.name, test.idempotent_id)
            if exemption is not None and exemption.covers(observed.outcome):
                if chosen:
                    exempted.append(ExemptedTest(capability=cap.name, test=test, exemption=exemption))
                continue
            complete = False
        if chosen and any(not (t.passed_by_name or t.flagged) for t in cap.tests):
            refstack_selected = False
        tcup_whole = tcup_whole and complete
        if chosen:
            tcup_selected = tcup_selected and complete
    return Verdicts(
        tcup_compliant=tcup_selected,
        refstack_compliant=report.refstack_compliant,
        tcup_whole_target=tcup_whole,
        refstack_selected=refstack_selected,
        selected=tuple(sorted(wanted)) if wanted is not None else None,
        not_selected=tuple(not_selected),
        exempted=tuple(exempted),
    )
