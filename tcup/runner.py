"""Run Tempest's tests with ``stestr run --subunit`` as a subprocess, reading the stream as it comes.

* Tests are named exactly (``--load-list`` of full ids from the pre-built test index), so stestr
  skips its own discovery listing of every Tempest test; and each worker imports only the test
  modules of the selected tests (a generated ``tcup_discover`` package), not all of Tempest and its
  plugins as Tempest's ``test_discover`` does (2-8 s less per worker start).
* stestr keeps its repository in a workspace per cloud and Tempest version under
  ``~/.cache/tcup/stestr/``; the stored streams are deleted after each run. Beside it tcup keeps
  what each test class cost on its worker in the last runs (``tcup-class-times.json``: the class's
  tests plus the set-up and tear-down time around them, which stestr's per-test timings miss), and
  hands stestr a worker file that balances the classes over the workers (longest first; a class
  longer than a fair share is split over workers by its tests).
* Each worker runs ``threads`` test classes at once (:mod:`tcup.worker_suite`): the tests mostly
  wait on the cloud, and threads keep it busy without a Python process per class.
* The subunit v2 stream is copied to the output file as it is read, and each test's start and end
  go to a :class:`~tcup.subunit_reader.ResultListener` (the progress bar).
* Ctrl-C (SIGINT) or SIGTERM stops the tests (SIGINT to stestr's process group, then SIGTERM,
  then SIGKILL) and the run returns what finished, marked interrupted: the caller still writes
  every output. A second Ctrl-C kills at once.
* The subprocess gets no ``OS_*`` variable: Tempest reads only its own configuration.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any, cast

import subunit
import testtools
import yaml

from tcup import worker_suite
from tcup.errors import TempestRunError
from tcup.subunit_reader import ResultListener, StreamRead, TeeReader, read_stream
from tcup.tempest_config import TempestFiles
from tcup.tempest_env import TempestEnv
from tcup.test_index import TempestInstall
from tcup.worker_suite import class_of

__all__ = ["RunOutcome", "run_tests", "select_by_regex", "workspace_dir"]

LOG = logging.getLogger(__name__)
GROUP_REGEX = r"([^\.]*\.)*"  # one worker per test class, as Tempest's own .stestr.conf does
_HIDDEN_ENV = ("OS_", "TCUP_KEY_PASSPHRASE")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
STOP_GRACE = (15.0, 15.0)  # seconds after SIGINT before SIGTERM, and after SIGTERM before SIGKILL


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    """What one stestr run left."""

    read: StreamRead
    returncode: int | None
    interrupted: bool
    seconds: float
    subunit_path: Path
    stderr_path: Path


def select_by_regex(ids: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The ids matching any of ``patterns`` (``re.search``, as ``tempest run --regex``).

    :raises TempestRunError: for an invalid regex.
    """
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise TempestRunError(f"--regex {pattern!r} is not a valid regular expression: {exc}") from None
    return [i for i in ids if any(c.search(i) for c in compiled)]


def workspace_dir(fingerprint: str, install: TempestInstall) -> Path:
    """The stestr workspace for one cloud and Tempest version (it keeps test timings)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tcup" / "stestr" / f"{fingerprint[:16]}-{install.key}"


@contextlib.contextmanager
def _locked_workspace(preferred: Path, install: TempestInstall) -> Iterator[Path]:
    """``preferred`` when no other run holds it, else a throwaway directory."""
    preferred.mkdir(parents=True, exist_ok=True)
    with open(preferred / ".tcup.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            LOG.info("workspace %s is busy; using a temporary one (no timing data)", preferred)
            with tempfile.TemporaryDirectory(prefix="tcup-stestr-") as tmp:
                yield _init_workspace(Path(tmp), install)
            return
        try:
            yield _init_workspace(preferred, install)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _init_workspace(path: Path, install: TempestInstall) -> Path:
    (path / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={install.path}/test_discover\ntop_dir={install.path}\ngroup_regex={GROUP_REGEX}\n"
    )
    return path


def modules_of(test_ids: Sequence[str]) -> list[str]:
    """The modules defining ``test_ids`` (``pkg.mod.Class.test[attrs]`` -> ``pkg.mod``)."""
    names = (tid.split("[", 1)[0] for tid in test_ids)
    return sorted({n.rsplit(".", 2)[0] for n in names if n.count(".") >= 2 and _DOTTED.match(n)})


def _narrow_discovery(workspace: Path, test_ids: Sequence[str], *, threads: int = 1, order: Sequence[str] = ()) -> None:
    """Point stestr at a package that loads only the modules of ``test_ids`` (and runs ``threads``
    test classes at a time in each worker, longest first as ``order`` lists them)."""
    package = workspace / "tcup_discover"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_bytes(Path(worker_suite.__file__).read_bytes())
    plan = {"modules": modules_of(test_ids), "threads": max(1, threads), "order": list(order)}
    (package / worker_suite.PLAN_FILE).write_text(json.dumps(plan, indent=0))
    (workspace / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path=./tcup_discover\ntop_dir=./\ngroup_regex={GROUP_REGEX}\n"
    )


def _prune_repository(workspace: Path) -> None:
    """Delete the streams stestr stored (they may hold tracebacks); keep its timing database."""
    repo = workspace / ".stestr"
    for entry in repo.glob("[0-9]*") if repo.is_dir() else ():
        with contextlib.suppress(OSError):
            entry.unlink()


CLASS_TIMES = "tcup-class-times.json"


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


def _remember_costs(workspace: Path, stream: Path) -> None:
    path = workspace / CLASS_TIMES
    try:
        known = _known_costs(workspace)
        known.update(class_costs(stream))
        path.write_text(json.dumps(known, indent=0, sort_keys=True))
    except (OSError, ValueError, TypeError) as exc:  # NOTE: timings only tune the schedule
        LOG.info("cannot record class timings in %s: %s", path, exc)


def _known_costs(workspace: Path) -> dict[str, float]:
    try:
        data = json.loads((workspace / CLASS_TIMES).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


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


def _write_worker_file(path: Path, schedule: Schedule) -> None:
    """stestr's worker file: a class as ``^pkg.mod.Class\\.``, a test of a split class as
    ``^pkg.mod.Class.test_x(\\[|$)``."""
    workers = []
    for names in schedule.workers:
        patterns = [
            f"^{re.escape(n)}(?:\\[|$)" if class_of(n) in schedule.split else f"^{re.escape(n)}\\." for n in names
        ]
        workers.append({"worker": patterns})
    path.write_text(yaml.safe_dump(workers, sort_keys=False))


def _child_env(files: TempestFiles) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_HIDDEN_ENV)}
    env.update(
        {
            "TEMPEST_CONFIG_DIR": str(files.conf.parent),
            "TEMPEST_CONFIG": files.conf.name,
            "PYTHONWARNINGS": "ignore",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class _Stopper:
    """Turns SIGINT/SIGTERM into a graceful stop of the child's process group."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.interrupted = False
        self._timer: threading.Thread | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # NOTE: signal handlers can only be set from the main thread
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:  # a second Ctrl-C: stop now
            self._kill(signal.SIGKILL)
            return
        self.interrupted = True
        LOG.warning("interrupted: stopping the tests; the results so far are kept")
        self._kill(signal.SIGINT)
        self._timer = threading.Thread(target=self._escalate, daemon=True)
        self._timer.start()

    def _escalate(self) -> None:
        for sig, grace in zip((signal.SIGTERM, signal.SIGKILL), STOP_GRACE, strict=True):
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                self._kill(sig)

    def _kill(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


def run_tests(
    *,
    env: TempestEnv,
    install: TempestInstall,
    files: TempestFiles,
    test_ids: Sequence[str],
    concurrency: int,
    subunit_path: Path,
    stderr_path: Path,
    workspace: Path | None = None,
    listener: ResultListener | None = None,
    narrow: bool = True,
    balance: bool = True,
    threads: int = 1,
) -> RunOutcome:
    """Run ``test_ids`` with stestr, writing the subunit v2 stream to ``subunit_path`` as it comes.

    :param workspace: the stestr workspace (default: a private temporary one).
    :param narrow: import only the selected tests' modules in each worker (else all of Tempest).
    :param balance: spread test classes over the workers by their recorded cost (kept in the workspace).
    :param threads: test classes each worker runs at once (needs ``narrow``).
    :raises TempestRunError: when stestr cannot be started or produced no stream at all.
    """
    if not test_ids:
        raise TempestRunError("no test to run: the selection matched none of the installed Tempest's tests")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if workspace is None:
            workspace = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tcup-stestr-")))
            _init_workspace(workspace, install)
        else:
            workspace = stack.enter_context(_locked_workspace(workspace, install))
        costs = _known_costs(workspace) if balance else {}
        schedule = balanced_groups(test_ids, concurrency, costs, threads=threads) if costs else None
        if narrow:
            _narrow_discovery(workspace, test_ids, threads=threads, order=schedule.order if schedule else ())
        load_list = workspace / "tcup-load-list.txt"
        load_list.write_text("\n".join(test_ids) + "\n")
        command = [
            str(env.stestr),
            "run",
            "--subunit",
            "--concurrency",
            str(max(1, concurrency)),
            "--load-list",
            str(load_list),
        ]
        if schedule is not None and concurrency > 1:
            worker_file = workspace / "tcup-workers.yaml"
            _write_worker_file(worker_file, schedule)
            command += ["--worker-file", str(worker_file)]
        LOG.info("running %s in %s", " ".join(command), workspace)
        stderr = stack.enter_context(open(stderr_path, "wb"))
        sink = stack.enter_context(open(subunit_path, "wb"))
        try:
            proc = subprocess.Popen(
                command,
                cwd=workspace,
                env=_child_env(files),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as exc:
            raise TempestRunError(f"cannot start {command[0]}: {exc}") from None
        stopper = _Stopper(proc)
        stopper.install()
        try:
            assert proc.stdout is not None
            read = _read_live(proc.stdout, sink, listener)
            returncode = _wait(proc)
        finally:
            stopper.restore()
            sink.flush()
            if proc.poll() is None:
                stopper._kill(signal.SIGKILL)
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        _prune_repository(workspace)
        if balance and read.results:
            _remember_costs(workspace, subunit_path)
    if not read.results and not read.incomplete and not stopper.interrupted:
        raise TempestRunError(
            f"stestr produced no test results (exit status {returncode}):\n"
            f"{_tail(stderr_path)}\nFull output: {stderr_path}"
        )
    return RunOutcome(
        read=read,
        returncode=returncode,
        interrupted=stopper.interrupted,
        seconds=round(time.monotonic() - started, 3),
        subunit_path=subunit_path,
        stderr_path=stderr_path,
    )


def _read_live(stdout: IO[bytes], sink: IO[bytes], listener: ResultListener | None) -> StreamRead:
    tee = TeeReader(stdout, sink)  # type: ignore[arg-type]
    return read_stream(cast(IO[bytes], tee), listener=listener)


def _wait(proc: subprocess.Popen[bytes]) -> int | None:
    try:
        return proc.wait(timeout=sum(STOP_GRACE) + 5)
    except subprocess.TimeoutExpired:
        return None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])
