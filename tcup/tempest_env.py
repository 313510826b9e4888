"""Locate or install the pinned Tempest that tcup runs as a subprocess.

The versions live in one place, ``tcup/data/tempest-constraints.txt`` (a ``pip freeze`` of a
working install); this module names only the top-level packages. Tempest is never imported into
tcup's own process: every probe and every run is a subprocess of the interpreter found here.

Search order of :func:`find_tempest`:

1. the ``python`` argument, else ``$TCUP_TEMPEST_PYTHON`` (an error if that one cannot import
   tempest: the user asked for it);
2. the interpreter running tcup, if it can import tempest (the Docker image case);
3. the cached venv ``${XDG_CACHE_HOME:-~/.cache}/tcup/venvs/tempest-<hash>`` that
   :func:`install_tempest` (``tcup install-tempest``) builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tcup.errors import TempestNotFound
from tcup.venv_cache import VenvSpec, ensure_venv, venv_is_complete, venv_path
from tcup.venv_cache import pinned_version as _pinned

__all__ = [
    "TEMPEST_PACKAGES",
    "TempestEnv",
    "find_tempest",
    "install_tempest",
    "pinned_version",
    "tempest_spec",
]

#: Top-level packages of the Tempest venv; their versions come from the constraints file.
TEMPEST_PACKAGES: tuple[str, ...] = ("tempest", "stestr", "python-tempestconf")
ENV_PYTHON = "TCUP_TEMPEST_PYTHON"
_PROBE = "import importlib.metadata as m, tempest; print(m.version('tempest'))"


@dataclass(frozen=True, slots=True, kw_only=True)
class TempestEnv:
    """An interpreter that can import tempest, with the console scripts beside it."""

    python: Path
    version: str
    bin_dir: Path

    def executable(self, name: str) -> Path:
        """Return the console script ``name`` (``tempest``, ``stestr``, ...) of this install.

        :raises TempestNotFound: when the script is not in :attr:`bin_dir`.
        """
        path = self.bin_dir / name
        if not os.access(path, os.X_OK):
            raise TempestNotFound(
                f"{name} is not installed beside {self.python} (looked for {path}); "
                "run `tcup install-tempest` or use the tcup Docker image"
            )
        return path

    @property
    def tempest(self) -> Path:
        """The ``tempest`` command."""
        return self.executable("tempest")

    @property
    def stestr(self) -> Path:
        """The ``stestr`` command."""
        return self.executable("stestr")


def _constraints_text() -> str:
    return resources.files("tcup").joinpath("data", "tempest-constraints.txt").read_text()


def pinned_version(package: str) -> str:
    """Return the version ``tcup/data/tempest-constraints.txt`` pins for ``package``.

    :raises KeyError: when the package is not pinned there.
    """
    return _pinned(_constraints_text(), package)


def tempest_spec() -> VenvSpec:
    """Return the pinned description of the Tempest venv."""
    requirements = tuple(f"{name}=={pinned_version(name)}" for name in TEMPEST_PACKAGES)
    return VenvSpec(name="tempest", requirements=requirements, constraints=_constraints_text())


def _probe(python: Path) -> str | None:
    """Return the tempest version ``python`` can import, or None."""
    try:
        proc = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def _env_for(python: Path) -> TempestEnv | None:
    version = _probe(python)
    if version is None:
        return None
    return TempestEnv(python=python, version=version, bin_dir=python.parent)


def _as_path(python: str) -> Path:
    # NOTE: no resolve(): a venv's bin/python is a symlink to the base interpreter, and
    # resolving it would step out of the venv.
    found = shutil.which(python) if os.sep not in python else python
    return Path(os.path.abspath(found or python))


def find_tempest(python: str | None = None) -> TempestEnv:
    """Find an interpreter that can import tempest (see the module docstring for the order).

    :param python: an interpreter to use; overrides ``$TCUP_TEMPEST_PYTHON``.
    :raises TempestNotFound: when the requested interpreter cannot import tempest, or none of
        the places searched has it.
    """
    requested = python or os.environ.get(ENV_PYTHON)
    if requested:
        found = _env_for(_as_path(requested))
        if found is None:
            source = "--python" if python else f"${ENV_PYTHON}"
            raise TempestNotFound(
                f"{requested} (from {source}) cannot import tempest; point it at the python of a "
                "Tempest installation, or run `tcup install-tempest`"
            )
        return found
    found = _env_for(Path(sys.executable))
    if found is not None:
        return found
    cached = venv_path(tempest_spec())
    if venv_is_complete(cached):
        found = _env_for(cached / "bin" / "python")
        if found is not None:
            return found
    raise TempestNotFound(
        f"no Tempest found: {sys.executable} cannot import tempest, ${ENV_PYTHON} is not set and "
        f"{cached} does not exist. Run `tcup install-tempest` (builds Tempest "
        f"{pinned_version('tempest')} there) or use the tcup Docker image."
    )


def install_tempest(*, echo: Callable[[str], None] | None = None) -> TempestEnv:
    """Build (or reuse) the cached Tempest venv and return it.

    Idempotent: a complete venv for the same pins and Python version is reused at once.

    :param echo: called with one-line progress messages.
    :raises TempestNotFound: when the venv cannot be built (the message names pip's log).
    """
    path = ensure_venv(tempest_spec(), echo=echo, error=TempestNotFound)
    found = _env_for(path / "bin" / "python")
    if found is None:
        raise TempestNotFound(f"{path} was built but cannot import tempest; delete it and run again")
    return found
