"""``tcup devcloud``: a real, small OpenStack on 127.0.0.1 to run the interop tests against.

Keystone 30, Glance 33 (two file stores), Swift 2.38 (all in one) and Placement 16 from PyPI,
in their own cached virtualenv (:mod:`tcup.devcloud.install`), served on loopback ports from a
base (default 25000: keystone +0, glance +10, placement +20, swift proxy +30, swift account,
container and object servers +31..+33; a block of 60), with all state under one directory
(:mod:`tcup.devcloud.layout`). Against it, the interop 2020.06 identity, image and
object-storage tests pass with non-admin pre-provisioned accounts.

Database choice: **SQLite**, one file per service, no database server. Every API runs as one
uwsgi worker with one thread and every Swift server with ``workers = 0``, so a database has one
process writing to it. Two measures make that reliable under Tempest: WAL mode (readers never
block the writer) and ``BEGIN IMMEDIATE`` for every transaction (``data/tcup_wsgi.py``), because
Glance runs image imports in a thread beside the request thread and oslo.db's deferred ``BEGIN``
then failed at once with "database is locked" (4 of Tempest's image API tests did). With both,
the full Tempest image (57 passed), object-storage (147) and identity (23) API suites and the 83
interop 2020.06 tests (82 passed, 1 skipped) pass with non-admin accounts. Compared with the
PostgreSQL of the bash reference: no Debian package or ``initdb``, no ``postgres`` user that must
reach the state directory (pytest's temporary directories are private to root), about 100 MB
less memory and a faster start.

With ``services="platform"`` (``tcup devcloud up --services platform``) it also runs Nova 34,
Neutron 29 and Cinder 29 with a private MariaDB and RabbitMQ (:mod:`tcup.devcloud.platform`,
:mod:`tcup.devcloud.backing`), on ports base +40..+53: those services need a database server
(Neutron's migrations are MySQL-only; Nova's and Cinder's daemons write concurrently).

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
