"""Where a devcloud keeps its files, and which loopback ports it uses.

Everything a devcloud owns lives under one directory::

    DIR/etc/     clouds.yaml, admin-openrc, demo-openrc, accounts.yaml, devcloud.json
    DIR/logs/    one log per process (<name>.log) plus the services' own (<service>-app.log)
    DIR/run/     one JSON record per started process (pid, start time)
    DIR/state/   configuration, SQLite databases, fernet keys, Swift rings and objects;
                 with the platform services also MariaDB's datadir (state/mariadb), RabbitMQ's
                 (state/rabbitmq) and Nova's, Neutron's and Cinder's files;
                 state/python/ holds the helper modules copied from tcup/devcloud/data/
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_PORT_BASE", "HOST", "PORT_BLOCK", "SERVICE_SETS", "Layout", "Ports", "default_dir"]

HOST = "127.0.0.1"
DEFAULT_PORT_BASE = 25000
PORT_BLOCK = 60  # ports base .. base + 59 belong to one devcloud
# "storage": Keystone, Glance, Placement, Swift; "platform": those plus Nova, Neutron, Cinder,
# RabbitMQ and MariaDB
SERVICE_SETS = ("storage", "platform")
ENV_DIR = "TCUP_DEVCLOUD_DIR"


def default_dir() -> Path:
    """Return ``$TCUP_DEVCLOUD_DIR`` or ``${XDG_DATA_HOME:-~/.local/share}/tcup/devcloud``."""
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tcup" / "devcloud"


@dataclass(frozen=True, slots=True)
class Ports:
    """The loopback ports of one devcloud, all within ``base`` .. ``base + 59``."""

    base: int = DEFAULT_PORT_BASE

    def __post_init__(self) -> None:
        if not 1024 <= self.base <= 65536 - PORT_BLOCK:
            raise ValueError(f"port base {self.base} is outside 1024..{65536 - PORT_BLOCK}")

    @property
    def keystone(self) -> int:
        return self.base

    @property
    def glance(self) -> int:
        return self.base + 10

    @property
    def placement(self) -> int:
        return self.base + 20

    @property
    def swift_proxy(self) -> int:
        return self.base + 30

    @property
    def swift_account(self) -> int:
        return self.base + 31

    @property
    def swift_container(self) -> int:
        return self.base + 32

    @property
    def swift_object(self) -> int:
        return self.base + 33

    @property
    def nova(self) -> int:
        return self.base + 40

    @property
    def neutron(self) -> int:
        return self.base + 41

    @property
    def cinder(self) -> int:
        return self.base + 42

    @property
    def rabbitmq(self) -> int:
        return self.base + 50

    @property
    def epmd(self) -> int:
        """Erlang's port mapper, private to this devcloud's RabbitMQ."""
        return self.base + 51

    @property
    def rabbitmq_dist(self) -> int:
        """RabbitMQ's Erlang distribution port (rabbitmqctl talks to the node there)."""
        return self.base + 52

    @property
    def mariadb(self) -> int:
        return self.base + 53

    def as_dict(self, services: str = "storage") -> dict[str, int]:
        """Return the ports ``services`` ("storage" or "platform") use, by service name."""
        ports = {
            "keystone": self.keystone,
            "glance": self.glance,
            "placement": self.placement,
            "swift_proxy": self.swift_proxy,
            "swift_account": self.swift_account,
            "swift_container": self.swift_container,
            "swift_object": self.swift_object,
        }
        if services == "platform":
            ports |= {
                "nova": self.nova,
                "neutron": self.neutron,
                "cinder": self.cinder,
                "rabbitmq": self.rabbitmq,
                "epmd": self.epmd,
                "rabbitmq_dist": self.rabbitmq_dist,
                "mariadb": self.mariadb,
            }
        return ports


@dataclass(frozen=True, slots=True)
class Layout:
    """The directories and well-known files of a devcloud rooted at ``root``."""

    root: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def info_file(self) -> Path:
        """``etc/devcloud.json``: ports, URLs, names and file paths, without passwords."""
        return self.etc / "devcloud.json"

    @property
    def secrets_file(self) -> Path:
        """``state/secrets.json`` (mode 0600): the passwords, kept so a restart reuses them."""
        return self.state / "secrets.json"

    @property
    def settings_file(self) -> Path:
        """``state/settings.json``: the port base the state was created with."""
        return self.state / "settings.json"

    @property
    def python_dir(self) -> Path:
        """``state/python``: helper modules the services venv runs (on their PYTHONPATH)."""
        return self.state / "python"

    def service_dir(self, service: str) -> Path:
        """Return ``state/<service>``, the configuration and data of one service."""
        return self.state / service

    def create(self) -> None:
        """Create the directory tree (private to the current user)."""
        for path in (self.root, self.etc, self.logs, self.run, self.state):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
