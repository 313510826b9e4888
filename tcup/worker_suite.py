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
* A class that asks for an API microversion (a ``min_microversion``, ``volume_min_microversion`` or
  ``placement_min_microversion`` attribute) runs alone in its worker: Tempest keeps the request
  microversion in module globals (``base_compute_client.COMPUTE_MICROVERSION`` and the volume and
  placement ones), which every compute or volume class sets in its set-up and clears in its
  tear-down, so a class beside it would change the version of its requests. The others (which all
  request the configured minimum, the API's default) still share the worker's threads.
* stestr's ``--load-list`` selects tests by name, without the ``[attributes]``: Tempest adds some
  attributes only under a given configuration (``slow`` when ``[validation] run_validation`` is
  set), so the run's ids may differ there from those the test index was listed with.
"""

from __future__ import annotations

import json
import threading
import unittest
from pathlib import Path
from typing import Any

from testtools import ThreadsafeForwardingResult, iterate_tests
from testtools.testsuite import filter_by_ids

PLAN_FILE = "plan.json"
THREAD_TAG = "tcup-thread-"
# Class attributes that make Tempest request an API microversion other than the configured minimum
MICROVERSION_ATTRIBUTES = ("min_microversion", "volume_min_microversion", "placement_min_microversion")


def _plan() -> dict[str, Any]:
    data = json.loads((Path(__file__).parent / PLAN_FILE).read_text())
    return data if isinstance(data, dict) else {}


def load_tests(loader: unittest.TestLoader, tests: unittest.TestSuite, pattern: str | None) -> unittest.TestSuite:
    """The ``load_tests`` protocol: the plan's modules, run by :class:`ThreadedSuite` when asked."""
    plan = _plan()
    suite = unittest.TestSuite(loader.loadTestsFromNames(plan.get("modules", [])))
    return ThreadedSuite(suite, threads=int(plan.get("threads", 1)), order=plan.get("order", []))


def class_of(test_id: str) -> str:
    """``pkg.mod.Class.test_x[attrs]`` -> ``pkg.mod.Class``."""
    return test_id.split("[", 1)[0].rsplit(".", 1)[0]


def name_of(test_id: str) -> str:
    """``pkg.mod.Class.test_x[attrs]`` -> ``pkg.mod.Class.test_x``."""
    return test_id.split("[", 1)[0]


def sets_microversion(group: list[unittest.TestCase]) -> bool:
    """True when the class of ``group`` asks for an API microversion (it must run alone)."""
    cls = type(group[0]) if group else None
    return any(getattr(cls, attr, None) is not None for attr in MICROVERSION_ATTRIBUTES)


class ThreadedSuite(unittest.TestSuite):
    """Runs its test classes on ``threads`` threads, each class whole on one thread, and a class
    that sets a microversion alone."""

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
        """stestr's ``--load-list`` filter, applied to the wrapped suite by test name (the
        ``[attributes]`` of an id may depend on the configuration)."""
        self.inner = filter_by_ids(self.inner, _ByName(test_ids))
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
        if self.threads <= 1:
            return self.inner.run(result, debug)
        classes = self.classes()
        work = _Work(classes)
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


class _ByName:
    """The ids of a load list, matched by test name whatever their ``[attributes]``."""

    def __init__(self, test_ids: Any) -> None:
        self.names = {name_of(str(i)) for i in test_ids}

    def __contains__(self, test_id: object) -> bool:
        return name_of(str(test_id)) in self.names


class _Work:
    """The classes still to run, handed out in order; a class that sets a microversion waits until
    no other class runs, and no class starts while it runs (or waits)."""

    def __init__(self, classes: list[list[unittest.TestCase]]) -> None:
        self.pending = list(classes)
        self.running = 0
        self.exclusive = False  # a microversion class has been taken: it runs (or waits) alone
        self.changed = threading.Condition()

    def take(self, stop: threading.Event) -> list[unittest.TestCase] | None:
        """The next class to run (None: nothing left, or stopping); blocks while a class runs alone."""
        with self.changed:
            while self.exclusive:
                self.changed.wait(0.2)
            if stop.is_set() or not self.pending:
                return None
            group = self.pending.pop(0)
            if sets_microversion(group):
                self.exclusive = True
                while self.running:
                    self.changed.wait(0.2)
            self.running += 1
            return group

    def done(self, group: list[unittest.TestCase]) -> None:
        with self.changed:
            self.running -= 1
            if sets_microversion(group):
                self.exclusive = False
            self.changed.notify_all()


def _drain(work: _Work, forward: ThreadsafeForwardingResult, stop: threading.Event, target: Any) -> None:
    while not getattr(target, "shouldStop", False):
        group = work.take(stop)
        if group is None:
            return
        try:
            # NOTE: each class is a fresh top-level run: unittest must not tear the previous class down again
            forward._previousTestClass = None  # type: ignore[attr-defined]
            forward._moduleSetUpFailed = False  # type: ignore[attr-defined]
            unittest.TestSuite(group).run(forward)
        finally:
            work.done(group)
