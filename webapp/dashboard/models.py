"""The dashboard's page models: plain dataclasses built from the store's records.

Queries and visibility are the store's (:mod:`webapp.store.runs`), as for the API.
Compliance comes from :func:`interop_model.evaluate`, exactly as
``GET /v1/results/<id>/compliance`` computes it: owner and Foundation are judged on
every outcome (with failure reasons), everyone else on the passed tests only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from interop_model import ComplianceReport, Provenance, RunReport, Status, Verdicts, evaluate
from interop_model.exemptions import Exemption
from webapp.store import Session
from webapp.store import runs as store
from webapp.store.accounts import Caller
from webapp.store.cache import Bounded
from webapp.store.catalog import LoadedGuideline
from webapp.store.runs import privileged, role_for, visible_meta

CAPABILITY_STATES = ("passed", "flagged", "failed", "missing", "undefined")


# -- the results list ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run as a list shows it; ``cpid`` only for its owner and the Foundation."""

    id: str
    created_at: datetime
    duration_seconds: int
    guideline: str
    target: str
    verified: bool
    signed: bool
    shared: bool
    test_count: int
    cpid: str | None
    role: str | None


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of a run list; past :data:`COUNT_LIMIT` runs the total is a lower bound."""

    rows: list[RunRow]
    total: int
    page: int
    pages: int | None  # None when there are more than COUNT_LIMIT runs
    more: bool  # a next page exists


COUNT_LIMIT = 10_000  # runs counted exactly; beyond, the list says "10,000+" (counting 100,000 rows is slow)


def run_row(record: store.RunRecord, caller: Caller) -> RunRow:
    """The list view of a run, with only what the caller's role may see."""
    role = role_for(caller, record)
    meta = visible_meta(record.meta, role)
    return RunRow(
        id=record.id,
        created_at=record.created_at,
        duration_seconds=record.duration_seconds,
        guideline=meta.get("guideline", ""),
        target=meta.get("target", ""),
        verified=record.verification_status == 1,
        signed=record.signed,
        shared=record.shared,
        test_count=record.test_count,
        cpid=record.cpid if privileged(role) else None,
        role=role,
    )


def list_runs(session: Session, caller: Caller, filters: store.RunFilters, *, page: int, per_page: int) -> RunPage:
    """One page of the runs the filters select, newest first (a page past the end shows the last
    one, when the total is known)."""
    total = store.count_runs(session, caller, filters, limit=COUNT_LIMIT)
    pages = max(1, -(-total // per_page)) if total <= COUNT_LIMIT else None
    page = max(min(page, pages or page), 1)
    records = store.list_runs(session, caller, filters, offset=(page - 1) * per_page, limit=per_page + 1)
    return RunPage(
        [run_row(r, caller) for r in records[:per_page]],
        min(total, COUNT_LIMIT),
        page,
        pages,
        more=len(records) > per_page,
    )


# -- one run against a guideline ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TestRow:
    """One test entry of a capability, judged; ``reason`` only for owner and Foundation."""

    __test__ = False

    name: str
    idempotent_id: str | None
    state: str
    flag_reason: str | None
    matched_as: str | None
    reason: str | None
    exemption: Exemption | None = None  # covers this test in tcup's verdict (never a pass)


@dataclass(frozen=True, slots=True)
class CapabilityRow:
    """One capability of the target with its status, overall state and tests."""

    name: str
    status: str
    defined: bool
    state: str  # one of CAPABILITY_STATES
    counts: dict[str, int]
    tests: tuple[TestRow, ...]
    exempted: int = 0  # tests an exemption covers in tcup's verdict


@dataclass(frozen=True, slots=True)
class ComplianceView:
    """A run against one guideline and target, as the run page shows it."""

    file: str
    target: str
    summary: dict[str, Any]  # ComplianceReport.to_dict() without its capabilities (the API's numbers)
    capabilities: list[CapabilityRow]
    required_states: dict[str, int]  # required capabilities by state
    evidence: str  # "extended" (every outcome) or "passed-only"
    verdicts: Verdicts | None = None  # both verdicts (tcup's honours exemptions and the run's selection)


def capability_state(tests: Sequence[TestRow], defined: bool) -> str:
    """``undefined``, ``failed`` (a non-flagged test failed), ``missing`` (one did not run or pass),
    ``flagged`` (complete, but a flagged test did not pass) or ``passed``."""
    states = {t.state for t in tests}
    if not defined:
        return "undefined"
    for state in ("failed", "missing", "flagged"):
        if state in states:
            return state
    return "passed"


def run_compliance(
    report: RunReport,
    loaded: LoadedGuideline,
    target: str,
    *,
    role: str | None,
    extended: bool,
    result: ComplianceReport | None = None,
    judged: Verdicts | None = None,
) -> ComplianceView:
    """Judge ``report`` with :func:`interop_model.evaluate` (raises UnknownTarget), unless
    ``result`` already is; ``judged``: both verdicts, whose exemptions mark their tests."""
    if result is None:
        result = evaluate(loaded.guideline, target, report)
    show_reasons = privileged(role)
    exempted = {(e.capability, e.test.name): e.exemption for e in judged.exempted} if judged else {}
    rows: list[CapabilityRow] = []
    for cap in result.capabilities:
        tests = tuple(
            TestRow(
                name=t.name,
                idempotent_id=str(t.idempotent_id) if t.idempotent_id else None,
                state=t.state,
                flag_reason=t.flag_reason,
                matched_as=t.matched_as,
                reason=t.reason if show_reasons else None,
                exemption=exempted.get((cap.name, t.name)),
            )
            for t in cap.tests
        )
        counts = dict.fromkeys(("passed", "flagged", "failed", "missing"), 0)
        for row in tests:
            counts[row.state] += 1
        rows.append(
            CapabilityRow(
                name=cap.name,
                status=cap.status.value,
                defined=cap.defined,
                state=capability_state(tests, cap.defined),
                counts=counts,
                tests=tests,
                exempted=sum(1 for t in tests if t.exemption is not None),
            )
        )
    # The API's numbers, from to_dict(); only its distinct-test counts read the capabilities,
    # so they are counted here rather than building a dict per test.
    summary = replace(result, capabilities=()).to_dict()
    required_tests = [t for c in result.capabilities if c.status is Status.REQUIRED for t in c.tests]
    summary["required"].update(
        distinct_tests=len({t.name for t in required_tests}),
        distinct_passed=len({t.name for t in required_tests if t.passed}),
    )
    del summary["capabilities"]
    required = [r for r in rows if r.status == Status.REQUIRED.value]
    states = {s: sum(1 for r in required if r.state == s) for s in CAPABILITY_STATES}
    return ComplianceView(
        file=loaded.file,
        target=target,
        summary=summary,
        capabilities=rows,
        required_states=states,
        evidence="extended" if show_reasons and extended else "passed-only",
        verdicts=judged,
    )


def provenance_of(report: RunReport, role: str | None) -> Provenance | None:
    """The run's provenance (Tempest and plugin versions) for owner and Foundation, else None."""
    return report.provenance if privileged(role) and report.provenance != Provenance() else None


# -- a cloud's runs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One run of a cloud: required capabilities passed against one guideline and target."""

    run: RunRow
    passed: int
    required: int
    compliant: bool


def cloud_history(
    session: Session,
    caller: Caller,
    runs: Sequence[store.RunRecord],
    loaded: LoadedGuideline,
    target: str,
    *,
    cache: Bounded,
) -> list[HistoryPoint]:
    """Each run's complete required capabilities (every non-flagged test passed, by name, alias or
    idempotent id, as the run page counts them), judged on its passed tests for every viewer.

    Raises UnknownTarget. A run's passed tests never change, so each result is kept in
    ``cache`` (the app's), keyed by the run and the guideline's content.
    """
    keys = {r.id: (r.id, loaded.file, hash(loaded.content), target) for r in runs}
    missing = [r for r in runs if cache.get(keys[r.id]) is None]
    reports = store.passed_reports(session, missing, [loaded.guideline]) if missing else {}
    points = []
    for record in runs:
        found = cache.get(keys[record.id])
        if found is None:
            result = evaluate(loaded.guideline, target, reports[record.id][0])
            required = [c for c in result.capabilities if c.status is Status.REQUIRED]
            found = (sum(1 for c in required if c.complete), len(required), result.refstack_compliant)
            cache.put(keys[record.id], found)
        points.append(HistoryPoint(run_row(record, caller), *found))
    return points


__all__ = [
    "CAPABILITY_STATES",
    "COUNT_LIMIT",
    "CapabilityRow",
    "ComplianceView",
    "HistoryPoint",
    "RunPage",
    "RunRow",
    "TestRow",
    "capability_state",
    "cloud_history",
    "list_runs",
    "provenance_of",
    "run_compliance",
    "run_row",
]
