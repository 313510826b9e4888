"""A run's passed tests, stored compactly: distinct test cases once, runs as packed ids.

Every distinct (name, idempotent id) pair is one :class:`~webapp.store.tables.TestCase` row,
keyed by the SHA-1 of the pair. A run stores the sorted ids of its test cases
delta-encoded as unsigned varints and zlib-compressed: about 1.5 kB for 1,500 tests,
where one row per test would take RefStack's 1,500 rows.

Test cases never change once written, so each app keeps an id <-> case cache (in its
:class:`~webapp.store.cache.StoreCaches`); a warm cache makes an upload's 1,500 lookups
free and a run's names a dict read.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Iterable, Sequence
from itertools import accumulate
from uuid import UUID

from sqlalchemy import ColumnElement, Integer, any_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from interop_model import CaseResult
from webapp.store.cache import caches_of
from webapp.store.tables import TestCase

Case = tuple[str, str | None]  # (name, idempotent id in canonical text, or None): the cache's key too
_CHUNK = 500
_CACHE_LIMIT = 500_000


class _Cache:
    """One database's maps between test-case keys and ids (bounded; cleared when full)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_case: dict[Case, int] = {}
        self.by_id: dict[int, Case] = {}
        self.results: dict[int, CaseResult] = {}  # passed CaseResults, immutable, shared by every run

    def add(self, case_id: int, case: Case) -> None:
        with self.lock:
            if len(self.by_id) >= _CACHE_LIMIT:
                self.by_case.clear()
                self.by_id.clear()
                self.results.clear()
            self.by_case[case] = case_id
            self.by_id[case_id] = case


def _cache_of(session: Session) -> _Cache:
    """The cache of the session's database: ids differ from one database to another."""
    caches = caches_of(session)
    if caches.cases is None:
        with caches.lock:
            if caches.cases is None:
                caches.cases = _Cache()
    return caches.cases  # type: ignore[no-any-return]


def case_key(name: str, uuid: str | None) -> str:
    """The SHA-1 hex of a (name, id) pair: the unique key of a test case."""
    return hashlib.sha1(f"{name}\x00{uuid or ''}".encode()).hexdigest()


def resolve_cases(session: Session, cases: Sequence[Case]) -> list[int]:
    """The ids of ``cases`` ((name, idempotent id in canonical text)), inserting the unknown ones.

    Commits its own short transaction when it inserts.

    New cases are inserted in key order with ON CONFLICT DO NOTHING, so concurrent
    uploads of the same new names neither fail nor deadlock.
    """
    cache = _cache_of(session)
    known = cache.by_case
    ids = [known.get(case) for case in cases]
    if None not in ids:
        return ids  # type: ignore[return-value]
    missing = {
        case_key(name, uuid): (name, uuid) for (name, uuid), case_id in zip(cases, ids, strict=True) if case_id is None
    }
    found = _load(session, cache, list(missing))
    new = sorted(k for k in missing if k not in found)
    if new:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        for chunk in _chunks(new):
            rows = [{"key_sha1": k, "name": missing[k][0], "uuid": missing[k][1]} for k in chunk]
            session.execute(insert(TestCase).values(rows).on_conflict_do_nothing(index_elements=["key_sha1"]))
        session.commit()
        found.update(_load(session, cache, new))
    by_case = {missing[k]: case_id for k, case_id in found.items()}
    return [case_id if case_id is not None else by_case[case] for case, case_id in zip(cases, ids, strict=True)]


def _load(session: Session, cache: _Cache, keys: list[str]) -> dict[str, int]:
    """Look keys up, caching what is found; returns key -> id."""
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(TestCase.id, TestCase.key_sha1, TestCase.name, TestCase.uuid).where(TestCase.key_sha1.in_(chunk))
        )
        for case_id, key, name, uuid in rows:
            cache.add(case_id, (name, uuid))
            found[key] = case_id
    return found


def cases_of(session: Session, ids: Iterable[int]) -> list[Case]:
    """The (name, id) pairs of test-case ``ids``, in the same order."""
    cache = _cache_of(session)
    ids = list(ids)
    found: dict[int, Case] = {}
    unknown = [i for i in ids if i not in cache.by_id]
    for where in _id_filters(session, unknown):
        rows = session.execute(select(TestCase.id, TestCase.name, TestCase.uuid).where(where))
        for case_id, name, uuid in rows:
            cache.add(case_id, (name, uuid))
            found[case_id] = (name, uuid)
    by_id = cache.by_id
    return [found[i] if i in found else by_id[i] for i in ids]


def passed_results(session: Session, ids: Iterable[int]) -> list[CaseResult]:
    """A passed :class:`CaseResult` per test-case id (made once per app and case)."""
    cache = _cache_of(session)
    ids = list(ids)
    results = cache.results
    missing = [i for i in ids if i not in results]
    if missing:
        for case_id, (name, uuid) in zip(missing, cases_of(session, missing), strict=True):
            results[case_id] = CaseResult(test_id=name, idempotent_id=UUID(uuid) if uuid else None)
    return [results[i] for i in ids]


def pack_ids(ids: Iterable[int]) -> bytes:
    """Sorted, de-duplicated ids -> delta varints -> zlib."""
    out = bytearray()
    previous = 0
    for value in sorted(set(ids)):
        delta = value - previous
        previous = value
        while delta >= 0x80:
            out.append((delta & 0x7F) | 0x80)
            delta >>= 7
        out.append(delta)
    return zlib.compress(bytes(out), 6)


def unpack_ids(packed: bytes) -> list[int]:
    """The inverse of :func:`pack_ids`."""
    data = zlib.decompress(packed)
    if data.isascii():  # every delta fits one byte (below 0x80): the usual case, decoded in C
        return list(accumulate(data))
    ids: list[int] = []
    value = shift = current = 0
    for byte in data:
        current |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        value += current
        ids.append(value)
        current = shift = 0
    return ids


def normalise_uuid(uuid: UUID | None) -> str | None:
    """The canonical text of an idempotent id, or None."""
    return str(uuid) if uuid is not None else None


def _id_filters(session: Session, ids: list[int]) -> Iterable[ColumnElement[bool]]:
    """Conditions that together select the test cases ``ids``: on PostgreSQL one array
    parameter per 50,000 ids (nothing for SQLAlchemy to expand into a statement of its own);
    elsewhere ``IN`` lists of 500, within SQLite's limit on parameters."""
    if session.get_bind().dialect.name == "postgresql":
        for start in range(0, len(ids), 50_000):
            yield TestCase.id == any_(bindparam("ids", ids[start : start + 50_000], type_=postgresql.ARRAY(Integer)))
    else:
        for chunk in _chunks(ids):
            yield TestCase.id.in_(chunk)


def _chunks(items: list[str] | list[int]) -> Iterable[list]:  # type: ignore[type-arg]
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


__all__ = [
    "Case",
    "case_key",
    "cases_of",
    "normalise_uuid",
    "pack_ids",
    "passed_results",
    "resolve_cases",
    "unpack_ids",
]
