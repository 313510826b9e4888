"""Runs in the database: converts rows <-> model. ORM rows never leave this module.

Callers get :class:`RunRecord` (a run's columns) and :class:`~interop_model.RunReport`
(its tests); they pass plain values and :class:`ListFilters` in.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interop_model import RunReport
from interop_model.wire import V1Upload, loads_extended
from webapp import testsets
from webapp.tables import ExtendedRun, Run, RunCount, RunTests

SHARED = "shared"
USER = "user"
PUBLIC_COUNT = "public"
_DEFERRED_JOIN_FROM = 2000
PUBLIC_META_KEYS = ("shared", "guideline", "target")


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

    @property
    def public(self) -> bool:
        """Visible to everyone: unsigned, or signed and shared."""
        return not self.signed or self.shared


@dataclass(frozen=True, slots=True)
class ListFilters:
    """Filters of ``GET /v1/results`` (already parsed and checked)."""

    start: datetime | None = None
    end: datetime | None = None
    cpid: str | None = None
    owner_id: int | None = None  # ``signed``: the caller's own signed runs, private ones included
    verification_status: int | None = None


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
    )


def save_run(session: Session, run: RunReport, new: NewRun) -> SavedRun:
    """Store a run's passed tests (and its extended document); recognise a repeated signed upload."""
    passed = tuple((c.test_id, testsets.normalise_uuid(c.idempotent_id)) for c in run.results if c.passed)
    return save_upload(session, V1Upload(cpid=run.cpid, duration_seconds=run.duration_seconds, cases=passed), new)


def save_upload(session: Session, run: V1Upload, new: NewRun) -> SavedRun:
    """Store an upload's tests (all passed; and its extended document); recognise a repeated signed upload."""
    if new.pubkey_id is not None and new.body_sha256 is not None:
        existing = _find_duplicate(session, new.pubkey_id, new.body_sha256)
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
            )
            .returning(Run.pk)
        ).scalar_one()
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
        if new.pubkey_id is None or new.body_sha256 is None:
            raise
        existing = _find_duplicate(session, new.pubkey_id, new.body_sha256)
        if existing is None:
            raise
        return SavedRun(existing, created=False)
    return SavedRun(run_id, created=True)


def _find_duplicate(session: Session, pubkey_id: int, body_sha256: str) -> str | None:
    return session.scalar(select(Run.id).where(Run.pubkey_id == pubkey_id, Run.body_sha256 == body_sha256))


def attach_extended(session: Session, run_id: str, body: bytes) -> None:
    """Attach (or replace) the extended document of an existing run."""
    row = session.scalar(select(Run).where(Run.id == run_id))
    if row is None:
        raise KeyError(run_id)
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


def full_report(session: Session, record: RunRecord) -> RunReport:
    """Every outcome when the run has an extended document, else the passed tests."""
    body = extended_body(session, record.id) if record.has_extended else None
    return loads_extended(body) if body is not None else passed_report(session, record)


def _filtered(query: Select[Any], filters: ListFilters) -> Select[Any]:
    if filters.owner_id is not None:
        query = query.where(Run.owner_id == filters.owner_id)
    else:
        query = query.where(Run.public.is_(True))
    if filters.start is not None:
        query = query.where(Run.created_at >= filters.start)
    if filters.end is not None:
        query = query.where(Run.created_at <= filters.end)
    if filters.cpid is not None:
        query = query.where(Run.cpid == filters.cpid)
    if filters.verification_status is not None:
        query = query.where(Run.verification_status == filters.verification_status)
    return query


def count_runs(session: Session, filters: ListFilters) -> int:
    """How many runs the filters select (the unfiltered public list reads a maintained counter)."""
    if filters == ListFilters():
        counted = session.scalar(select(RunCount.count).where(RunCount.name == PUBLIC_COUNT))
        if counted is not None:
            return int(counted)
    return session.scalar(_filtered(select(func.count()).select_from(Run), filters)) or 0


def list_runs(session: Session, filters: ListFilters, *, page: int, per_page: int) -> list[RunRecord]:
    """One page of runs, newest first. Reads no test data.

    Deep pages first pick the page's keys from the index alone, then read those rows
    (a "deferred join"), instead of reading and discarding every row before the page.
    """
    order = (Run.created_at.desc(), Run.pk.desc())
    offset = (page - 1) * per_page
    if offset < _DEFERRED_JOIN_FROM:
        rows = session.scalars(_filtered(select(Run), filters).order_by(*order).offset(offset).limit(per_page))
        return [_record(r) for r in rows]
    keys = _filtered(select(Run.pk), filters).order_by(*order).offset(offset).limit(per_page).subquery()
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
        raise KeyError(run_id)
    meta = dict(row.meta or {})
    change(meta)
    was_public = row.public
    row.meta = meta
    row.shared = SHARED in meta
    row.public = not row.signed or row.shared
    if row.public != was_public:
        _count_public(session, +1 if row.public else -1)
    session.commit()


def set_verification_status(session: Session, run_id: str, status: int) -> RunRecord:
    """Set the Foundation's verification flag and return the run."""
    row = session.scalar(select(Run).where(Run.id == run_id).with_for_update())
    if row is None:
        raise KeyError(run_id)
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
    session.execute(update(RunCount).where(RunCount.name == PUBLIC_COUNT).values(count=RunCount.count + delta))


def recount(session: Session) -> int:
    """Recompute the maintained counters from the runs (after bulk loads; ``init-db`` runs it)."""
    public = session.scalar(select(func.count()).select_from(Run).where(Run.public.is_(True))) or 0
    counter = session.get(RunCount, PUBLIC_COUNT)
    if counter is None:
        session.add(RunCount(name=PUBLIC_COUNT, count=public))
    else:
        counter.count = public
    session.commit()
    return public


def latest_public_runs(session: Session, *, signed_only: bool = False) -> list[RunRecord]:
    """Each cloud's newest public run (unsigned, or signed and shared): the scoring evidence."""
    ranked = select(
        Run.pk,
        func.row_number().over(partition_by=Run.cpid, order_by=(Run.created_at.desc(), Run.pk.desc())).label("n"),
    ).where(Run.public.is_(True))
    if signed_only:
        ranked = ranked.where(Run.signed.is_(True))
    sub = ranked.subquery()
    rows = session.scalars(select(Run).join(sub, sub.c.pk == Run.pk).where(sub.c.n == 1).order_by(Run.cpid))
    return [_record(r) for r in rows]


__all__ = [
    "PUBLIC_META_KEYS",
    "ListFilters",
    "NewRun",
    "RunRecord",
    "SavedRun",
    "attach_extended",
    "count_runs",
    "delete_meta",
    "delete_run",
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
    "recount",
    "report_of",
    "save_run",
    "save_upload",
    "set_meta",
    "set_verification_status",
]
