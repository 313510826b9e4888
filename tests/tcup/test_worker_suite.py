"""The worker loader under the real stestr of the Tempest install: classes on threads, whole and once.

A stand-in test package (no cloud) records when each class's setUpClass/tearDownClass ran and on
which thread; each test waits 0.4 s, as API tests wait on a cloud. Classes named in
``TCUP_FAKE_MICROVERSIONED`` ask for an API microversion, as Tempest's microversioned classes do.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from tcup.runner import run_tests
from tcup.scheduling import class_costs
from tcup.subunit_reader import read_results_file
from tcup.tempest_config import TempestFiles
from tcup.test_index import TempestInstall
from tests.conftest import skip_or_fail

CLASSES = ("Alpha", "Beta", "Gamma", "Delta")
TESTS_PER_CLASS = 3

FAKE_MODULE = """
import json, os, threading, time, unittest

LOG = os.environ["TCUP_FAKE_LOG"]
# with TCUP_FAKE_TOGETHER=N, no class without a microversion gets past its set-up until N such
# classes are in set-up at once
TOGETHER = threading.Barrier(int(os.environ.get("TCUP_FAKE_TOGETHER") or 1), timeout=60)
MICROVERSIONED = [n for n in os.environ.get("TCUP_FAKE_MICROVERSIONED", "").split(",") if n]


def note(event, cls):
    with open(LOG, "a") as out:
        out.write(json.dumps({{"event": event, "class": cls.__name__, "thread": threading.get_ident(),
                              "at": time.monotonic()}}) + "\\n")


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        note("setup", cls)
        if cls.__name__ not in MICROVERSIONED:
            TOGETHER.wait()

    @classmethod
    def tearDownClass(cls):
        note("teardown", cls)

{classes}

# as Tempest's BaseV2ComputeTest / BaseVolumeTest subclasses say which microversion they need
for number, name in enumerate(MICROVERSIONED):
    setattr(globals()[name], ("min_microversion", "volume_min_microversion")[number % 2], "2.2")
"""

CLASS = """
class {name}(Base):
{tests}
"""

TEST = """    def test_{i}(self):
        note("test", type(self))
        time.sleep(0.4)
        {body}
"""


def _package(root: Path) -> list[str]:
    pkg = root / "fakeapi"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    classes = []
    for name in CLASSES:
        tests = "".join(
            TEST.format(i=i, body="self.fail('boom')" if (name, i) == ("Gamma", 1) else "pass")
            for i in range(TESTS_PER_CLASS)
        )
        classes.append(CLASS.format(name=name, tests=tests))
    (pkg / "test_fake.py").write_text(textwrap.dedent(FAKE_MODULE.format(classes="".join(classes))))
    return [f"fakeapi.test_fake.{c}.test_{i}" for c in CLASSES for i in range(TESTS_PER_CLASS)]


@pytest.fixture(scope="module")
def tempest_env():  # type: ignore[no-untyped-def]
    from tcup.errors import TempestNotFound
    from tcup.tempest_env import find_tempest

    try:
        return find_tempest()
    except TempestNotFound as exc:
        skip_or_fail(f"no Tempest installed (its stestr runs the workers): {exc}")


def _run(  # type: ignore[no-untyped-def]
    tmp_path: Path,
    env,
    threads: int,
    concurrency: int = 1,
    together: int = 1,
    microversioned: tuple[str, ...] = (),
    attrs: str = "",
):
    source = tmp_path / "src"
    source.mkdir()
    ids = _package(source)
    log = tmp_path / "events.jsonl"
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "fakeapi").symlink_to(source / "fakeapi")
    private = tmp_path / "private"
    files = TempestFiles(
        conf=private / "tempest.conf",
        accounts=private / "accounts.yaml",
        lock_dir=private / "locks",
        log_dir=private / "logs",
    )
    os.environ["TCUP_FAKE_LOG"] = str(log)
    os.environ["TCUP_FAKE_TOGETHER"] = str(together)
    os.environ["TCUP_FAKE_MICROVERSIONED"] = ",".join(microversioned)
    try:
        outcome = run_tests(
            env=env,
            install=TempestInstall("0", str(source), ()),
            files=files,
            test_ids=[f"{i}{attrs}" for i in ids],
            concurrency=concurrency,
            subunit_path=tmp_path / "out.subunit",
            stderr_path=tmp_path / "stestr.log",
            workspace=workspace,
            threads=threads,
        )
    finally:
        del os.environ["TCUP_FAKE_LOG"], os.environ["TCUP_FAKE_TOGETHER"], os.environ["TCUP_FAKE_MICROVERSIONED"]
    events = [json.loads(line) for line in log.read_text().splitlines()]
    return outcome, events


def test_classes_run_side_by_side_each_whole_on_one_thread(tmp_path: Path, tempest_env) -> None:  # type: ignore[no-untyped-def]
    # every class waits in its set-up for the other three: the run only passes if all four ran at once
    outcome, events = _run(tmp_path, tempest_env, threads=4, together=len(CLASSES))
    results = {r.test_id: r.outcome.value for r in read_results_file(outcome.subunit_path).results}
    assert len(results) == len(CLASSES) * TESTS_PER_CLASS
    assert results.pop("fakeapi.test_fake.Gamma.test_1") == "fail"
    assert set(results.values()) == {"success"}
    for name in CLASSES:
        mine = [e for e in events if e["class"] == name]
        assert [e["event"] for e in mine] == ["setup", *["test"] * TESTS_PER_CLASS, "teardown"]  # once each
        assert len({e["thread"] for e in mine}) == 1  # the whole class on one thread
    assert len({e["thread"] for e in events}) == len(CLASSES)
    # the stream says which thread ran what, and the class costs follow each thread: each class is
    # charged at least its own 3 x 0.4 s (one timeline for all four threads would share that time out)
    costs = class_costs(outcome.subunit_path)
    assert set(costs) == {f"fakeapi.test_fake.{c}" for c in CLASSES}
    assert all(v >= TESTS_PER_CLASS * 0.4 for v in costs.values()), costs


def test_one_thread_runs_the_classes_one_after_another(tmp_path: Path, tempest_env) -> None:  # type: ignore[no-untyped-def]
    outcome, events = _run(tmp_path, tempest_env, threads=1)
    assert len(read_results_file(outcome.subunit_path).results) == len(CLASSES) * TESTS_PER_CLASS
    order = [(e["event"], e["class"]) for e in events if e["event"] != "test"]
    # each class is set up after the previous one was torn down
    assert order == [(kind, c) for c in sorted(CLASSES) for kind in ("setup", "teardown")]


def _spans(events: list[dict]) -> dict[str, tuple[float, float]]:  # type: ignore[type-arg]
    """Class -> (its set-up began, its tear-down ran)."""
    begin = {e["class"]: e["at"] for e in events if e["event"] == "setup"}
    return {e["class"]: (begin[e["class"]], e["at"]) for e in events if e["event"] == "teardown"}


def test_a_class_that_sets_a_microversion_runs_alone_in_its_worker(tmp_path: Path, tempest_env) -> None:  # type: ignore[no-untyped-def]
    # Gamma asks for a compute microversion, Delta for a volume one (Tempest keeps either in a module
    # global of the worker); Alpha and Beta wait in their set-up for each other, so they must share
    # the worker's threads, while Gamma and Delta must never overlap any other class
    outcome, events = _run(tmp_path, tempest_env, threads=4, together=2, microversioned=("Gamma", "Delta"))
    results = {r.test_id: r.outcome.value for r in read_results_file(outcome.subunit_path).results}
    assert len(results) == len(CLASSES) * TESTS_PER_CLASS
    assert results.pop("fakeapi.test_fake.Gamma.test_1") == "fail"
    assert set(results.values()) == {"success"}
    spans = _spans(events)
    assert set(spans) == set(CLASSES)
    alpha, beta = spans["Alpha"], spans["Beta"]
    assert alpha[0] < beta[1] and beta[0] < alpha[1]  # side by side
    for alone in ("Gamma", "Delta"):
        start, end = spans[alone]
        for other, (o_start, o_end) in spans.items():
            if other != alone:
                assert end < o_start or o_end < start, (alone, other, spans)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_load_list_selects_tests_whatever_their_attributes(tmp_path: Path, tempest_env, threads: int) -> None:  # type: ignore[no-untyped-def]
    # the test index was listed under another configuration: its ids carry attributes (a conditional
    # "slow") that the tests do not have in this run; every listed test must still run
    outcome, _ = _run(tmp_path, tempest_env, threads=threads, concurrency=2, attrs="[id-52e9045a,slow]")
    results = {r.test_id: r.outcome.value for r in read_results_file(outcome.subunit_path).results}
    assert set(results) == {f"fakeapi.test_fake.{c}.test_{i}" for c in CLASSES for i in range(TESTS_PER_CLASS)}
