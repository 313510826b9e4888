"""Start background processes and later stop exactly those, never anything matched by name.

Each process starts in a new session (its pid is its session and process-group id), with its
output appended to ``DIR/logs/<name>.log``. ``DIR/run/<name>.json`` records its pid and its
start time in clock ticks since boot (field 22 of ``/proc/<pid>/stat``). A record still
describes a live process only while both match and the process is not a zombie, so a pid
recycled by an unrelated program is never signalled.

Stopping signals the recorded process, waits, then kills what is left of its session. Linux
does not hand out a pid again while it still names a live session, so the members of the session
whose id is the recorded pid are all ours.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tcup.errors import DevcloudError

__all__ = ["ProcessRecord", "load_records", "session_rss_kib", "start_process", "stop_process"]

_GONE_STATES = frozenset("ZXx")
# Popen objects of the processes this interpreter started: kept so that a long-lived caller
# (a test session) can reap them when they stop, instead of leaving zombies and warnings
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessRecord:
    """One process this devcloud started."""

    name: str
    pid: int
    start_time: int  # clock ticks after boot, from /proc/<pid>/stat
    stop_signal: str  # "TERM", "INT", ...
    log_file: str

    def is_alive(self) -> bool:
        """Tell whether the recorded process still runs (same pid and start time, not a zombie)."""
        stat = _read_stat(self.pid)
        return stat is not None and stat[3] == self.start_time and stat[0] not in _GONE_STATES


def _read_stat(pid: int) -> tuple[str, int, int, int] | None:
    """Return (state, pgrp, session, start time) of ``pid``, or None when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[2]), int(fields[3]), int(fields[19])


def _session_members(record: ProcessRecord) -> list[int]:
    """Return the live processes of the session the recorded process leads.

    Empty when ``record.pid`` now belongs to another process: that one may lead a new session
    with the same id, which is not ours.
    """
    leader = _read_stat(record.pid)
    if leader is not None and leader[3] != record.start_time:
        return []
    session = record.pid
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _read_stat(int(entry))
            if stat is not None and stat[2] == session and stat[0] not in _GONE_STATES:
                members.append(int(entry))
    return members


def _record_path(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.json"


def start_process(
    *,
    name: str,
    argv: Sequence[str],
    run_dir: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stop_signal: str = "TERM",
) -> ProcessRecord:
    """Start ``argv`` in its own session and record it as ``run_dir/<name>.json``.

    :raises DevcloudError: when the program cannot be started or exits at once.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise DevcloudError(f"cannot start {name} ({argv[0]}): {exc}") from exc
    stat = _read_stat(proc.pid)
    if stat is None or stat[0] in _GONE_STATES:
        proc.wait()
        raise DevcloudError(f"{name} exited at once (exit code {proc.returncode}); read {log_file}")
    _CHILDREN[proc.pid] = proc
    record = ProcessRecord(name=name, pid=proc.pid, start_time=stat[3], stop_signal=stop_signal, log_file=str(log_file))
    path = _record_path(run_dir, name)
    path.write_text(json.dumps(asdict(record), indent=1) + "\n")
    return record


def load_records(run_dir: Path) -> list[ProcessRecord]:
    """Return the process records in ``run_dir`` (unreadable records are skipped)."""
    records = []
    for path in sorted(run_dir.glob("*.json")) if run_dir.is_dir() else []:
        try:
            records.append(ProcessRecord(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return records


def _reap(pid: int) -> None:
    """Collect the exit status of ``pid`` if this interpreter started it, so no zombie stays."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]


def _wait_gone(record: ProcessRecord, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        _reap(record.pid)
        if not record.is_alive():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop_process(record: ProcessRecord, *, run_dir: Path, timeout: float = 15.0) -> bool:
    """Stop the recorded process and what is left of its session; forget the record.

    :returns: True when the process was still running.
    """
    _reap(record.pid)
    was_running = record.is_alive()
    if was_running:
        try:
            os.kill(record.pid, getattr(signal, f"SIG{record.stop_signal}"))
        except ProcessLookupError:
            pass
        if not _wait_gone(record, timeout):
            try:
                os.kill(record.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _wait_gone(record, 5.0)
    # workers left behind by a leader that died (uwsgi workers, a postmaster's children)
    for pid in _session_members(record):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _record_path(run_dir, record.name).unlink(missing_ok=True)
    return was_running


def session_rss_kib(record: ProcessRecord) -> int:
    """Return the resident memory (KiB) of every process in the recorded process's session."""
    total = 0
    for pid in _session_members(record):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total
