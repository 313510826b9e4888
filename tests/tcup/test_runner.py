"""The runner with a stand-in ``stestr`` that streams subunit v2: live reading, outputs, Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from interop_model.results import CaseResult, Outcome
from tcup.errors import TempestRunError
from tcup.runner import run_tests, select_by_regex
from tcup.scheduling import balanced_groups, class_costs
from tcup.stestr_workspace import modules_of
from tcup.subunit_reader import read_results_file
from tcup.tempest_config import TempestFiles
from tcup.tempest_env import TempestEnv
from tcup.test_index import TempestInstall

IDS = [f"tempest.api.fake.test_x.FakeTest.test_{i}[id-00000000-0000-4000-8000-{i:012d}]" for i in range(6)]

FAKE_STESTR = '''#!{python}
"""Stands in for `stestr run --subunit`: one test per {delay}s from --load-list; records its argv and env."""
import json, os, sys, time, signal
import subunit
args = sys.argv[1:]
ids = open(args[args.index("--load-list") + 1]).read().split()
json.dump({{"argv": args, "env": {{k: v for k, v in os.environ.items() if k.startswith(("OS_", "TEMPEST"))}}}},
          open("fake-stestr-call.json", "w"))
signal.signal(signal.SIGINT, lambda *a: sys.exit(1))
out = subunit.StreamResultToBytes(sys.stdout.buffer)
for i, test_id in enumerate(ids):
    out.status(test_id=test_id, test_status="inprogress")
    sys.stdout.flush()
    time.sleep({delay})
    out.status(test_id=test_id, test_status="fail" if i == 1 else "success")
    sys.stdout.flush()
'''


def _env(tmp_path: Path, delay: float) -> tuple[TempestEnv, TempestInstall, TempestFiles]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "stestr"
    script.write_text(FAKE_STESTR.format(python=sys.executable, delay=delay))
    script.chmod(0o755)
    env = TempestEnv(python=Path(sys.executable), version="47.0.0", bin_dir=bin_dir)
    install = TempestInstall("47.0.0", str(tmp_path / "tempest"), ())
    private = tmp_path / "private"
    files = TempestFiles(
        conf=private / "etc" / "tempest.conf",
        accounts=private / "etc" / "accounts.yaml",
        lock_dir=private / "locks",
        log_dir=private / "logs",
    )
    for d in (files.conf.parent, files.lock_dir, files.log_dir):
        d.mkdir(parents=True)
    return env, install, files


class Recorder:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[CaseResult] = []
        self.times: list[float] = []

    def test_started(self, test_id: str) -> None:
        self.started.append(test_id)

    def test_finished(self, case: CaseResult) -> None:
        self.finished.append(case)
        self.times.append(time.monotonic())


def test_select_by_regex() -> None:
    assert select_by_regex(IDS, [r"test_[12]\[", r"test_5"]) == [IDS[1], IDS[2], IDS[5]]
    with pytest.raises(TempestRunError, match="not a valid regular expression"):
        select_by_regex(IDS, ["("])


def test_modules_of_ids() -> None:
    assert modules_of(
        [
            "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]",
            "tempest.api.identity.v3.test_tokens.TokensV3Test.test_other",
            "designate_tempest_plugin.tests.api.v2.test_zones.ZonesTest.test_create_zone[id-1,smoke]",
            "setUpClass (tempest.api.x.Y)",
        ]
    ) == ["designate_tempest_plugin.tests.api.v2.test_zones", "tempest.api.identity.v3.test_tokens"]


def test_run_reads_the_stream_live_and_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_PASSWORD", "must-not-reach-tempest")
    env, install, files = _env(tmp_path, delay=0.3)
    recorder = Recorder()
    workspace = tmp_path / "ws"
    started = time.monotonic()
    outcome = run_tests(
        env=env,
        install=install,
        files=files,
        test_ids=IDS,
        concurrency=3,
        subunit_path=tmp_path / "tempest.subunit",
        stderr_path=tmp_path / "stestr.log",
        workspace=workspace,
        listener=recorder,
    )
    assert not outcome.interrupted and outcome.returncode == 0
    assert [c.outcome for c in outcome.read.results] == [Outcome.SUCCESS, Outcome.FAIL] + [Outcome.SUCCESS] * 4
    assert len(recorder.started) == 6 and len(recorder.finished) == 6
    assert recorder.times[0] - started < 0.3 * 6  # the first result arrived before the run ended
    assert [c.test_id for c in read_results_file(outcome.subunit_path).results] == [
        c.test_id for c in outcome.read.results
    ]
    import json

    call = json.loads((workspace / "fake-stestr-call.json").read_text())
    assert call["argv"][:4] == ["run", "--subunit", "--concurrency", "3"]
    assert "OS_PASSWORD" not in call["env"]
    assert call["env"]["TEMPEST_CONFIG_DIR"] == str(files.conf.parent)
    assert (workspace / ".stestr.conf").read_text().startswith("[DEFAULT]\ntest_path=")


def test_sigint_stops_the_run_and_keeps_partial_results(tmp_path: Path) -> None:
    env, install, files = _env(tmp_path, delay=0.5)
    recorder = Recorder()

    def interrupt() -> None:
        while len(recorder.finished) < 2:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt)
    thread.start()
    outcome = run_tests(
        env=env,
        install=install,
        files=files,
        test_ids=IDS * 4,
        concurrency=1,
        subunit_path=tmp_path / "tempest.subunit",
        stderr_path=tmp_path / "stestr.log",
        listener=recorder,
    )
    thread.join()
    assert outcome.interrupted
    assert 2 <= len(outcome.read.results) < 24
    assert len(read_results_file(outcome.subunit_path).results) == len(outcome.read.results)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_nothing_to_run(tmp_path: Path) -> None:
    env, install, files = _env(tmp_path, delay=0)
    with pytest.raises(TempestRunError, match="no test to run"):
        run_tests(
            env=env,
            install=install,
            files=files,
            test_ids=[],
            concurrency=1,
            subunit_path=tmp_path / "s",
            stderr_path=tmp_path / "e",
        )


def test_a_stestr_that_produces_nothing_is_an_error(tmp_path: Path) -> None:
    env, install, files = _env(tmp_path, delay=0)
    (env.bin_dir / "stestr").write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        sys.stderr.write("ImportError: no module named tempest\\n")
        sys.exit(3)
        """)
    )
    with pytest.raises(TempestRunError, match="(?s)no test results.*exit status 3.*ImportError"):
        run_tests(
            env=env,
            install=install,
            files=files,
            test_ids=IDS,
            concurrency=1,
            subunit_path=tmp_path / "s",
            stderr_path=tmp_path / "e",
        )


def test_balanced_groups_put_the_longest_classes_apart() -> None:
    ids = [f"t.m.{cls}.test_{i}" for cls, n in (("Slow", 1), ("Mid", 3), ("Fast", 4), ("New", 1)) for i in range(n)]
    costs = {"t.m.Slow": 30.0, "t.m.Mid": 12.0, "t.m.Fast": 10.0}
    schedule = balanced_groups(ids, 2, costs)
    assert schedule.workers == [["t.m.Slow"], ["t.m.Mid", "t.m.Fast", "t.m.New"]]
    assert schedule.order == ["t.m.Slow", "t.m.Mid", "t.m.Fast", "t.m.New"]  # New: the median cost per test
    assert not schedule.split  # Slow has one test: nothing to split
    assert len(balanced_groups(ids, 8, {}).workers) == 4  # never more workers than classes


def test_a_class_longer_than_a_fair_share_is_split_over_workers_by_tests() -> None:
    ids = [f"t.m.Slow.test_{i}[id-{i}]" for i in range(4)] + [f"t.m.Quick{i}.test_a" for i in range(4)]
    costs = {"t.m.Slow": 20.0, **{f"t.m.Quick{i}": 1.0 for i in range(4)}}
    schedule = balanced_groups(ids, 2, costs)
    assert schedule.split == {"t.m.Slow"}
    halves = [[n for n in w if n.startswith("t.m.Slow.")] for w in schedule.workers]
    assert sorted(halves) == [["t.m.Slow.test_0", "t.m.Slow.test_2"], ["t.m.Slow.test_1", "t.m.Slow.test_3"]]
    # threads widen the slots: the fair share shrinks and the quick classes fill the other threads
    threaded = balanced_groups(ids, 2, costs, threads=3)
    assert sorted(n for w in threaded.workers for n in w) == sorted(
        [f"t.m.Slow.test_{i}" for i in range(4)] + [f"t.m.Quick{i}" for i in range(4)]
    )


def test_the_worker_file_names_split_tests_exactly(tmp_path: Path) -> None:
    import re

    import yaml

    from tcup.scheduling import write_worker_file

    # test_1 is a prefix of test_10: the patterns must still tell them apart
    ids = ["t.m.Slow.test_1[id-1]", "t.m.Slow.test_10[id-10]", "t.m.Slow.test_2", "t.m.Other.test_a"]
    schedule = balanced_groups(ids, 2, {"t.m.Slow": 30.0, "t.m.Other": 1.0})
    assert schedule.split == {"t.m.Slow"}
    write_worker_file(tmp_path / "w.yaml", schedule)
    workers = [w["worker"] for w in yaml.safe_load((tmp_path / "w.yaml").read_text())]
    owners = {i: [n for n, patterns in enumerate(workers) if any(re.match(p, i) for p in patterns)] for i in ids}
    assert all(len(o) == 1 for o in owners.values()), owners  # every test on exactly one worker
    assert owners["t.m.Slow.test_1[id-1]"] != owners["t.m.Slow.test_10[id-10]"]


def test_class_costs_include_the_time_between_classes(tmp_path: Path) -> None:
    from tests.tcup.subunit_streams import stream_bytes

    stream = tmp_path / "s.subunit"
    stream.write_bytes(
        stream_bytes(
            [("t.m.A.test_1", "success", None), ("t.m.A.test_2", "success", None), ("t.m.B.test_1", "success", None)]
        )
    )
    # each test runs 1 s and starts 2 s after the previous one started: A = 1 + 2, B = 2
    assert class_costs(stream) == {"t.m.A": 3.0, "t.m.B": 2.0}


def test_io_threads_fit_the_member_accounts() -> None:
    from tcup.run_flow import DEFAULT_IO_THREADS, plan_threads

    assert plan_threads(None, 2, 12) == 3  # 12 members: 6 classes at once over 2 workers
    assert plan_threads(None, 1, 40) == DEFAULT_IO_THREADS
    assert plan_threads(8, 1, 40) == 8
    assert plan_threads(None, 2, 8) == 2
    assert plan_threads(4, 1, 1) == 1  # one account: one class at a time
    assert plan_threads(None, 4, 4) == 1
