"""The stestr workspace tcup keeps per cloud and Tempest version, and what it remembers there.

stestr keeps its repository under ``~/.cache/tcup/stestr/<cloud>-<tempest>``; the stored streams
are deleted after each run (they may hold tracebacks). Beside it, ``tcup-class-times.json`` keeps
what each test class cost on its worker in the last runs, for :mod:`tcup.scheduling`. The
workspace's ``tcup_discover`` package makes each worker import only the selected tests' modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from tcup import worker_suite
from tcup.scheduling import class_costs
from tcup.test_index import TempestInstall

__all__ = [
    "CLASS_TIMES",
    "GROUP_REGEX",
    "init_workspace",
    "known_costs",
    "locked_workspace",
    "modules_of",
    "narrow_discovery",
    "prune_repository",
    "remember_costs",
    "workspace_dir",
]

LOG = logging.getLogger(__name__)
GROUP_REGEX = r"([^\.]*\.)*"  # one worker per test class, as Tempest's own .stestr.conf does
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def workspace_dir(fingerprint: str, install: TempestInstall) -> Path:
    """The stestr workspace for one cloud and Tempest version (it keeps test timings)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tcup" / "stestr" / f"{fingerprint[:16]}-{install.key}"


@contextlib.contextmanager
def locked_workspace(preferred: Path, install: TempestInstall) -> Iterator[Path]:
    """``preferred`` when no other run holds it, else a throwaway directory."""
    preferred.mkdir(parents=True, exist_ok=True)
    with open(preferred / ".tcup.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            LOG.info("workspace %s is busy; using a temporary one (no timing data)", preferred)
            with tempfile.TemporaryDirectory(prefix="tcup-stestr-") as tmp:
                yield init_workspace(Path(tmp), install)
            return
        try:
            yield init_workspace(preferred, install)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def init_workspace(path: Path, install: TempestInstall) -> Path:
    (path / ".stestr.conf").write_text(
        f"[DEFAULT]\ntest_path={install.path}/test_discover\ntop_dir={install.path}\ngroup_regex={GROUP_REGEX}\n"
    )
    return path


def modules_of(test_ids: Sequence[str]) -> list[str]:
    """The modules defining ``test_ids`` (``pkg.mod.Class.test[attrs]`` -> ``pkg.mod``)."""
    names = (tid.split("[", 1)[0] for tid in test_ids)
    return sorted({n.rsplit(".", 2)[0] for n in names if n.count(".") >= 2 and _DOTTED.match(n)})


def narrow_discovery(workspace: Path, test_ids: Sequence[str], *, threads: int = 1, order: Sequence[str] = ()) -> None:
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


def prune_repository(workspace: Path) -> None:
    """Delete the streams stestr stored (they may hold tracebacks); keep its timing database."""
    repo = workspace / ".stestr"
    for entry in repo.glob("[0-9]*") if repo.is_dir() else ():
        with contextlib.suppress(OSError):
            entry.unlink()


CLASS_TIMES = "tcup-class-times.json"


def remember_costs(workspace: Path, stream: Path) -> None:
    path = workspace / CLASS_TIMES
    try:
        known = known_costs(workspace)
        known.update(class_costs(stream))
        path.write_text(json.dumps(known, indent=0, sort_keys=True))
    except (OSError, ValueError, TypeError) as exc:  # NOTE: timings only tune the schedule
        LOG.info("cannot record class timings in %s: %s", path, exc)


def known_costs(workspace: Path) -> dict[str, float]:
    try:
        data = json.loads((workspace / CLASS_TIMES).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}
