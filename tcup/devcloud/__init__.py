"""``tcup devcloud``: a real, small OpenStack on 127.0.0.1 to run the interop tests against.

Keystone 30, Glance 33 (two file stores), Swift 2.38 (all in one) and Placement 16 from PyPI,
in their own cached virtualenv (:mod:`tcup.devcloud.install`), served on loopback ports from a
base (default 25000: keystone +0, glance +10, placement +20, swift proxy +30, swift account,
container and object servers +31..+33), with all state under one directory
(:mod:`tcup.devcloud.layout`). Against it, the interop 2020.06 identity, image and
object-storage tests pass with non-admin pre-provisioned accounts.

Database choice: **SQLite**, one file per service. Every API runs as one uwsgi worker with one
thread and every Swift server with ``workers = 0``, so each database has a single writing
process; WAL mode lets Glance's import-task thread read while a request writes. That removes
the ``database is locked`` failures SQLite gives concurrent writers, and it needs no server:
no PostgreSQL package, no ``initdb``, no second user to run it as, ~100 MB less memory and a
faster start. It passed the Tempest runs documented in ``tests/devcloud/test_tempest_smoke.py``.

Public functions: :func:`start_devcloud`, :func:`stop_devcloud`, :func:`devcloud_status`.
"""

from __future__ import annotations

from tcup.devcloud.cloud import DevcloudStatus, ServiceStatus, UpResult, devcloud_status, start_devcloud, stop_devcloud
from tcup.devcloud.layout import DEFAULT_PORT_BASE, default_dir

__all__ = [
    "DEFAULT_PORT_BASE",
    "DevcloudStatus",
    "ServiceStatus",
    "UpResult",
    "default_dir",
    "devcloud_status",
    "start_devcloud",
    "stop_devcloud",
]
