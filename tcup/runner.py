"""Run Tempest's tests with ``stestr run --subunit`` as a subprocess, reading the stream as it comes.

* Tests are named exactly (``--load-list`` of full ids from the pre-built test index), so stestr
  skips its own discovery listing of every Tempest test; and each worker imports only the test
  modules of the selected tests (a generated ``tcup_discover`` package), not all of Tempest and its
  plugins as Tempest's ``test_discover`` does (2-8 s less per worker start). That package matches
  the load list by test name: an id's ``[attributes]`` may depend on tempest.conf (a conditional
  ``slow``), and the index was listed with Tempest's defaults.
* stestr runs in the workspace :mod:`tcup.stestr_workspace` keeps per cloud and Tempest version,
  with a worker file from :mod:`tcup.scheduling` that balances the test classes over the workers.
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
import logging
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, cast

from tcup.errors import TempestRunError
from tcup.scheduling import balanced_groups, write_worker_file
from tcup.stestr_workspace import (
    init_workspace,
    known_costs,
    locked_workspace,
    narrow_discovery,
    prune_repository,
    remember_costs,
    workspace_dir,
)
from tcup.subunit_reader import ResultListener, StreamRead, TeeReader, read_stream
from tcup.tempest_config import TempestFiles
from tcup.tempest_env import TempestEnv
from tcup.test_index import TempestInstall

__all__ = ["RunOutcome", "run_tests", "select_by_regex", "workspace_dir"]

LOG = logging.getLogger(__name__)
_HIDDEN_ENV = ("OS_", "TCUP_KEY_PASSPHRASE")
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
            init_workspace(workspace, install)
        else:
            workspace = stack.enter_context(locked_workspace(workspace, install))
        costs = known_costs(workspace) if balance else {}
        schedule = balanced_groups(test_ids, concurrency, costs, threads=threads) if costs else None
        if narrow:
            narrow_discovery(workspace, test_ids, threads=threads, order=schedule.order if schedule else ())
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
            write_worker_file(worker_file, schedule)
            command += ["--worker-file", str(worker_file)]
        LOG.info("running %s in %s", " ".join(command), workspace)
        stderr = stack.enter_context(open(stderr_path, "wb"))
        # NOTE: stestr says little on stderr when all goes well; the log still says what ran and how
        stderr.write(
            f"tcup: {' '.join(command)}\ntcup: in {workspace}, {len(test_ids)} tests, {concurrency} workers, "
            f"{threads} classes at once per worker\n".encode()
        )
        stderr.flush()
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
        stderr.write(
            f"tcup: stestr exit status {returncode}{' (interrupted)' if stopper.interrupted else ''}; "
            f"{len(read.results)} results, {len(read.incomplete)} unfinished\n".encode()
        )
        prune_repository(workspace)
        if balance and read.results:
            remember_costs(workspace, subunit_path)
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
