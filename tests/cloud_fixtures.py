"""Session fixtures for tests that need a real cloud: the loopback devcloud.

Import into a conftest (``from tests.cloud_fixtures import devcloud``, or list this module in
``pytest_plugins``). The ``devcloud`` fixture runs ``tcup devcloud up`` once per test session in
a temporary directory on ports 26000-26039 (or the next free block of 40, 26100, 26200..., so
that test sessions running side by side do not collide; ``$TCUP_TEST_DEVCLOUD_PORT_BASE`` fixes
the base) and ``down`` at the end. With ``$TCUP_TEST_DEVCLOUD_DIR`` set it uses that directory instead, and
leaves a cloud it found running there running.

The first session on a machine builds the services venv (about 1.5 min); ``up`` then takes
about 50 s on a fresh directory. Mark tests that use it ``@pytest.mark.cloud``.
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

__all__ = ["DevcloudHandle", "devcloud"]

DEFAULT_TEST_PORT_BASE = 26000


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


def _ports_free(base: int) -> bool:
    for port in Ports(base).as_dict().values():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_base(candidates: Iterable[int]) -> int | None:
    """The first base whose whole block of devcloud ports is free on loopback, or None."""
    return next((base for base in candidates if _ports_free(base)), None)


def _choose_port_base() -> int:
    explicit = os.environ.get("TCUP_TEST_DEVCLOUD_PORT_BASE")
    if explicit:
        return int(explicit)
    found = free_port_base(range(DEFAULT_TEST_PORT_BASE, DEFAULT_TEST_PORT_BASE + 2000, 100))
    return found if found is not None else DEFAULT_TEST_PORT_BASE


class _SharedCloud:
    """One devcloud per session, even when two conftests import the fixture."""

    handle: DevcloudHandle | None = None
    users = 0
    owned = False


def _acquire(tmp_path_factory: pytest.TempPathFactory) -> DevcloudHandle:
    if _SharedCloud.handle is None:
        explicit = os.environ.get("TCUP_TEST_DEVCLOUD_DIR")
        root = Path(explicit) if explicit else tmp_path_factory.mktemp("devcloud")
        was_running = explicit is not None and devcloud_status(root=root).running
        base = None if was_running or (root / "state" / "settings.json").is_file() else _choose_port_base()
        result = start_devcloud(root=root, port_base=base)
        _SharedCloud.handle = DevcloudHandle(dir=root.absolute(), info=result.info)
        _SharedCloud.owned = not was_running
    _SharedCloud.users += 1
    return _SharedCloud.handle


def _release() -> None:
    _SharedCloud.users -= 1
    if _SharedCloud.users == 0 and _SharedCloud.handle is not None:
        if _SharedCloud.owned:
            stop_devcloud(root=_SharedCloud.handle.dir)
        _SharedCloud.handle = None


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
