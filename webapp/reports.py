"""Read-only queries and page models for the dashboard: plain dataclasses, never ORM rows.

Visibility is the API's (REFERENCE §1.4, :mod:`webapp.access`): a list shows the public
runs (unsigned, or signed and shared), or with ``mine`` the caller's own runs, as
``GET /v1/results?signed`` does; a cloud's page shows the runs the caller has a role for.
Compliance comes from :func:`interop_model.evaluate`, exactly as
``GET /v1/results/<id>/compliance`` computes it: owner and Foundation are judged on
every outcome (with failure reasons), everyone else on the passed tests only.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from interop_model import STATUSES, CaseResult, ComplianceReport, Guideline, Provenance, RunReport, Status, evaluate
from webapp import catalog, store, testsets
from webapp.access import privileged, role_for, visible_meta
from webapp.auth import Caller
from webapp.catalog import LoadedGuideline
from webapp.tables import GuidelineFile, Run, RunTests

CAPABILITY_STATES = ("passed", "flagged", "failed", "missing", "undefined")


# -- the results list ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunFilters:
    """The results list's filters, already parsed (None: no filter)."""

    cpid: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    guideline: str | None = None
    target: str | None = None
    verified: bool | None = None
    signed: bool | None = None
    mine: bool = False  # the caller's own runs, private ones included (the API's ``signed``)


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


def _record(row: Run) -> store.RunRecord:
    return store.RunRecord(
        id=row.id,
        cpid=row.cpid,
        created_at=row.created_at,
        duration_seconds=row.duration_seconds,
        verification_status=row.verification_status,
        meta=dict(row.meta or {}),
        owner_id=row.owner_id,
        signed=row.signed,
        shared=row.shared,
        test_count=row.test_count,
        has_extended=row.has_extended,
    )


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


def _filtered(query: Select[Any], caller: Caller, filters: RunFilters) -> Select[Any]:
    if filters.mine:
        query = query.where(Run.owner_id == caller.user_id)
    else:
        query = query.where(Run.public.is_(True))
    if filters.cpid:
        query = query.where(Run.cpid == filters.cpid)
    if filters.start is not None:
        query = query.where(Run.created_at >= filters.start)
    if filters.end is not None:
        query = query.where(Run.created_at <= filters.end)
    if filters.verified is not None:
        query = query.where(Run.verification_status == (1 if filters.verified else 0))
    if filters.signed is not None:
        query = query.where(Run.signed.is_(filters.signed))
    for key, value in (("guideline", filters.guideline), ("target", filters.target)):
        if value:
            spellings = {value, value.removesuffix(".json"), value.removesuffix(".json") + ".json"}
            query = query.where(Run.meta[key].as_string().in_(sorted(spellings)))
    return query


def list_runs(session: Session, caller: Caller, filters: RunFilters, *, page: int, per_page: int) -> RunPage:
    """One page of the runs the filters select, newest first (a page past the end shows the last
    one, when the total is known)."""
    selected = _filtered(select(Run.pk), caller, filters).limit(COUNT_LIMIT + 1).subquery()
    total = session.scalar(select(func.count()).select_from(selected)) or 0
    pages = max(1, -(-total // per_page)) if total <= COUNT_LIMIT else None
    page = max(min(page, pages or page), 1)
    query = _filtered(select(Run), caller, filters).order_by(Run.created_at.desc(), Run.pk.desc())
    rows = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return RunPage(
        [run_row(_record(r), caller) for r in rows[:per_page]],
        min(total, COUNT_LIMIT),
        page,
        pages,
        more=len(rows) > per_page,
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


@dataclass(frozen=True, slots=True)
class CapabilityRow:
    """One capability of the target with its status, overall state and tests."""

    name: str
    status: str
    defined: bool
    state: str  # one of CAPABILITY_STATES
    counts: dict[str, int]
    tests: tuple[TestRow, ...]


@dataclass(frozen=True, slots=True)
class ComplianceView:
    """A run against one guideline and target, as the run page shows it."""

    file: str
    target: str
    summary: dict[str, Any]  # ComplianceReport.to_dict() without its capabilities (the API's numbers)
    capabilities: list[CapabilityRow]
    required_states: dict[str, int]  # required capabilities by state
    evidence: str  # "extended" (every outcome) or "passed-only"


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


_indexes: dict[tuple[int, ...], tuple[tuple[Guideline, ...], frozenset[str], frozenset[str]]] = {}
# database engine -> (names, ids) -> test-case id -> the case as a result, or None when no guideline lists it
_relevance: weakref.WeakKeyDictionary[Any, dict[Any, dict[int, CaseResult | None]]] = weakref.WeakKeyDictionary()


def _known(guidelines: Sequence[Guideline]) -> tuple[frozenset[str], frozenset[str]]:
    """Every test name and alias of the guidelines, and every idempotent id (cached per parsed guideline)."""
    key = tuple(id(g) for g in guidelines)
    found = _indexes.get(key)
    if found is None or any(a is not b for a, b in zip(found[0], guidelines, strict=True)):
        entries = [e for g in guidelines for cap in g.capabilities.values() for e in cap.tests]
        found = (
            tuple(guidelines),
            frozenset(n for e in entries for n in e.names()),
            frozenset(str(e.uuid) for e in entries if e.uuid is not None),
        )
        if len(_indexes) > 64:
            _indexes.clear()
        _indexes[key] = found  # holds the guidelines, so their ids stay theirs
    return found[1], found[2]


def _relevant(session: Session, ids: list[int], names: frozenset[str], uuids: frozenset[str]) -> list[CaseResult]:
    """The test cases among ``ids`` that the guidelines list; each case is judged once per process."""
    per_engine = _relevance.setdefault(session.get_bind(), {})
    if len(per_engine) > 16:
        per_engine.clear()
    known = per_engine.setdefault((names, uuids), {})
    unknown = [i for i in ids if i not in known]
    if unknown:
        if len(known) > 500_000:
            known.clear()
        for case_id, (name, uuid) in zip(unknown, testsets.cases_of(session, unknown), strict=True):
            listed = name in names or uuid in uuids
            known[case_id] = CaseResult(test_id=name, idempotent_id=UUID(uuid) if uuid else None) if listed else None
    return [case for case in map(known.get, ids) if case is not None]


def passed_reports(
    session: Session, records: Sequence[store.RunRecord], guidelines: Sequence[Guideline], *, extras: bool = False
) -> dict[str, tuple[RunReport, list[str]]]:
    """Each run's passed tests that the guidelines list (by name, alias or idempotent id), read in
    one query, and (with ``extras``) its other passed names, sorted.

    # NOTE: a test no guideline lists cannot change any verdict of
    # :func:`interop_model.evaluate`, so leaving it out gives the same report for a fifth of
    # the work (runs pass about 1,500 tests; a guideline lists about 300).
    """
    names, uuids = _known(guidelines)
    by_id = {r.id: r for r in records}
    found: dict[str, tuple[RunReport, list[str]]] = {
        r.id: (RunReport(cpid=r.cpid, duration_seconds=r.duration_seconds), []) for r in records
    }
    for start in range(0, len(records), 500):
        chunk = [r.id for r in records[start : start + 500]]
        rows = session.execute(
            select(Run.id, RunTests.packed).join(RunTests, RunTests.run_pk == Run.pk).where(Run.id.in_(chunk))
        )
        for run_id, packed in rows:
            ids = testsets.unpack_ids(packed)
            record = by_id[run_id]
            report = RunReport(
                cpid=record.cpid,
                duration_seconds=record.duration_seconds,
                results=tuple(_relevant(session, ids, names, uuids)),
            )
            other = sorted(n for n, _ in testsets.cases_of(session, ids) if n not in names) if extras else []
            found[run_id] = (report, other)
    return found


def run_report(
    session: Session, record: store.RunRecord, role: str | None, guideline: Guideline | None
) -> tuple[RunReport, list[str]]:
    """What the caller may be judged on (every outcome for owner/Foundation, else the passed
    tests) and the passed names the guideline does not list."""
    if privileged(role) and record.has_extended:
        report = store.full_report(session, record)
        return report, extra_tests(report, guideline) if guideline is not None else []
    if guideline is None:
        return store.passed_report(session, record), []
    return passed_reports(session, [record], [guideline], extras=True)[record.id]


def run_compliance(
    report: RunReport, loaded: LoadedGuideline, target: str, *, role: str | None, extended: bool
) -> ComplianceView:
    """Judge ``report`` with :func:`interop_model.evaluate` (raises UnknownTarget)."""
    result: ComplianceReport = evaluate(loaded.guideline, target, report)
    show_reasons = privileged(role)
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
    )


def provenance_of(report: RunReport, role: str | None) -> Provenance | None:
    """The run's provenance (Tempest and plugin versions) for owner and Foundation, else None."""
    return report.provenance if privileged(role) and report.provenance != Provenance() else None


def extra_tests(report: RunReport, guideline: Guideline) -> list[str]:
    """Passed test names that no capability of the guideline lists (by name or alias)."""
    known = _known([guideline])[0]
    return sorted(n for n in report.passed_names() if n not in known)


# -- a cloud's runs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One run of a cloud: required capabilities passed against one guideline and target."""

    run: RunRow
    passed: int
    required: int
    compliant: bool


class _Bounded:
    """A small thread-safe cache, emptied when full (entries are cheap to recompute)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.items: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        return self.items.get(key)

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            if len(self.items) >= self.limit:
                self.items.clear()
            self.items[key] = value


_history = _Bounded(50_000)


def _visible_to(query: Select[Any], caller: Caller) -> Select[Any]:
    if caller.foundation:
        return query
    if caller.user_id is not None:
        return query.where(or_(Run.public.is_(True), Run.owner_id == caller.user_id))
    return query.where(Run.public.is_(True))


def cloud_runs(session: Session, caller: Caller, cpid: str, *, limit: int) -> tuple[list[store.RunRecord], int]:
    """The newest ``limit`` runs of ``cpid`` the caller has a role for (oldest first), and how many there are."""
    total = session.scalar(_visible_to(select(func.count()).select_from(Run), caller).where(Run.cpid == cpid)) or 0
    query = _visible_to(select(Run), caller).where(Run.cpid == cpid)
    rows = session.scalars(query.order_by(Run.created_at.desc(), Run.pk.desc()).limit(limit))
    return [_record(r) for r in rows][::-1], total


def cloud_history(
    session: Session, caller: Caller, runs: Sequence[store.RunRecord], loaded: LoadedGuideline, target: str
) -> list[HistoryPoint]:
    """Each run's complete required capabilities (every non-flagged test passed, by name, alias or
    idempotent id, as the run page counts them), judged on its passed tests for every viewer.

    Raises UnknownTarget. A run's passed tests never change, so each result is cached.
    """
    keys = {r.id: (r.id, loaded.file, hash(loaded.content), target) for r in runs}
    missing = [r for r in runs if _history.get(keys[r.id]) is None]
    reports = passed_reports(session, missing, [loaded.guideline]) if missing else {}
    points = []
    for record in runs:
        found = _history.get(keys[record.id])
        if found is None:
            result = evaluate(loaded.guideline, target, reports[record.id][0])
            required = [c for c in result.capabilities if c.status is Status.REQUIRED]
            found = (sum(1 for c in required if c.complete), len(required), result.refstack_compliant)
            _history.put(keys[record.id], found)
        points.append(HistoryPoint(run_row(record, caller), *found))
    return points


@dataclass(frozen=True, slots=True)
class CloudRow:
    """A cloud the caller may name: its cpid, how many runs and the newest one."""

    cpid: str
    runs: int
    latest: datetime


def visible_clouds(session: Session, caller: Caller, *, limit: int = 500) -> list[CloudRow]:
    """Clouds whose cpid the caller may see: every cloud for the Foundation, their own for a user,
    none for an anonymous caller (cpids are private to owners and the Foundation)."""
    if caller.user_id is None:
        return []
    query = select(Run.cpid, func.count(), func.max(Run.created_at)).group_by(Run.cpid)
    if not caller.foundation:
        query = query.where(Run.owner_id == caller.user_id)
    rows = session.execute(query.order_by(func.max(Run.created_at).desc()).limit(limit))
    return [CloudRow(cpid, count, latest) for cpid, count, latest in rows]


# -- scoring evidence ---------------------------------------------------------------------------


def newest_run(session: Session) -> int:
    """The newest run's internal number: changes with every upload (one index lookup)."""
    return int(session.scalar(select(func.max(Run.pk))) or 0)


def evidence_runs(session: Session, guidelines: Sequence[Guideline]) -> list[RunReport]:
    """Each cloud's newest public run, as its passed tests the guidelines list: the Widely
    Deployed evidence (scoring matches results to the guidelines' tests only)."""
    latest = store.latest_public_runs(session)
    reports = passed_reports(session, latest, guidelines)
    return [reports[r.id][0] for r in latest]


# -- guidelines ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuidelineRow:
    """A stored guideline file (no content)."""

    file: str
    family: str
    name: str
    guideline_id: str
    schema: str
    status: str


def list_guideline_files(session: Session) -> list[GuidelineRow]:
    """Every imported guideline file: the core ones first, then each add-on; within a family
    ``next.json`` first, then the dated versions newest first."""
    rows = session.execute(
        select(
            GuidelineFile.file,
            GuidelineFile.family,
            GuidelineFile.name,
            GuidelineFile.guideline_id,
            GuidelineFile.schema,
            GuidelineFile.status,
        )
    )
    found = [GuidelineRow(f, fam, n, gid, schema, status or "") for f, fam, n, gid, schema, status in rows]
    found.sort(key=lambda r: r.name, reverse=True)  # "next.json" sorts after every date
    return sorted(found, key=lambda r: (r.family != catalog.POWERED, r.family))


@dataclass(frozen=True, slots=True)
class DiffRow:
    """How one capability changed between two guidelines for a target."""

    capability: str
    change: str  # one of DIFF_KINDS
    old: str  # status before ("" when absent)
    new: str  # status after ("" when absent)
    tests_added: list[str] = field(default_factory=list)
    tests_removed: list[str] = field(default_factory=list)
    flags_added: list[str] = field(default_factory=list)


DIFF_KINDS = ("added", "promoted", "deprecated", "removed", "demoted", "dropped", "tests changed")


def diff_guidelines(old: Guideline, new: Guideline, target: str) -> list[DiffRow]:
    """Capabilities added, promoted (towards required), deprecated, removed (listed as removed, or
    gone without having been removed first), demoted, and dropped (removed before, now gone)
    between ``old`` and ``new`` for ``target``; also unchanged statuses whose tests changed.

    Raises UnknownTarget when either guideline lacks the target.
    """
    before, after = old.target_statuses(target), new.target_statuses(target)
    rank = {s: i for i, s in enumerate(STATUSES)}
    rows = []
    for name in sorted(set(before) | set(after)):
        was, now = before.get(name), after.get(name)
        if was is None:
            change = "removed" if now is Status.REMOVED else "added"
        elif now is None:
            change = "dropped" if was is Status.REMOVED else "removed"
        elif now is Status.REMOVED and was is not Status.REMOVED:
            change = "removed"
        elif now is Status.DEPRECATED and was is not Status.DEPRECATED:
            change = "deprecated"
        elif now is not None and rank[now] < rank[was]:
            change = "promoted"
        elif now is not None and rank[now] > rank[was]:
            change = "demoted"
        else:
            change = ""
        old_tests = {e.name: e for e in old.capabilities[name].tests} if name in old.capabilities else {}
        new_tests = {e.name: e for e in new.capabilities[name].tests} if name in new.capabilities else {}
        added = sorted(set(new_tests) - set(old_tests)) if old_tests else []
        removed = sorted(set(old_tests) - set(new_tests)) if new_tests else []
        flags = sorted(n for n, e in new_tests.items() if e.flagged and not (n in old_tests and old_tests[n].flagged))
        if not change and (added or removed or flags):
            change = "tests changed"
        if change:
            rows.append(
                DiffRow(name, change, was.value if was else "", now.value if now else "", added, removed, flags)
            )
    order = {k: i for i, k in enumerate(DIFF_KINDS)}
    return sorted(rows, key=lambda r: (order[r.change], r.capability))


__all__ = [
    "CAPABILITY_STATES",
    "COUNT_LIMIT",
    "DIFF_KINDS",
    "CapabilityRow",
    "CloudRow",
    "ComplianceView",
    "DiffRow",
    "GuidelineRow",
    "HistoryPoint",
    "RunFilters",
    "RunPage",
    "RunRow",
    "TestRow",
    "capability_state",
    "cloud_history",
    "cloud_runs",
    "diff_guidelines",
    "evidence_runs",
    "extra_tests",
    "list_guideline_files",
    "list_runs",
    "newest_run",
    "passed_reports",
    "provenance_of",
    "run_compliance",
    "run_report",
    "run_row",
    "visible_clouds",
]
