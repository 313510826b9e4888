"""Session fixtures for tests that need a real cloud: the loopback devcloud.

Import into a conftest (``from tests.cloud_fixtures import devcloud``, or list this module in
``pytest_plugins``). The ``devcloud`` fixture runs ``tcup devcloud up`` once per test session in
a temporary directory on ports 26000-26059 (or the next free block, 26100, 26200..., so
that test sessions running side by side do not collide; ``$TCUP_TEST_DEVCLOUD_PORT_BASE`` fixes
the base) and ``down`` at the end. With ``$TCUP_TEST_DEVCLOUD_DIR`` set it uses that directory instead, and
leaves a cloud it found running there running.

The first session on a machine builds the services venv (about 1.5 min); ``up`` then takes
about 50 s on a fresh directory. Mark tests that use it ``@pytest.mark.cloud``.

``platform_devcloud`` does the same for ``tcup devcloud up --services platform`` (ports from
28000): Nova, Neutron and Cinder too, about 3.5 min fresh, 2.5 GiB.
"""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tcup.devcloud import devcloud_status, start_devcloud, stop_devcloud
from tcup.devcloud.layout import Ports

__all__ = ["DevcloudHandle", "devcloud", "platform_devcloud"]

DEFAULT_TEST_PORT_BASE = 26000
PLATFORM_TEST_PORT_BASE = 28000


@dataclass(frozen=True)
class DevcloudHandle:
    """A running devcloud, described by its ``etc/devcloud.json`` (``info``)."""

    dir: Path
    info: dict[str, Any]

    @property
    def etc(self) -> Path:
        return self.dir / "etc"

    @property
    def info_file(self) -> Path:
        return self.etc / "devcloud.json"

    @property
    def clouds_yaml(self) -> Path:
        return Path(self.info["files"]["clouds_yaml"])

    @property
    def accounts_yaml(self) -> Path:
        return Path(self.info["files"]["accounts_yaml"])

    @property
    def admin_openrc(self) -> Path:
        return Path(self.info["files"]["admin_openrc"])

    @property
    def demo_openrc(self) -> Path:
        return Path(self.info["files"]["demo_openrc"])

    @property
    def identity_url(self) -> str:
        """Keystone v3, e.g. http://127.0.0.1:26000/v3."""
        return str(self.info["urls"]["identity"])

    @property
    def image_url(self) -> str:
        return str(self.info["urls"]["image"])

    @property
    def placement_url(self) -> str:
        return str(self.info["urls"]["placement"])

    @property
    def swift_url(self) -> str:
        """The Swift proxy root (accounts are under /v1/AUTH_<project id>)."""
        return str(self.info["urls"]["swift"])

    @property
    def ports(self) -> dict[str, int]:
        return dict(self.info["ports"])

    def cloud(self, name: str = "devcloud") -> dict[str, Any]:
        """Return one cloud of clouds.yaml: ``devcloud``, ``devcloud-alt`` or ``devcloud-admin``."""
        clouds: dict[str, Any] = yaml.safe_load(self.clouds_yaml.read_text())["clouds"]
        return dict(clouds[name])

    def openrc(self, which: str = "demo") -> dict[str, str]:
        """Return the OS_* variables of ``demo-openrc`` or ``admin-openrc``."""
        env = {}
        for line in (self.etc / f"{which}-openrc").read_text().splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export ") :].partition("=")
                env[key] = shlex.split(value)[0] if value else ""
        return env


def _ports_free(base: int, services: str = "storage") -> bool:
    for port in Ports(base).as_dict(services).values():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_base(candidates: Iterable[int], services: str = "storage") -> int | None:
    """The first base whose whole block of devcloud ports is free on loopback, or None."""
    return next((base for base in candidates if _ports_free(base, services)), None)


def _choose_port_base(services: str) -> int:
    explicit = os.environ.get(_ENV[services]["port_base"])
    if explicit:
        return int(explicit)
    first = _DEFAULT_BASE[services]
    found = free_port_base(range(first, first + 2000, 100), services)
    return found if found is not None else first


@dataclass
class _SharedCloud:
    """One devcloud of a service set per session, even when two conftests import the fixture."""

    handle: DevcloudHandle | None = None
    users: int = 0
    owned: bool = False


_CLOUDS = {"storage": _SharedCloud(), "platform": _SharedCloud()}
_DEFAULT_BASE = {"storage": DEFAULT_TEST_PORT_BASE, "platform": PLATFORM_TEST_PORT_BASE}
_ENV = {
    "storage": {"dir": "TCUP_TEST_DEVCLOUD_DIR", "port_base": "TCUP_TEST_DEVCLOUD_PORT_BASE"},
    "platform": {"dir": "TCUP_TEST_PLATFORM_DIR", "port_base": "TCUP_TEST_PLATFORM_PORT_BASE"},
}


def _acquire(tmp_path_factory: pytest.TempPathFactory, services: str = "storage") -> DevcloudHandle:
    shared = _CLOUDS[services]
    if shared.handle is None:
        explicit = os.environ.get(_ENV[services]["dir"])
        root = Path(explicit) if explicit else tmp_path_factory.mktemp(f"devcloud-{services}")
        was_running = explicit is not None and devcloud_status(root=root).running
        base = None if was_running or (root / "state" / "settings.json").is_file() else _choose_port_base(services)
        result = start_devcloud(root=root, port_base=base, services=services)
        shared.handle = DevcloudHandle(dir=root.absolute(), info=result.info)
        shared.owned = not was_running
    shared.users += 1
    return shared.handle


def _release(services: str = "storage") -> None:
    shared = _CLOUDS[services]
    shared.users -= 1
    if shared.users == 0 and shared.handle is not None:
        if shared.owned:
            stop_devcloud(root=shared.handle.dir)
        shared.handle = None


@pytest.fixture(scope="session")
def devcloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevcloudHandle]:
    """Start the loopback devcloud once per session; stop it at the end.

    :returns: a :class:`DevcloudHandle` (``dir``, ``info`` = devcloud.json, URL and file properties).
    """
    handle = _acquire(tmp_path_factory)
    try:
        yield handle
    finally:
        _release()


@pytest.fixture(scope="session")
def platform_devcloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevcloudHandle]:
    """Start the platform devcloud (``--services platform``) once per session; stop it at the end.

    It needs Debian's rabbitmq-server, mariadb-server and qemu-utils (scripts/apt-packages.txt);
    ``$TCUP_TEST_PLATFORM_DIR`` and ``$TCUP_TEST_PLATFORM_PORT_BASE`` play the roles the storage
    cloud's variables play.
    """
    handle = _acquire(tmp_path_factory, "platform")
    try:
        yield handle
    finally:
        _release("platform")
