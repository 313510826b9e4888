"""WSGI entry point of the devcloud's uwsgi services; run in the services venv, never by tcup.

uwsgi loads ``tcup_wsgi:application``, which loads ``$TCUP_WSGI_APP`` (e.g.
``glance.wsgi.api:application``) after making every SQLite transaction start with
``BEGIN IMMEDIATE``.

Why: oslo.db opens SQLite transactions with a deferred ``BEGIN``. A transaction that has read
and then writes fails at once with "database is locked" if another connection committed in
between (SQLite cannot upgrade a stale snapshot, so it does not even wait). Glance runs image
import tasks in a thread beside the request thread, so that happened under Tempest. Taking the
write lock at ``BEGIN`` turns the conflict into a short wait (the busy timeout) instead.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


@event.listens_for(Engine, "begin", insert=True)
def _begin_immediate(conn: Connection) -> None:
    # runs before oslo.db's own "begin" listener, which skips its BEGIN once this flag is set
    if conn.dialect.name == "sqlite" and "in_transaction" not in conn.info:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.info["in_transaction"] = True


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


application = _load(os.environ["TCUP_WSGI_APP"])
