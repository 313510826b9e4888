"""An index of the tests an installed Tempest (and its plugins) provides.

Built once per Tempest and plugin versions with ``stestr list`` (a few seconds), then
read from a JSON cache in milliseconds. Each entry keeps the full test id, so include
lists can name tests exactly, and the idempotent id parsed out of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from interop_model.results import parse_test_id
from tcup.errors import TempestNotFound
from tcup.tempest_env import TempestEnv

INDEX_FORMAT = 1
_PROBE = r"""
import importlib.metadata as m, json, os, tempest
plugins = sorted({(d.metadata["Name"], d.version) for d in m.distributions()
                  if any(e.group == "tempest.test_plugins" for e in d.entry_points)})
print(json.dumps({"version": m.version("tempest"), "path": os.path.dirname(tempest.__file__),
                  "plugins": plugins}))
"""


@dataclass(frozen=True, slots=True)
class TempestInstall:
    """What an index depends on: Tempest's version and location, and its plugins."""

    version: str
    path: str
    plugins: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """The cache key: Tempest's version, every plugin's version, and where Tempest lives
        (two installs of one version, say a venv and an image, keep separate indexes)."""
        parts = [f"tempest-{self.version}", *(f"{n}-{v}" for n, v in self.plugins)]
        where = hashlib.sha256(self.path.encode()).hexdigest()[:8]
        return "_".join(p.replace("/", "-") for p in parts) + f"_{where}"


@dataclass(slots=True)
class TestIndex:
    """Local test ids, by name and by idempotent id."""

    __test__ = False

    install: TempestInstall
    ids: list[str]
    by_name: dict[str, str] = field(default_factory=dict)
    by_uuid: dict[UUID, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for test_id in self.ids:
            name, uuid, _ = parse_test_id(test_id)
            self.by_name.setdefault(name, test_id)
            if uuid is not None:
                self.by_uuid.setdefault(uuid, []).append(test_id)


def probe_install(env: TempestEnv) -> TempestInstall:
    """Ask the Tempest interpreter for its version, location and plugins."""
    try:
        out = subprocess.run(
            [str(env.python), "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError) as exc:
        raise TempestNotFound(f"cannot inspect the Tempest install at {env.python}: {exc}") from None
    return TempestInstall(data["version"], data["path"], tuple(tuple(p) for p in data["plugins"]))


def index_cache_dir() -> Path:
    """Where built indexes are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tcup" / "test-index"


def load_test_index(
    env: TempestEnv, *, install: TempestInstall | None = None, cache: Path | None = None, rebuild: bool = False
) -> TestIndex:
    """The index of ``env``'s tests, from the cache when it matches the installed versions."""
    install = install or probe_install(env)
    cache = (cache or index_cache_dir()) / f"{install.key}.json"
    if not rebuild and cache.is_file():
        try:
            data = json.loads(cache.read_text())
            if data.get("format") == INDEX_FORMAT and data.get("path") == install.path:
                return TestIndex(install, list(data["ids"]))
        except (OSError, ValueError, KeyError):
            pass  # NOTE: a damaged cache is rebuilt below
    ids = list_tests(env, install)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"format": INDEX_FORMAT, "path": install.path, "ids": ids}))
        tmp.replace(cache)
    except OSError:
        pass  # NOTE: without a writable cache the index is rebuilt next time
    return TestIndex(install, ids)


def list_tests(env: TempestEnv, install: TempestInstall) -> list[str]:
    """Run ``stestr list`` over Tempest's discovery entry point (plugins included)."""
    with tempfile.TemporaryDirectory(prefix="tcup-list-") as work:
        conf = Path(work) / ".stestr.conf"
        conf.write_text(
            f"[DEFAULT]\ntest_path={install.path}/test_discover\ntop_dir={install.path}\ngroup_regex=([^\\.]*\\.)*\n"
        )
        env_vars = {**os.environ, "PYTHONWARNINGS": "ignore"}
        try:
            subprocess.run(
                [str(env.stestr), "init"], cwd=work, capture_output=True, timeout=120, env=env_vars, check=True
            )
            proc = subprocess.run(
                [str(env.stestr), "list"], cwd=work, capture_output=True, text=True, timeout=600, env=env_vars
            )
        except (subprocess.SubprocessError, OSError) as exc:
            raise TempestNotFound(f"cannot list Tempest's tests: {exc}") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise TempestNotFound(f"`stestr list` failed in Tempest {install.version}:\n{tail}")
    return sorted(_test_lines(proc.stdout.splitlines()))


def _test_lines(lines: Iterable[str]) -> set[str]:
    return {line.strip() for line in lines if line.strip() and "." in line and " " not in line.strip()}
