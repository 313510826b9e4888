"""The database of one app: its engine, its sessions and its schema migrations.

Each app gets its own engine (stored in ``app.extensions["tcup_db"]``), so tests can
build many apps over many databases. Sessions are opened per request with
:func:`session` and closed when the request ends. Schema changes are Alembic
migrations in ``webapp/migrations``, run programmatically by :func:`upgrade_database`
(at start-up when ``AUTO_MIGRATE`` is set, and by ``tcup-server init-db``).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x7C0_0001  # any constant: serialises migrations across processes


@dataclass
class Database:
    """The engine and session factories of one app.

    ``readers`` sessions run each statement in autocommit: a GET needs no transaction, and
    skipping BEGIN and ROLLBACK saves two round trips per request.
    """

    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    """An engine tuned for the dialect: WAL and a busy timeout on SQLite, a pool on PostgreSQL."""
    if url.startswith("sqlite"):
        if url not in ("sqlite://", "sqlite:///:memory:"):
            path = url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            poolclass=NullPool if ":memory:" not in url else None,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # NOTE: no pre-ping (a round trip per request); stale connections are recycled instead.
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app: Flask) -> None:
    """Create the app's engine, migrate when ``AUTO_MIGRATE`` says so, close sessions per request."""
    engine = make_engine(
        app.config["DATABASE_URL"], pool_size=int(app.config["DB_POOL_SIZE"]), echo=bool(app.config["SQL_ECHO"])
    )
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    app.extensions["tcup_db"] = Database(
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        readers=sessionmaker(reader, expire_on_commit=False),
    )
    if app.config["AUTO_MIGRATE"]:
        upgrade_database(engine)
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    """The :class:`Database` of ``app`` (default: the current app)."""
    return (app or current_app).extensions["tcup_db"]  # type: ignore[no-any-return]


def session() -> Session:
    """The session of the current request or app context, opened on first use.

    GET and HEAD requests read through an autocommit session; everything else gets a
    transactional one.
    """
    if "tcup_session" not in g:
        db = database()
        reading = has_request_context() and request.method in ("GET", "HEAD")
        g.tcup_session = db.readers() if reading else db.sessions()
    return g.tcup_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    sess = g.pop("tcup_session", None)
    if sess is not None:
        sess.close()


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def upgrade_database(engine: Engine) -> str | None:
    """Run every pending migration; safe to call from several processes at once.

    :returns: the revision the database is at afterwards
    """
    head = head_revision()
    if current_revision(engine) == head:
        return head
    from alembic import command

    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        command.upgrade(_alembic_config(connection), "head")
    log.info("database schema at revision %s", head)
    return head


__all__ = [
    "Database",
    "current_revision",
    "database",
    "head_revision",
    "init_app",
    "make_engine",
    "session",
    "upgrade_database",
]
