"""Spreading test classes over stestr workers: what each class cost last time, and a balanced plan."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import subunit
import testtools
import yaml

from tcup import worker_suite
from tcup.worker_suite import class_of

__all__ = ["Schedule", "balanced_groups", "class_costs", "write_worker_file"]


class _Timeline(testtools.StreamResult):
    """Start and end events per worker and thread: (timestamp, test id).

    A test's start goes with its end: with threads, only the end carries the thread's tag.
    """

    def __init__(self) -> None:
        super().__init__()
        self.workers: dict[str, list[tuple[Any, str]]] = {}
        self._started: dict[tuple[str, str], Any] = {}

    def status(  # type: ignore[override]
        self,
        test_id: str | None = None,
        test_status: str | None = None,
        test_tags: set[str] | None = None,
        timestamp: Any = None,
        route_code: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not test_id or timestamp is None:
            return
        if test_status == "inprogress":
            self._started[(route_code or "", test_id)] = timestamp
            return
        if test_status not in ("success", "fail", "skip", "xfail", "uxsuccess"):
            return
        tags = test_tags or ()
        worker = next((t for t in tags if t.startswith("worker-")), "worker-0")
        thread = next((t for t in tags if t.startswith(worker_suite.THREAD_TAG)), "")
        events = self.workers.setdefault(f"{worker}/{thread}", [])
        started = self._started.pop((route_code or "", test_id), None)
        if started is not None:
            events.append((started, test_id))
        events.append((timestamp, test_id))


def class_costs(stream: Path) -> dict[str, float]:
    """Seconds each test class took on its worker (thread): from the end of the previous class's work
    to the end of its last test (so its setUpClass and the previous tearDownClass count too)."""
    timeline = _Timeline()
    with open(stream, "rb") as source:
        subunit.ByteStreamToStreamResult(source, non_subunit_name="stdout").run(timeline)
    costs: dict[str, float] = {}
    for events in timeline.workers.values():
        events.sort(key=lambda e: e[0])
        previous = events[0][0]
        for timestamp, test_id in events:
            cls = class_of(test_id)
            if test_id.startswith(("setUpClass (", "tearDownClass (")):
                cls = test_id[test_id.index("(") + 1 :].rstrip(")")
            costs[cls] = costs.get(cls, 0.0) + max(0.0, (timestamp - previous).total_seconds())
            previous = timestamp
    return costs


@dataclass(frozen=True, slots=True)
class Schedule:
    """What each worker runs (class names, or single test names of a class split over workers),
    and every class longest first (the order each worker's threads take them in)."""

    workers: list[list[str]]
    order: list[str]
    split: frozenset[str]


def balanced_groups(test_ids: Sequence[str], workers: int, costs: dict[str, float], *, threads: int = 1) -> Schedule:
    """Test classes spread over ``workers`` x ``threads`` slots, longest first, each into the least
    loaded slot; slot ``s`` belongs to worker ``s % workers``.

    A class longer than a slot's fair share (the total over the slots) is split over several workers
    by tests, as its tests do not depend on each other: each part pays the class's set-up again, but a
    class of slow tests no longer sets the run's length. Only classes with a recorded cost are split;
    the others count as the median known cost per test times their tests.
    """
    by_class: dict[str, list[str]] = {}
    for test_id in test_ids:
        by_class.setdefault(class_of(test_id), []).append(test_id)
    known = sorted(costs[c] / len(t) for c, t in by_class.items() if c in costs)
    per_test = known[len(known) // 2] if known else 1.0
    weights = {c: costs.get(c, per_test * len(t)) for c, t in by_class.items()}
    workers = max(1, min(workers, len(test_ids)))
    slots = workers * max(1, threads)
    fair = sum(weights.values()) / slots
    units: list[tuple[float, str, tuple[str, ...]]] = []  # (weight, class, its tests; () for the whole class)
    split: set[str] = set()
    for cls, ids in by_class.items():
        names = list(dict.fromkeys(i.split("[", 1)[0] for i in ids))
        parts = min(len(names), workers, int(weights[cls] // fair) + 1) if cls in costs and fair > 0 else 1
        if parts <= 1:
            units.append((weights[cls], cls, ()))
            continue
        split.add(cls)
        units.extend((weights[cls] / parts, cls, tuple(names[p::parts])) for p in range(parts))
    loads = [0.0] * slots
    chosen: list[list[str]] = [[] for _ in range(workers)]
    holders: dict[str, set[int]] = {}
    for weight, cls, part in sorted(units, key=lambda u: (-u[0], u[1], u[2])):
        taken = holders.setdefault(cls, set())
        free = [s for s in range(slots) if s % workers not in taken]
        slot = min(free or range(slots), key=lambda s: (loads[s], s))
        loads[slot] += weight
        taken.add(slot % workers)
        chosen[slot % workers].extend(part or (cls,))
    order = sorted(by_class, key=lambda c: (-weights[c], c))
    return Schedule(workers=[w for w in chosen if w], order=order, split=frozenset(split))


def write_worker_file(path: Path, schedule: Schedule) -> None:
    """stestr's worker file: a class as ``^pkg.mod.Class\\.``, a test of a split class as
    ``^pkg.mod.Class.test_x(\\[|$)``."""
    workers = []
    for names in schedule.workers:
        patterns = [
            f"^{re.escape(n)}(?:\\[|$)" if class_of(n) in schedule.split else f"^{re.escape(n)}\\." for n in names
        ]
        workers.append({"worker": patterns})
    path.write_text(yaml.safe_dump(workers, sort_keys=False))
