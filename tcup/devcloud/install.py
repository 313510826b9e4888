"""The devcloud services virtualenvs, pinned by one constraints file.

Every version comes from ``tcup/devcloud/data/constraints-services.txt`` (a ``pip freeze`` of a
working install of everything); this module names only the top-level packages. There are two
venvs, each cached under ``~/.cache/tcup/venvs/`` and keyed by the pins (see
:mod:`tcup.venv_cache`):

* ``devcloud-services-<hash>``: Keystone, Glance, Swift, Placement and uWSGI (``--services
  storage``), about 330 MB, a minute or two to build on a warm pip cache (pip compiles uWSGI);
* ``devcloud-platform-<hash>``: the same plus Nova, Neutron, Cinder and PyMySQL (``--services
  platform``), about 750 MB, two to four minutes to build.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from tcup.errors import DevcloudError
from tcup.venv_cache import VenvSpec, ensure_venv, pinned_version, venv_is_complete, venv_path

__all__ = ["PLATFORM_PACKAGES", "SERVICE_PACKAGES", "ensure_services_venv", "services_spec"]

SERVICE_PACKAGES: tuple[str, ...] = ("keystone", "glance", "swift", "openstack-placement", "uWSGI")
PLATFORM_PACKAGES: tuple[str, ...] = (*SERVICE_PACKAGES, "nova", "neutron", "cinder", "PyMySQL")


def services_spec(services: str = "storage") -> VenvSpec:
    """Return the pinned description of the services venv for ``services`` (storage or platform)."""
    constraints = resources.files("tcup.devcloud").joinpath("data", "constraints-services.txt").read_text()
    packages = PLATFORM_PACKAGES if services == "platform" else SERVICE_PACKAGES
    requirements = tuple(f"{name}=={pinned_version(constraints, name)}" for name in packages)
    name = "devcloud-platform" if services == "platform" else "devcloud-services"
    return VenvSpec(name=name, requirements=requirements, constraints=constraints)


def ensure_services_venv(services: str = "storage", *, echo: Callable[[str], None] | None = None) -> Path:
    """Return the services venv, building it first if needed.

    :raises DevcloudError: when gcc is missing (uWSGI is built from source) or pip fails.
    """
    spec = services_spec(services)
    if not venv_is_complete(venv_path(spec)) and shutil.which("gcc") is None and shutil.which("cc") is None:
        raise DevcloudError(
            "no C compiler found: pip builds uWSGI from source; install gcc "
            "(Debian: apt-get install gcc python3-dev) and run again"
        )
    return ensure_venv(spec, echo=echo, error=DevcloudError)
