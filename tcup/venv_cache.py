"""Virtual environments built from pinned requirements and cached by a hash of the pins.

Tempest and the devcloud services each live in their own virtualenv, never in tcup's own
interpreter. A venv is keyed by a hash of its requirement names, its constraints file and the
Python version that builds it, so re-running is instant and CI machines reuse what they built::

    ~/.cache/tcup/venvs/tempest-1f2e3d4c5b6a7980/
    ~/.cache/tcup/venvs/devcloud-services-0a1b2c3d4e5f6071/

A venv counts as built only once ``.tcup-complete`` is written inside it, after ``pip check``
passed; a half-built venv (an interrupted install) is removed and built again. A lock file next
to the venv keeps two processes (say, two CI jobs) from building the same venv at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tcup.errors import TcupError

__all__ = ["VenvSpec", "cache_root", "ensure_venv", "pinned_version", "venv_is_complete", "venv_path"]

COMPLETE_MARKER = ".tcup-complete"
_KEY_LENGTH = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class VenvSpec:
    """What goes into one cached venv."""

    name: str  # prefix of the directory name, e.g. "tempest"
    requirements: tuple[str, ...]  # top-level requirements, e.g. ("tempest==47.0.0",)
    constraints: str  # text of a pip constraints file pinning every dependency


def pinned_version(constraints: str, package: str) -> str:
    """Return the version the constraints text pins for ``package`` (``name==version`` lines).

    :raises KeyError: when the package is not pinned there.
    """
    wanted = package.lower().replace("_", "-")
    for line in constraints.splitlines():
        name, sep, version = line.partition("==")
        if sep and name.strip().lower().replace("_", "-") == wanted:
            return version.strip()
    raise KeyError(package)


def cache_root() -> Path:
    """Return ``${XDG_CACHE_HOME:-~/.cache}/tcup/venvs``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tcup" / "venvs"


def _python_version(python: str) -> str:
    if Path(python).resolve() == Path(sys.executable).resolve():
        return sys.version
    proc = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise TcupError(f"cannot run the Python interpreter {python}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def venv_path(spec: VenvSpec, *, python: str | None = None) -> Path:
    """Return where the venv for ``spec`` built with ``python`` lives (it may not exist yet)."""
    digest = hashlib.sha256()
    for part in (_python_version(python or sys.executable), *spec.requirements, spec.constraints):
        digest.update(part.encode())
        digest.update(b"\0")
    return cache_root() / f"{spec.name}-{digest.hexdigest()[:_KEY_LENGTH]}"


def venv_is_complete(path: Path) -> bool:
    """Tell whether ``path`` is a finished venv whose interpreter still runs."""
    if not (path / COMPLETE_MARKER).is_file():
        return False
    python = path / "bin" / "python"
    try:
        return subprocess.run([python, "-c", "pass"], check=False).returncode == 0
    except OSError:
        return False


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    kept = [line for line in text if not line.startswith("WARNING: Location")]
    return "\n".join(kept[-lines:])


PROGRESS_EVERY = 15.0  # seconds between "still building" lines


def _run_with_progress(
    step: list[str],
    log: IO[bytes],
    log_file: Path,
    *,
    env: dict[str, str],
    echo: Callable[[str], None] | None,
    name: str,
) -> int:
    """Run one build step into the log; every few seconds, echo how long it has taken and pip's last line."""
    started = time.monotonic()
    with subprocess.Popen(step, stdout=log, stderr=subprocess.STDOUT, env=env) as proc:
        while True:
            try:
                return proc.wait(timeout=PROGRESS_EVERY)
            except subprocess.TimeoutExpired:
                if echo:
                    last = (_tail(log_file, 1) or "...").strip()[:100]
                    echo(f"still building the {name} virtualenv ({time.monotonic() - started:.0f} s): {last}")


def ensure_venv(
    spec: VenvSpec,
    *,
    log_file: Path | None = None,
    python: str | None = None,
    echo: Callable[[str], None] | None = None,
    error: type[TcupError] = TcupError,
) -> Path:
    """Return the cached venv for ``spec``, building it first if needed.

    :param log_file: where pip's output goes (appended); default ``<venv path>.log``.
    :param python: interpreter to build the venv with (default: the running one).
    :param echo: called with one-line progress messages.
    :param error: the TcupError subclass raised on failure.
    :raises TcupError: (as ``error``) when venv creation, pip install or pip check fails.
    """
    path = venv_path(spec, python=python)
    log_file = log_file or path.with_name(path.name + ".log")
    if venv_is_complete(path):
        return path
    with _build_lock(path):
        if venv_is_complete(path):  # another process built it while we waited
            return path
        if echo:
            echo(f"building the {spec.name} virtualenv in {path} (a minute or two on a cold pip cache)")
        shutil.rmtree(path, ignore_errors=True)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONWARNINGS": "ignore"}
        with open(log_file, "ab") as log:
            step = [python or sys.executable, "-m", "venv", str(path)]
            if subprocess.run(step, stdout=log, stderr=subprocess.STDOUT, env=env).returncode != 0:
                raise error(f"could not create the virtualenv {path}; see {log_file}")
            constraints = path / "tcup-constraints.txt"
            constraints.write_text(spec.constraints)
            pip = [str(path / "bin" / "python"), "-m", "pip"]
            steps = [
                [*pip, "install", "--no-input", "-c", str(constraints), *spec.requirements],
                [*pip, "check"],
            ]
            for step in steps:
                log.write(f"+ {' '.join(step)}\n".encode())
                log.flush()
                if _run_with_progress(step, log, log_file, env=env, echo=echo, name=spec.name) != 0:
                    raise error(
                        f"'{' '.join(step[1:4])}' failed while building {path}:\n{_tail(log_file)}\n"
                        f"Full log: {log_file}. Check network access to PyPI, then run the command again."
                    )
        (path / COMPLETE_MARKER).write_text("\n".join(spec.requirements) + "\n")
        if echo:
            echo(f"{spec.name} virtualenv ready")
    return path
