"""The test loader of each stestr worker: copied by :mod:`tcup.runner` into the stestr workspace
as the package ``tcup_discover`` and imported there by Tempest's Python (so it needs only the
standard library and testtools, which stestr brings).

* It imports only the modules of the run's tests (``plan.json`` beside it), not all of Tempest.
* With ``threads`` > 1 it runs that many test classes at once in the worker: Tempest's tests mostly
  wait on the cloud, so a few threads per process keep the cloud busy without a Python process
  (and its imports) per class. A class always runs whole on one thread, with its own
  setUpClass/tearDownClass; classes start longest first (``order``). Each thread's results reach
  stestr one complete test at a time (testtools' ``ThreadsafeForwardingResult``), tagged
  ``tcup-thread-N``.
"""

from __future__ import annotations

import json
import queue
import threading
import unittest
from pathlib import Path
from typing import Any

from testtools import ThreadsafeForwardingResult, iterate_tests
from testtools.testsuite import filter_by_ids

PLAN_FILE = "plan.json"
THREAD_TAG = "tcup-thread-"


def _plan() -> dict[str, Any]:
    data = json.loads((Path(__file__).parent / PLAN_FILE).read_text())
    return data if isinstance(data, dict) else {}


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite, pattern: str | None) -> unittest.TestSuite:
    """The ``load_tests`` protocol: the plan's modules, run by :class:`ThreadedSuite` when asked."""
    plan = _plan()
    suite = unittest.TestSuite(loader.loadTestsFromNames(plan.get("modules", [])))
    threads = int(plan.get("threads", 1))
    if threads <= 1:
        return suite
    return ThreadedSuite(suite, threads=threads, order=plan.get("order", []))


def class_of(test_id: str) -> str:
    """``pkg.mod.Class.test_x[attrs]`` -> ``pkg.mod.Class``."""
    return test_id.split("[", 1)[0].rsplit(".", 1)[0]


class ThreadedSuite(unittest.TestSuite):
    """Runs its test classes on ``threads`` threads, each class whole on one thread."""

    def __init__(self, inner: unittest.TestSuite, *, threads: int, order: list[str]) -> None:
        super().__init__()
        self.inner = inner
        self.threads = threads
        self.order = order

    def __iter__(self) -> Any:
        return iter(self.inner)

    def countTestCases(self) -> int:  # noqa: N802  (unittest's name)
        return self.inner.countTestCases()

    def filter_by_ids(self, test_ids: Any) -> ThreadedSuite:
        """stestr's ``--load-list`` filter, applied to the wrapped suite."""
        self.inner = filter_by_ids(self.inner, test_ids)
        return self

    def classes(self) -> list[list[unittest.TestCase]]:
        """The tests grouped by class, longest-known classes first, then in load order."""
        groups: dict[str, list[unittest.TestCase]] = {}
        for test in iterate_tests(self.inner):
            groups.setdefault(class_of(test.id()), []).append(test)
        rank = {name: i for i, name in enumerate(self.order)}
        # NOTE: the sort is stable, so classes without a rank keep their load order
        return [groups[n] for n in sorted(groups, key=lambda n: rank.get(n, len(rank)))]

    def run(self, result: Any, debug: bool = False) -> Any:
        work: queue.SimpleQueue[list[unittest.TestCase]] = queue.SimpleQueue()
        classes = self.classes()
        for group in classes:
            work.put(group)
        semaphore = threading.Semaphore(1)
        stop = threading.Event()
        workers = []
        for number in range(min(self.threads, len(classes))):
            forward = ThreadsafeForwardingResult(result, semaphore)
            forward.tags({f"{THREAD_TAG}{number}"}, set())
            thread = threading.Thread(
                target=_drain, args=(work, forward, stop, result), daemon=True, name=f"{THREAD_TAG}{number}"
            )
            thread.start()
            workers.append(thread)
        try:
            for thread in workers:
                while thread.is_alive():
                    thread.join(0.2)
        except KeyboardInterrupt:
            stop.set()  # NOTE: no new class starts; the process ends with the classes running now
            raise
        return result


def _drain(
    work: queue.SimpleQueue[list[unittest.TestCase]],
    forward: ThreadsafeForwardingResult,
    stop: threading.Event,
    target: Any,
) -> None:
    while not stop.is_set() and not getattr(target, "shouldStop", False):
        try:
            group = work.get_nowait()
        except queue.Empty:
            return
        # NOTE: each class is a fresh top-level run: unittest must not tear the previous class down again
        forward._previousTestClass = None  # type: ignore[attr-defined]
        forward._moduleSetUpFailed = False  # type: ignore[attr-defined]
        unittest.TestSuite(group).run(forward)
