"""The store's caches: one set per app (per :class:`~webapp.store.database.Database`), never per process.

Each cache holds facts that never change once written, so none of them needs
invalidating: test cases (a name and id never change), parsed guideline files (keyed
by their content's hash), and which test cases a set of guidelines lists. Each is
bounded, and emptied when full (its entries are cheap to recompute).

Every session a :class:`~webapp.store.database.Database` makes carries its caches in
``session.info[CACHES]``; a session made some other way gets a private set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

CACHES = "tcup_caches"


class Bounded:
    """A small thread-safe mapping, emptied when it reaches ``limit`` entries."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.items: dict[Any, Any] = {}

    def get(self, key: Any) -> Any:
        """The value for ``key``, or None."""
        return self.items.get(key)

    def put(self, key: Any, value: Any) -> None:
        """Keep ``value`` for ``key`` (emptying the mapping first when full)."""
        with self.lock:
            if len(self.items) >= self.limit:
                self.items.clear()
            self.items[key] = value

    def setdefault(self, key: Any, factory: Any) -> Any:
        """The value for ``key``, made by ``factory()`` and kept when missing."""
        found = self.items.get(key)
        if found is None:
            with self.lock:
                found = self.items.get(key)
                if found is None:
                    if len(self.items) >= self.limit:
                        self.items.clear()
                    found = self.items[key] = factory()
        return found

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            self.items.clear()


@dataclass
class StoreCaches:
    """The caches of one database (see the module docstring)."""

    # test-case id <-> (name, idempotent id), and the passed CaseResult of each id (webapp.store.testsets)
    cases: Any = None
    # file name -> (sha256, LoadedGuideline); (sha256, file name) -> Guideline (webapp.store.catalog)
    guideline_files: Bounded = field(default_factory=lambda: Bounded(64))
    parsed_guidelines: Bounded = field(default_factory=lambda: Bounded(64))
    # guidelines -> (their test names, their idempotent ids) (webapp.store.runs)
    listed_tests: Bounded = field(default_factory=lambda: Bounded(64))
    # (names, ids) -> each test-case id judged: the case as a passed result, or None when unlisted,
    # and the set of listed ids (webapp.store.runs)
    relevance: Bounded = field(default_factory=lambda: Bounded(16))
    # registry counter -> the public registry and the product lists (webapp.store.products)
    registry: Bounded = field(default_factory=lambda: Bounded(4))
    lock: threading.Lock = field(default_factory=threading.Lock)


def caches_of(session: Session) -> StoreCaches:
    """The caches of the session's database."""
    found = session.info.get(CACHES)
    if found is None:
        found = session.info[CACHES] = StoreCaches()
    return found


__all__ = ["CACHES", "Bounded", "StoreCaches", "caches_of"]
