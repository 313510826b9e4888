"""Run Tempest's tests with ``stestr run --subunit`` as a subprocess, reading the stream as it comes.

* Tests are named exactly (``--load-list`` of full ids from the pre-built test index), so stestr
  skips its own discovery listing of every Tempest test; and each worker imports only the test
  modules of the selected tests (a generated ``tcup_discover`` package), not all of Tempest and its
  plugins as Tempest's ``test_discover`` does (2-8 s less per worker start).
* stestr keeps its repository in a workspace per cloud and Tempest version under
  ``~/.cache/tcup/stestr/``; the stored streams are deleted after each run. Beside it tcup keeps
  what each test class cost on its worker in the last runs (``tcup-class-times.json``: the class's
  tests plus the set-up and tear-down time around them, which stestr's per-test timings miss), and
  hands stestr a worker file that balances the classes over the workers (longest first).
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

from tcup.errors import TempestRunError
from tcup.subunit_reader import ResultListener, StreamRead, TeeReader, read_stream
from tcup.tempest_config import TempestFiles
from tcup.tempest_env import TempestEnv
from tcup.test_index import TempestInstall

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
        f"[DEFAULT]\ntest_path={install.path}/test_discover\ntop_dir={install.path}\ngroup_regex={GROUP_REGEX}\n")
    return path


def modules_of(test_ids: Sequence[str]) -> list[str]:
    """The modules defining ``test_ids`` (``pkg.mod.Class.test[attrs]`` -> ``pkg.mod``)."""
    names = (tid.split("[", 1)[0] for tid in test_ids)
    return sorted({n.rsplit(".", 2)[0] for n in names if n.count(".") >= 2 and _DOTTED.match(n)})


def _narrow_discovery(workspace: Path, test_ids: Sequence[str]) -> None:
    """Point stestr at a package that loads only the modules of ``test_ids``."""
    package = workspace / "tcup_discover"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(
        '"""Written by tcup: load only the test modules of this run (Tempest\'s test_discover loads all)."""\n'
        "import unittest\n\n"
        f"MODULES = {modules_of(test_ids)!r}\n\n\n"
        "def load_tests(loader, tests, pattern):\n"
        "    return unittest.TestSuite(loader.loadTestsFromNames(MODULES))\n")
    (workspace / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path=./tcup_discover\ntop_dir=./\ngroup_regex={GROUP_REGEX}\n")


def _prune_repository(workspace: Path) -> None:
    """Delete the streams stestr stored (they may hold tracebacks); keep its timing database."""
    repo = workspace / ".stestr"
    for entry in repo.glob("[0-9]*") if repo.is_dir() else ():
        with contextlib.suppress(OSError):
            entry.unlink()


CLASS_TIMES = "tcup-class-times.json"


def class_of(test_id: str) -> str:
    """``pkg.mod.Class.test_x[attrs]`` -> ``pkg.mod.Class``."""
    return test_id.split("[", 1)[0].rsplit(".", 1)[0]


class _Timeline(testtools.StreamResult):
    """Final events per worker: (timestamp, test id)."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: dict[str, list[tuple[Any, str]]] = {}

    def status(self, test_id: str | None = None, test_status: str | None = None,  # type: ignore[override]
               test_tags: set[str] | None = None, timestamp: Any = None, **kwargs: Any) -> None:
        if not test_id or timestamp is None or test_status not in ("inprogress", "success", "fail", "skip",
                                                                   "xfail", "uxsuccess"):
            return
        worker = next((t for t in test_tags or () if t.startswith("worker-")), "worker-0")
        self.workers.setdefault(worker, []).append((timestamp, test_id))


def class_costs(stream: Path) -> dict[str, float]:
    """Seconds each test class took on its worker: from the end of the previous class's work to the
    end of its last test (so its setUpClass and the previous tearDownClass count too)."""
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
                cls = test_id[test_id.index("(") + 1:].rstrip(")")
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


def balanced_groups(test_ids: Sequence[str], workers: int, costs: dict[str, float]) -> list[list[str]]:
    """Test classes spread over ``workers`` bins, longest first, each into the least loaded bin.

    Classes without a recorded cost count as the median known cost per test times their tests.
    """
    by_class: dict[str, list[str]] = {}
    for test_id in test_ids:
        by_class.setdefault(class_of(test_id), []).append(test_id)
    known = sorted(costs[c] / len(t) for c, t in by_class.items() if c in costs)
    per_test = known[len(known) // 2] if known else 1.0
    weights = {c: costs.get(c, per_test * len(t)) for c, t in by_class.items()}
    bins: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(max(1, min(workers, len(by_class))))]
    for cls in sorted(by_class, key=lambda c: (-weights[c], c)):
        index = min(range(len(bins)), key=lambda i: bins[i][0])
        load, classes = bins[index]
        bins[index] = (load + weights[cls], [*classes, cls])
    return [classes for _, classes in bins if classes]


def _write_worker_file(path: Path, groups: list[list[str]]) -> None:
    workers = [{"worker": [f"^{re.escape(cls)}\\." for cls in classes]} for classes in groups]
    path.write_text(yaml.safe_dump(workers, sort_keys=False))


def _child_env(files: TempestFiles) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_HIDDEN_ENV)}
    env.update({"TEMPEST_CONFIG_DIR": str(files.conf.parent), "TEMPEST_CONFIG": files.conf.name,
                "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1"})
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
) -> RunOutcome:
    """Run ``test_ids`` with stestr, writing the subunit v2 stream to ``subunit_path`` as it comes.

    :param workspace: the stestr workspace (default: a private temporary one).
    :param narrow: import only the selected tests' modules in each worker (else all of Tempest).
    :param balance: spread test classes over the workers by their recorded cost (kept in the workspace).
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
        if narrow:
            _narrow_discovery(workspace, test_ids)
        load_list = workspace / "tcup-load-list.txt"
        load_list.write_text("\n".join(test_ids) + "\n")
        command = [str(env.stestr), "run", "--subunit", "--concurrency", str(max(1, concurrency)),
                   "--load-list", str(load_list)]
        costs = _known_costs(workspace) if balance else {}
        if costs and concurrency > 1:
            worker_file = workspace / "tcup-workers.yaml"
            _write_worker_file(worker_file, balanced_groups(test_ids, concurrency, costs))
            command += ["--worker-file", str(worker_file)]
        LOG.info("running %s in %s", " ".join(command), workspace)
        stderr = stack.enter_context(open(stderr_path, "wb"))
        sink = stack.enter_context(open(subunit_path, "wb"))
        try:
            proc = subprocess.Popen(command, cwd=workspace, env=_child_env(files), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
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
        raise TempestRunError(f"stestr produced no test results (exit status {returncode}):\n"
                              f"{_tail(stderr_path)}\nFull output: {stderr_path}")
    return RunOutcome(read=read, returncode=returncode, interrupted=stopper.interrupted,
                      seconds=round(time.monotonic() - started, 3), subunit_path=subunit_path,
                      stderr_path=stderr_path)


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
