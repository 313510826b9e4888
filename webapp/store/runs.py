"""Runs in the database: the one query layer. ORM rows never leave this module.

Runs are stored, queried, filtered and turned into records here, and nowhere else.
Callers get :class:`RunRecord` (a run's columns) and :class:`~interop_model.RunReport`
(its tests); they pass plain values, a :class:`~webapp.store.accounts.Caller` and
:class:`RunFilters` in.

Who may see a run (RefStack's roles, strongest first) is decided here once, in
:func:`role_for` and its SQL twin :func:`_visible_to`, side by side:

* ``foundation``: a member of the Foundation group sees every run;
* ``owner``: the user whose registered key signed the upload, and the admins of the vendor
  whose product the run is attached to;
* ``user``: anyone, when the run is public (unsigned, or signed and shared).

A list shows the public runs, or with ``mine`` the caller's own runs (private ones
included), as ``GET /v1/results?signed`` does; a cloud's page shows the runs the caller
has a role for.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, false, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interop_model import CaseResult, Guideline, RunReport
from interop_model.wire import V1Upload, loads_extended
from webapp.store import testsets
from webapp.store.accounts import ANONYMOUS, Caller
from webapp.store.cache import caches_of
from webapp.store.errors import NotFound
from webapp.store.tables import ExtendedRun, ProductVersion, Run, RunCount, RunTests, UploadKey

SHARED = "shared"
USER_META = "user"
PUBLIC_COUNT = "public"
PUBLIC_CHANGES = "public_changes"  # bumped whenever the set of public runs changes
_DEFERRED_JOIN_FROM = 2000
PUBLIC_META_KEYS = ("shared", "guideline", "target")
FOUNDATION = "foundation"
OWNER = "owner"
USER = "user"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run's stored facts, without its tests."""

    id: str
    cpid: str
    created_at: datetime
    duration_seconds: int
    verification_status: int
    meta: Mapping[str, str]
    owner_id: int | None
    signed: bool
    shared: bool
    test_count: int
    has_extended: bool
    product_version_id: str | None = None
    vendor_id: str | None = None  # the vendor of the product the run is attached to

    @property
    def public(self) -> bool:
        """Visible to everyone: unsigned, or signed and shared."""
        return not self.signed or self.shared


# -- who sees what: the visibility rule, once -----------------------------------------------------


def role_for(caller: Caller, run: RunRecord) -> str | None:
    """The caller's role for ``run`` (see the module docstring), or None: the run is hidden."""
    if caller.foundation:
        return FOUNDATION
    if caller.user_id is not None and caller.user_id == run.owner_id:
        return OWNER
    if run.vendor_id is not None and caller.account is not None and run.vendor_id in caller.account.vendor_ids:
        return OWNER
    if run.public:
        return USER
    return None


def _visible_to(caller: Caller) -> ColumnElement[bool]:
    """:func:`role_for` in SQL: the runs for which the caller has a role."""
    if caller.foundation:
        return true()
    if caller.account is not None:
        mine = or_(Run.public.is_(True), Run.owner_id == caller.account.id)
        if caller.account.vendor_ids:
            mine = or_(mine, Run.vendor_id.in_(sorted(caller.account.vendor_ids)))
        return mine
    return Run.public.is_(True)


def privileged(role: str | None) -> bool:
    """Owner or Foundation: sees cpid, every meta key and private details."""
    return role in (OWNER, FOUNDATION)


def visible_meta(meta: Mapping[str, str], role: str | None) -> dict[str, str]:
    """The meta keys ``role`` may read: all of them for owner/Foundation, else shared/guideline/target."""
    if privileged(role):
        return dict(meta)
    return {k: v for k, v in meta.items() if k in PUBLIC_META_KEYS}


@dataclass(frozen=True, slots=True)
class RunFilters:
    """Filters of a run list (already parsed and checked; None: no filter)."""

    start: datetime | None = None
    end: datetime | None = None
    cpid: str | None = None
    mine: bool = False  # the caller's own runs, private ones included (the API's ``signed``)
    verification_status: int | None = None
    signed: bool | None = None
    guideline: str | None = None  # meta ``guideline``, with or without ``.json``
    target: str | None = None  # meta ``target``
    product_id: str | None = None  # runs attached to a version of this product
    all_product_runs: bool = False  # with product_id: private runs too (the vendor's admins, the Foundation)


@dataclass(frozen=True, slots=True)
class SavedRun:
    """The outcome of :func:`save_run`: the run's id and whether this call created it."""

    id: str
    created: bool


@dataclass(frozen=True, slots=True)
class NewRun:
    """What the API knows about an upload besides its tests."""

    owner_id: int | None = None
    pubkey_id: int | None = None
    body_sha256: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    extended_body: bytes | None = None  # raw extended document, kept compressed
    product_version_id: str | None = None  # attached at upload (see webapp.store.products)
    vendor_id: str | None = None
    upload_key: str | None = None  # sha256 hex of the idempotency key's scope: repeats return the first run


FILTERED_META = {"guideline": "meta_guideline", "target": "meta_target"}  # meta key -> its indexed column


def filter_value(value: object) -> str | None:
    """A meta value as its filter column holds it: without a ``.json`` suffix, so that either
    spelling of a guideline matches (None when unset, or too long to be a filter's value)."""
    if not isinstance(value, str) or len(value) > 255:
        return None
    return value.removesuffix(".json")


def _filter_columns(meta: Mapping[str, object]) -> dict[str, str | None]:
    return {column: filter_value(meta.get(key)) for key, column in FILTERED_META.items()}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _record(row: Run) -> RunRecord:
    return RunRecord(
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
        product_version_id=row.product_version_id,
        vendor_id=row.vendor_id,
    )


def save_run(session: Session, run: RunReport, new: NewRun) -> SavedRun:
    """Store a run's passed tests (and its extended document); recognise a repeated signed upload."""
    passed = tuple((c.test_id, testsets.normalise_uuid(c.idempotent_id)) for c in run.results if c.passed)
    return save_upload(session, V1Upload(cpid=run.cpid, duration_seconds=run.duration_seconds, cases=passed), new)


def save_upload(session: Session, run: V1Upload, new: NewRun) -> SavedRun:
    """Store an upload's tests (all passed; and its extended document); recognise a repeated
    upload: one with the same ``upload_key`` (any upload), or a signed one with the same body.

    Exactly once under concurrency: the key and the signed body are unique in the database, so
    of two racing copies one commits and the other rolls back and answers the first's run.
    """
    existing = _find_repeat(session, new)
    if existing is not None:
        return SavedRun(existing, created=False)
    ids = testsets.resolve_cases(session, run.cases)
    meta = dict(new.meta)
    run_id, created_at = str(uuid.uuid4()), _now()
    public = new.owner_id is None or SHARED in meta
    # NOTE: Core inserts, not the ORM unit of work: an upload is the hot path, and this saves milliseconds.
    try:
        pk = session.execute(
            insert(Run)
            .values(
                id=run_id,
                cpid=run.cpid,
                created_at=created_at,
                duration_seconds=run.duration_seconds,
                verification_status=0,
                owner_id=new.owner_id,
                pubkey_id=new.pubkey_id,
                signed=new.owner_id is not None,
                shared=SHARED in meta,
                public=public,
                meta=meta,
                body_sha256=new.body_sha256,
                test_count=len(set(ids)),
                has_extended=new.extended_body is not None,
                **_filter_columns(meta),
                product_version_id=new.product_version_id,
                vendor_id=new.vendor_id,
            )
            .returning(Run.pk)
        ).scalar_one()
        if new.upload_key is not None:  # first: a racing copy waits here, then fails, before any other write
            session.execute(insert(UploadKey).values(scope_sha256=new.upload_key, run_pk=pk, created_at=created_at))
        session.execute(insert(RunTests).values(run_pk=pk, packed=testsets.pack_ids(ids)))
        if new.extended_body is not None:
            session.execute(
                insert(ExtendedRun).values(
                    run_pk=pk, document=zlib.compress(new.extended_body, 6), uploaded_at=created_at
                )
            )
        if public:
            _count_public(session, +1)  # last, so the counter row stays locked for the shortest time
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = _find_repeat(session, new)
        if existing is None:
            raise
        return SavedRun(existing, created=False)
    return SavedRun(run_id, created=True)


def _find_repeat(session: Session, new: NewRun) -> str | None:
    """The run an earlier copy of this upload stored, if any: by idempotency key, else by signed body."""
    if new.upload_key is not None:
        found = session.scalar(
            select(Run.id).join(UploadKey, UploadKey.run_pk == Run.pk).where(UploadKey.scope_sha256 == new.upload_key)
        )
        if found is not None:
            return found
    if new.pubkey_id is not None and new.body_sha256 is not None:
        return _find_duplicate(session, new.pubkey_id, new.body_sha256)
    return None


def _find_duplicate(session: Session, pubkey_id: int, body_sha256: str) -> str | None:
    return session.scalar(select(Run.id).where(Run.pubkey_id == pubkey_id, Run.body_sha256 == body_sha256))


def attach_extended(session: Session, run_id: str, body: bytes) -> None:
    """Attach (or replace) the extended document of an existing run."""
    row = session.scalar(select(Run).where(Run.id == run_id))
    if row is None:
        raise NotFound(f"Test result {run_id} not found")
    existing = session.get(ExtendedRun, row.pk)
    if existing is None:
        session.add(ExtendedRun(run_pk=row.pk, document=zlib.compress(body, 6), uploaded_at=_now()))
    else:
        existing.document = zlib.compress(body, 6)
        existing.uploaded_at = _now()
    row.has_extended = True
    session.commit()


def get_run(session: Session, run_id: str) -> RunRecord | None:
    """The run with this id, or None (also for ids that are not UUIDs)."""
    try:
        UUID(run_id)
    except ValueError:
        return None
    row = session.scalar(select(Run).where(Run.id == run_id))
    return _record(row) if row is not None else None


def get_run_with_tests(session: Session, run_id: str) -> tuple[RunRecord, list[int]] | None:
    """The run and its passed test-case ids, in one query (see :func:`names_of`, :func:`report_of`)."""
    try:
        UUID(run_id)
    except ValueError:
        return None
    found = session.execute(
        select(Run, RunTests.packed).outerjoin(RunTests, RunTests.run_pk == Run.pk).where(Run.id == run_id)
    ).first()
    if found is None:
        return None
    row, packed = found
    return _record(row), testsets.unpack_ids(packed) if packed is not None else []


def names_of(session: Session, test_ids: list[int]) -> list[str]:
    """Sorted test names of test-case ids from :func:`get_run_with_tests`."""
    return sorted(name for name, _ in testsets.cases_of(session, test_ids))


def report_of(session: Session, record: RunRecord, test_ids: list[int]) -> RunReport:
    """The passed-tests report of a run from :func:`get_run_with_tests`."""
    return RunReport(
        cpid=record.cpid,
        duration_seconds=record.duration_seconds,
        results=tuple(testsets.passed_results(session, test_ids)),
    )


def _packed_ids(session: Session, run_id: str) -> list[int]:
    packed = session.scalar(select(RunTests.packed).join(Run, Run.pk == RunTests.run_pk).where(Run.id == run_id))
    return testsets.unpack_ids(packed) if packed is not None else []


def passed_cases(session: Session, run_id: str) -> list[testsets.Case]:
    """The run's passed (name, idempotent id) pairs, sorted by name."""
    return sorted(testsets.cases_of(session, _packed_ids(session, run_id)), key=lambda c: (c[0], c[1] or ""))


def passed_names(session: Session, run_id: str) -> list[str]:
    """The run's passed test names, sorted (RefStack's ``results`` field)."""
    return sorted(name for name, _ in testsets.cases_of(session, _packed_ids(session, run_id)))


def passed_report(session: Session, record: RunRecord) -> RunReport:
    """The public view of a run: its passed tests, as the v1 document had them."""
    results = tuple(testsets.passed_results(session, _packed_ids(session, record.id)))
    return RunReport(cpid=record.cpid, duration_seconds=record.duration_seconds, results=results)


def extended_body(session: Session, run_id: str) -> bytes | None:
    """The raw extended document of a run, or None."""
    document = session.scalar(
        select(ExtendedRun.document).join(Run, Run.pk == ExtendedRun.run_pk).where(Run.id == run_id)
    )
    return zlib.decompress(document) if document is not None else None


@dataclass(frozen=True, slots=True)
class StoredSelection:
    """What a run chose to test, as its extended document's optional ``selection`` records it
    (``tcup run`` writes ``{guideline, target, capability_globs, capabilities, statuses}``)."""

    guideline: str
    target: str
    capability_globs: tuple[str, ...] = ()  # as the user gave them; () with no capabilities: every one
    capabilities: tuple[str, ...] = ()  # the capabilities whose tests ran
    statuses: tuple[str, ...] = ("required",)


def selection_of(session: Session, record: RunRecord) -> StoredSelection | None:
    """The run's recorded selection, or None (no extended document, no selection, or one that
    cannot be read: it only ever adds a note to a page, so a bad one is ignored)."""
    body = extended_body(session, record.id) if record.has_extended else None
    if body is None:
        return None
    try:
        raw = json.loads(body).get("selection")
    except (ValueError, AttributeError, RecursionError):
        return None
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw[k] for k in ("guideline", "target")):
        return None
    lists = {}
    for key in ("capability_globs", "capabilities", "statuses"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None
        lists[key] = tuple(value)
    return StoredSelection(
        guideline=raw["guideline"],
        target=raw["target"],
        capability_globs=lists["capability_globs"],
        capabilities=lists["capabilities"],
        statuses=lists["statuses"] or ("required",),
    )


def full_report(session: Session, record: RunRecord) -> RunReport:
    """Every outcome when the run has an extended document, else the passed tests."""
    body = extended_body(session, record.id) if record.has_extended else None
    return loads_extended(body) if body is not None else passed_report(session, record)


def _filtered(query: Select[Any], caller: Caller, filters: RunFilters) -> Select[Any]:
    """The runs a list shows: the caller's own with ``mine``, else those anyone may see."""
    if filters.mine:
        query = query.where(Run.owner_id == caller.user_id)
    elif not (filters.product_id is not None and filters.all_product_runs):
        query = query.where(_visible_to(ANONYMOUS))
    if filters.product_id is not None:
        versions = select(ProductVersion.id).where(ProductVersion.product_id == filters.product_id)
        query = query.where(Run.product_version_id.in_(versions))
    if filters.start is not None:
        query = query.where(Run.created_at >= filters.start)
    if filters.end is not None:
        query = query.where(Run.created_at <= filters.end)
    if filters.cpid is not None:
        query = query.where(Run.cpid == filters.cpid)
    if filters.verification_status is not None:
        query = query.where(Run.verification_status == filters.verification_status)
    if filters.signed is not None:
        query = query.where(Run.signed.is_(filters.signed))
    for column, value in ((Run.meta_guideline, filters.guideline), (Run.meta_target, filters.target)):
        if value:
            wanted = filter_value(value)
            query = query.where(column == wanted if wanted is not None else false())
    return query


def count_runs(session: Session, caller: Caller, filters: RunFilters, *, limit: int | None = None) -> int:
    """How many runs the filters select, or ``limit + 1`` when more (the unfiltered public list
    reads a maintained counter when no ``limit`` is given)."""
    if filters == RunFilters() and limit is None:
        counted = session.scalar(select(RunCount.count).where(RunCount.name == PUBLIC_COUNT))
        if counted is not None:
            return int(counted)
    if limit is not None:
        selected = _filtered(select(Run.pk), caller, filters).limit(limit + 1).subquery()
        return session.scalar(select(func.count()).select_from(selected)) or 0
    return session.scalar(_filtered(select(func.count()).select_from(Run), caller, filters)) or 0


def list_runs(session: Session, caller: Caller, filters: RunFilters, *, offset: int, limit: int) -> list[RunRecord]:
    """``limit`` runs from ``offset`` on, newest first. Reads no test data.

    Deep pages first pick the page's keys from the index alone, then read those rows
    (a "deferred join"), instead of reading and discarding every row before the page.
    """
    order = (Run.created_at.desc(), Run.pk.desc())
    if offset < _DEFERRED_JOIN_FROM:
        rows = session.scalars(_filtered(select(Run), caller, filters).order_by(*order).offset(offset).limit(limit))
        return [_record(r) for r in rows]
    keys = _filtered(select(Run.pk), caller, filters).order_by(*order).offset(offset).limit(limit).subquery()
    rows = session.scalars(select(Run).join(keys, keys.c.pk == Run.pk).order_by(*order))
    return [_record(r) for r in rows]


def set_meta(session: Session, run_id: str, key: str, value: str) -> None:
    """Set one meta key; ``shared`` also makes a signed run public."""
    _update_meta(session, run_id, lambda meta: meta.__setitem__(key, value))


def delete_meta(session: Session, run_id: str, key: str) -> bool:
    """Remove one meta key; False when it was not set."""
    found: list[bool] = []
    _update_meta(session, run_id, lambda meta: found.append(meta.pop(key, None) is not None))
    return found[0]


def _update_meta(session: Session, run_id: str, change: Any) -> None:
    row = session.scalar(select(Run).where(Run.id == run_id).with_for_update())
    if row is None:
        raise NotFound(f"Test result {run_id} not found")
    meta = dict(row.meta or {})
    change(meta)
    was_public = row.public
    row.meta = meta
    for column, value in _filter_columns(meta).items():
        setattr(row, column, value)
    row.shared = SHARED in meta
    row.public = not row.signed or row.shared
    if row.public != was_public:
        _count_public(session, +1 if row.public else -1)
    session.commit()


def set_verification_status(session: Session, run_id: str, status: int) -> RunRecord:
    """Set the Foundation's verification flag and return the run."""
    row = session.scalar(select(Run).where(Run.id == run_id).with_for_update())
    if row is None:
        raise NotFound(f"Test result {run_id} not found")
    row.verification_status = status
    session.commit()
    return _record(row)


def delete_run(session: Session, run_id: str) -> None:
    """Delete a run with its tests and extended document."""
    row = session.scalar(select(Run).where(Run.id == run_id).with_for_update())
    if row is not None:
        if row.public:
            _count_public(session, -1)
        session.delete(row)
        session.commit()


def _count_public(session: Session, delta: int) -> None:
    """The public runs changed: count them, and bump :data:`PUBLIC_CHANGES`.

    NOTE: two statements, always in this order. One UPDATE of both rows locks them in the order
    it finds them in the table, which changes as rows get new versions: two uploads could then
    lock them in opposite orders and deadlock (PostgreSQL saw it with 3 replicas x 16 threads).
    """
    session.execute(update(RunCount).where(RunCount.name == PUBLIC_COUNT).values(count=RunCount.count + delta))
    session.execute(update(RunCount).where(RunCount.name == PUBLIC_CHANGES).values(count=RunCount.count + 1))


def public_changes(session: Session) -> int:
    """A number that changes whenever a run becomes public or stops being public (an upload,
    a share or unshare, a deletion): what summaries of the public runs are keyed by, so a
    cached summary is never reused once what it summarises has changed, in any process."""
    return int(session.scalar(select(RunCount.count).where(RunCount.name == PUBLIC_CHANGES)) or 0)


def recount(session: Session) -> int:
    """Recompute the maintained counters from the runs (after bulk loads; ``init-db`` runs it)."""
    public = session.scalar(select(func.count()).select_from(Run).where(Run.public.is_(True))) or 0
    counter = session.get(RunCount, PUBLIC_COUNT)
    if counter is None:
        session.add(RunCount(name=PUBLIC_COUNT, count=public))
    else:
        counter.count = public
    changes = session.get(RunCount, PUBLIC_CHANGES)
    if changes is None:
        session.add(RunCount(name=PUBLIC_CHANGES, count=1))
    else:
        changes.count += 1
    session.commit()
    return public


def latest_public_runs(session: Session, *, signed_only: bool = False) -> list[RunRecord]:
    """Each cloud's newest public run (unsigned, or signed and shared): the scoring evidence.

    # NOTE: per cloud, one index probe (``ix_runs_public_cpid``, newest first) for its newest
    # run, rather than ranking every public run with a window function: 500 clouds of 100,000
    # runs take a tenth of the time.
    """
    rows = session.scalars(select(Run).where(Run.pk.in_(_latest_public(signed_only))).order_by(Run.cpid))
    return [_record(r) for r in rows]


def _latest_public(signed_only: bool) -> Select[tuple[int]]:
    """The keys of each cloud's newest public run (see :func:`latest_public_runs`)."""
    wanted = [_visible_to(ANONYMOUS), *([Run.signed.is_(True)] if signed_only else [])]
    clouds = select(Run.cpid).where(*wanted).distinct().subquery()
    newest = (
        select(Run.pk)
        .where(*wanted, Run.cpid == clouds.c.cpid)
        .order_by(Run.created_at.desc(), Run.pk.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(newest).select_from(clouds)


# -- runs judged against guidelines ----------------------------------------------------------------


def _listed(session: Session, guidelines: Sequence[Guideline]) -> tuple[frozenset[str], frozenset[str]]:
    """Every test name and alias of the guidelines, and every idempotent id (cached per parsed guideline)."""
    key = tuple(id(g) for g in guidelines)
    listed = caches_of(session).listed_tests
    found = listed.get(key)
    if found is None or any(a is not b for a, b in zip(found[0], guidelines, strict=True)):
        entries = [e for g in guidelines for cap in g.capabilities.values() for e in cap.tests]
        found = (
            tuple(guidelines),  # held, so that the guidelines' ids stay theirs
            frozenset(n for e in entries for n in e.names()),
            frozenset(str(e.uuid) for e in entries if e.uuid is not None),
        )
        listed.put(key, found)
    return found[1], found[2]


class _Relevance:
    """Test-case ids judged against one set of guideline names and ids, and the listed ones."""

    __slots__ = ("judged", "listed")

    def __init__(self) -> None:
        self.judged: dict[int, CaseResult | None] = {}  # case id -> the case as a passed result, None if unlisted
        self.listed: set[int] = set()


def _judge(session: Session, ids: Iterable[int], names: frozenset[str], uuids: frozenset[str]) -> _Relevance:
    """The app's judgement of the test cases against the guidelines, ``ids`` included (each case once per app)."""
    cache = caches_of(session).relevance
    known: _Relevance = cache.setdefault((names, uuids), _Relevance)
    wanted = ids if isinstance(ids, set) else set(ids)
    unknown = sorted(wanted.difference(known.judged))
    if unknown:
        if len(known.judged) > 500_000:  # a fresh one: other threads keep reading the full one they hold
            known = _Relevance()
            cache.put((names, uuids), known)
            unknown = sorted(wanted)
        for case_id, (name, uuid) in zip(unknown, testsets.cases_of(session, unknown), strict=True):
            if name in names or uuid in uuids:
                known.judged[case_id] = CaseResult(test_id=name, idempotent_id=UUID(uuid) if uuid else None)
                known.listed.add(case_id)
            else:
                known.judged[case_id] = None
    return known


def _relevant(session: Session, ids: list[int], names: frozenset[str], uuids: frozenset[str]) -> list[CaseResult]:
    """The test cases among ``ids`` that the guidelines list."""
    judged = _judge(session, ids, names, uuids).judged
    return [case for case in map(judged.get, ids) if case is not None]


def passed_reports(
    session: Session, records: Sequence[RunRecord], guidelines: Sequence[Guideline], *, extras: bool = False
) -> dict[str, tuple[RunReport, list[str]]]:
    """Each run's passed tests that the guidelines list (by name, alias or idempotent id), read in
    one query, and (with ``extras``) its other passed names, sorted.

    # NOTE: a test no guideline lists cannot change any verdict of
    # :func:`interop_model.evaluate`, so leaving it out gives the same report for a fifth of
    # the work (runs pass about 1,500 tests; a guideline lists about 300).
    """
    names, uuids = _listed(session, guidelines)
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
    session: Session, record: RunRecord, role: str | None, guideline: Guideline | None
) -> tuple[RunReport, list[str]]:
    """What a caller with ``role`` may be judged on (every outcome for owner/Foundation, else the
    passed tests) and the passed names the guideline does not list."""
    if privileged(role) and record.has_extended:
        report = full_report(session, record)
        if guideline is None:
            return report, []
        known = _listed(session, [guideline])[0]
        return report, sorted(n for n in report.passed_names() if n not in known)
    if guideline is None:
        return passed_report(session, record), []
    return passed_reports(session, [record], [guideline], extras=True)[record.id]


def evidence_reports(session: Session, guidelines: Sequence[Guideline]) -> list[RunReport]:
    """Each cloud's newest public run, as its passed tests the guidelines list: the Widely
    Deployed evidence (scoring matches results to the guidelines' tests only)."""
    latest = latest_public_runs(session)
    reports = passed_reports(session, latest, guidelines)
    return [reports[r.id][0] for r in latest]


@dataclass(frozen=True, slots=True)
class EvidenceColumns:
    """:func:`evidence_reports` as flat columns, for the scoring engine to read without a
    Python object per result: run ``i`` is ``cpids[i]``; result ``j`` is a pass of case
    ``case_of[j]`` (an index into ``names`` and ``uuids``) in run ``run_of[j]``."""

    cpids: list[str]
    run_of: list[int]
    case_of: list[int]
    names: list[str]
    uuids: list[str | None]


def evidence_columns(
    session: Session, guidelines: Sequence[Guideline], *, signed_only: bool = False
) -> EvidenceColumns:
    """Each cloud's newest public run (``signed_only``: signed and shared), as the passed tests
    the guidelines list, in columns.

    # NOTE: 500 clouds of 1,500 passed tests are 750,000 ids, of which about 140,000 are
    # listed. Intersecting each run's ids with the set of listed cases and numbering the distinct
    # cases once keeps the work in C; a CaseResult and a UUID string per result took most of the
    # scoring page.
    """
    names, uuids = _listed(session, guidelines)
    rows = session.execute(
        select(Run.cpid, RunTests.packed)
        .outerjoin(RunTests, RunTests.run_pk == Run.pk)
        .where(Run.pk.in_(_latest_public(signed_only)))
        .order_by(Run.cpid)
    )
    cpids: list[str] = []
    unpacked: list[list[int]] = []
    for cpid, packed in rows:
        cpids.append(cpid)
        unpacked.append(testsets.unpack_ids(packed) if packed is not None else [])
    every: set[int] = set()
    every.update(*unpacked)
    listed = _judge(session, every, names, uuids).listed
    run_of: list[int] = []
    found: list[int] = []
    for run_number, ids in enumerate(unpacked):
        kept = listed.intersection(ids)
        run_of.extend([run_number] * len(kept))
        found.extend(kept)
    distinct = sorted(set(found))
    code = {case_id: i for i, case_id in enumerate(distinct)}
    cases = testsets.cases_of(session, distinct)
    return EvidenceColumns(
        cpids=cpids,
        run_of=run_of,
        case_of=list(map(code.__getitem__, found)),
        names=[name for name, _ in cases],
        uuids=[str(UUID(uuid)) if uuid else None for _, uuid in cases],  # as str(UUID) writes them
    )


# -- clouds ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloudRow:
    """A cloud the caller may name: its cpid, how many runs and the newest one."""

    cpid: str
    runs: int
    latest: datetime


def cloud_runs(session: Session, caller: Caller, cpid: str, *, limit: int) -> tuple[list[RunRecord], int]:
    """The newest ``limit`` runs of ``cpid`` the caller has a role for (oldest first), and how many there are."""
    visible = _visible_to(caller)
    total = session.scalar(select(func.count()).select_from(Run).where(visible, Run.cpid == cpid)) or 0
    query = select(Run).where(visible, Run.cpid == cpid)
    rows = session.scalars(query.order_by(Run.created_at.desc(), Run.pk.desc()).limit(limit))
    return [_record(r) for r in rows][::-1], total


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


__all__ = [
    "FOUNDATION",
    "OWNER",
    "PUBLIC_META_KEYS",
    "SHARED",
    "USER",
    "USER_META",
    "CloudRow",
    "EvidenceColumns",
    "NewRun",
    "RunFilters",
    "RunRecord",
    "SavedRun",
    "StoredSelection",
    "attach_extended",
    "cloud_runs",
    "count_runs",
    "delete_meta",
    "delete_run",
    "evidence_columns",
    "evidence_reports",
    "extended_body",
    "full_report",
    "get_run",
    "get_run_with_tests",
    "latest_public_runs",
    "list_runs",
    "names_of",
    "passed_cases",
    "passed_names",
    "passed_report",
    "passed_reports",
    "privileged",
    "public_changes",
    "recount",
    "report_of",
    "role_for",
    "run_report",
    "save_run",
    "save_upload",
    "selection_of",
    "set_meta",
    "set_verification_status",
    "visible_clouds",
    "visible_meta",
]
