"""Compliance of one run with one guideline and target: RefStack's rule, and more.

The verdict reproduces the rule RefStack computed in its browser UI (REFERENCE §5):
every non-flagged test entry of every required capability of the target must have
passed, matching by exact name or alias. Alongside it, and never changing it, the
report gives the verdict when idempotent ids also count (so a test renamed by a newer
Tempest still matches), per-capability counts, distinct-test counts and the add-on's
prerequisites that RefStack never checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from interop_model.guidelines import STATUSES, Guideline, Status, TestEntry
from interop_model.results import CaseResult, RunReport


@dataclass(frozen=True, slots=True, kw_only=True)
class TestVerdict:
    """One test entry of a capability, judged against a run."""

    __test__ = False

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
        distinct_passed = {t.name for c in self.capabilities if c.status is Status.REQUIRED
                           for t in c.tests if t.passed}
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
                "count": required.count, "passed": required.passed,
                "flag_pass": required.flag_pass, "flag_fail": required.flag_fail,
                "percent": _percent(required.passed, required.count),
                "percent_non_flagged": _percent(required.passed - required.flag_pass, non_flagged),
                "distinct_tests": len(distinct), "distinct_passed": len(distinct_passed),
            },
            "totals": {s.value: {"count": t.count, "passed": t.passed, "flag_pass": t.flag_pass,
                                 "flag_fail": t.flag_fail} for s, t in self.totals.items()},
            "prerequisites": list(self.prerequisites),
            "capabilities": [
                {"name": c.name, "status": c.status.value, "defined": c.defined, "complete": c.complete,
                 "total": len(c.tests), "passed": c.count("passed"), "failed": c.count("failed"),
                 "flagged": c.count("flagged"), "missing": c.count("missing"),
                 "tests": [{"name": t.name, "idempotent_id": str(t.idempotent_id) if t.idempotent_id else None,
                            "state": t.state, "flagged": t.flagged, "flag_reason": t.flag_reason,
                            "passed_by_name": t.passed_by_name, "passed_by_id": t.passed_by_id,
                            "matched_as": t.matched_as}
                           for t in c.tests]}
                for c in self.capabilities
            ],
        }


def evaluate(guideline: Guideline, target: str, run: RunReport) -> ComplianceReport:
    """Judge ``run`` against ``guideline`` for ``target`` (raises UnknownTarget)."""
    program = guideline.program(target)
    statuses = guideline.target_statuses(target)
    by_name: dict[str, CaseResult] = {}
    by_id: dict[UUID, CaseResult] = {}
    for case in run.results:
        # a pass wins over any other outcome recorded for the same name or id
        if case.passed or case.test_id not in by_name:
            by_name[case.test_id] = case
        if case.idempotent_id is not None and (case.passed or case.idempotent_id not in by_id):
            by_id[case.idempotent_id] = case
    aliases_count = not guideline.schema == "1.2"

    results: list[CapabilityResult] = []
    order = {s: i for i, s in enumerate(STATUSES)}
    for name, status in sorted(statuses.items(), key=lambda kv: (order[kv[1]], kv[0])):
        capability = guideline.capabilities.get(name)
        tests = tuple(_judge(e, by_name, by_id, aliases_count) for e in capability.tests) if capability else ()
        results.append(CapabilityResult(name=name, status=status, defined=capability is not None, tests=tests))

    totals = {s: _totals([c for c in results if c.status is s]) for s in STATUSES}
    required = [t for c in results if c.status is Status.REQUIRED for t in c.tests]
    return ComplianceReport(
        guideline=guideline.id, schema=guideline.schema, target=target, program=program.name,
        capabilities=tuple(results), totals=totals,
        refstack_compliant=all(t.passed_by_name or t.flagged for t in required),
        compliant_by_id=all(t.passed or t.flagged for t in required),
        prerequisites=program.prerequisites,
    )


def _judge(entry: TestEntry, by_name: dict[str, CaseResult], by_id: dict[UUID, CaseResult],
           aliases_count: bool) -> TestVerdict:
    names = entry.names() if aliases_count else (entry.name,)
    hit = next((by_name[n] for n in names if n in by_name and by_name[n].passed), None)
    seen = hit or next((by_name[n] for n in names if n in by_name), None)
    id_hit = by_id.get(entry.uuid) if entry.uuid is not None else None
    if id_hit is not None and (seen is None or (hit is None and id_hit.passed)):
        seen = id_hit
    matched = seen.test_id if seen is not None and seen.test_id != entry.name else None
    return TestVerdict(
        name=entry.name, idempotent_id=entry.uuid, flagged=entry.flagged,
        flag_reason=entry.flag.reason if entry.flag else None,
        passed_by_name=hit is not None,
        passed_by_id=id_hit is not None and id_hit.passed,
        matched_as=matched,
        outcome=seen.outcome.value if seen is not None else None,
        reason=seen.reason if seen is not None and not seen.passed else None,
    )


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
