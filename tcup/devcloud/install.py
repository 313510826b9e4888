"""The devcloud services virtualenv: Keystone, Glance, Swift, Placement and uWSGI, pinned.

Every version comes from ``tcup/devcloud/data/constraints-services.txt`` (a ``pip freeze`` of
a working install); this module names only the top-level packages. The venv is cached under
``~/.cache/tcup/venvs/devcloud-services-<hash>`` (see :mod:`tcup.venv_cache`): about 330 MB,
a minute or two to build on a warm pip cache (pip compiles uWSGI with gcc), instant afterwards.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from tcup.errors import DevcloudError
from tcup.venv_cache import VenvSpec, ensure_venv, pinned_version, venv_is_complete, venv_path

__all__ = ["SERVICE_PACKAGES", "ensure_services_venv", "services_spec"]

SERVICE_PACKAGES: tuple[str, ...] = ("keystone", "glance", "swift", "openstack-placement", "uWSGI")


def services_spec() -> VenvSpec:
    """Return the pinned description of the services venv."""
    constraints = resources.files("tcup.devcloud").joinpath("data", "constraints-services.txt").read_text()
    requirements = tuple(f"{name}=={pinned_version(constraints, name)}" for name in SERVICE_PACKAGES)
    return VenvSpec(name="devcloud-services", requirements=requirements, constraints=constraints)


def ensure_services_venv(*, echo: Callable[[str], None] | None = None) -> Path:
    """Return the services venv, building it first if needed.

    :raises DevcloudError: when gcc is missing (uWSGI is built from source) or pip fails.
    """
    spec = services_spec()
    if not venv_is_complete(venv_path(spec)) and shutil.which("gcc") is None and shutil.which("cc") is None:
        raise DevcloudError(
            "no C compiler found: pip builds uWSGI from source; install gcc "
            "(Debian: apt-get install gcc python3-dev) and run again"
        )
    return ensure_venv(spec, echo=echo, error=DevcloudError)
