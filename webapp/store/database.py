"""The database of one app: its engine, its session factories, its caches and its schema migrations.

Each app opens its own :class:`Database` (:func:`open_database`; :mod:`webapp.sessions`
keeps it in ``app.extensions``), so tests can build many apps over many databases.
Every session it makes carries the app's :class:`~webapp.store.cache.StoreCaches` in
``session.info``, so the store's caches are per app, never per process. Schema changes
are Alembic migrations in ``webapp/store/migrations``, run programmatically by
:func:`upgrade_database` (at start-up when ``AUTO_MIGRATE`` is set, and by
``tcup-server init-db``).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InternalError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from webapp.store.cache import CACHES, StoreCaches
from webapp.store.errors import DatabaseUnavailable

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
    caches: StoreCaches

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    """An engine tuned for the dialect: WAL and a busy timeout on SQLite, a pool on PostgreSQL.

    :raises DatabaseUnavailable: the URL cannot be parsed, or names a database without a driver here.
    """
    try:
        return _make_engine(url, pool_size=pool_size, echo=echo)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        missing = f" (missing: {exc.name})" if isinstance(exc, ImportError) and exc.name else ""
        raise DatabaseUnavailable(
            f"DATABASE_URL is not a database URL the service can open{missing} (fix: set it to "
            "sqlite:////absolute/path.sqlite or postgresql://user@host/db)"
        ) from None


def _make_engine(url: str, *, pool_size: int, echo: bool) -> Engine:
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


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_database(url: str, *, pool_size: int = 5, echo: bool = False, migrate: bool = False) -> Database:
    """Open the database at ``url`` with fresh caches; with ``migrate``, bring its schema up to date."""
    engine = make_engine(url, pool_size=pool_size, echo=echo)
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    caches = StoreCaches()
    database = Database(
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False, info={CACHES: caches}),
        readers=sessionmaker(reader, expire_on_commit=False, info={CACHES: caches}),
        caches=caches,
    )
    if migrate:
        upgrade_database(engine)
    return database


def check_writable(engine: Engine) -> None:
    """Reach the database and try a write (rolled back), or :class:`DatabaseUnavailable` saying what to fix."""
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            try:  # NOTE: an UPDATE of no row still needs write access (SQLite, PostgreSQL read-only)
                connection.execute(text("UPDATE run_counts SET count = count WHERE name = '-write-probe-'"))
            finally:
                transaction.rollback()
    except Exception as exc:
        problem = describe_failure(exc, url=engine.url.render_as_string(hide_password=True), opening=True)
        if problem is None:
            raise
        raise DatabaseUnavailable(problem) from None


def describe_failure(exc: BaseException, *, url: str | None = None, opening: bool = False) -> str | None:
    """One line saying why the database failed and what to fix, or None when ``exc`` is no database fault.

    Covers a DATABASE_URL that cannot be parsed or has no driver (``opening``: while the
    database is being opened), a server that cannot be reached, and a database that cannot
    be written (a read-only file, folder or transaction).
    The SQL and its parameters are never repeated: they may hold token hashes.
    """
    where = f"the database {url}" if url else "the database"
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    if opening and isinstance(exc, ArgumentError | NoSuchModuleError):
        return (
            "DATABASE_URL is not a database URL the service can open (fix: set it to "
            "sqlite:////absolute/path.sqlite or postgresql://user@host/db)"
        )
    if isinstance(exc, PoolTimeout):  # every pooled connection busy for the pool's whole timeout
        return (
            f"{where} is busy: no pooled connection came free in time (fix: raise DB_POOL_SIZE towards "
            "serve --threads, within the server's max_connections)"
        )
    if not isinstance(exc, OperationalError | InternalError) and not (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return None
    reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown error"])[0][:200]
    lowered = reason.lower()
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return (
            f"{where} cannot be written: {reason} (fix: make the database file and its folder "
            "writable by the service's user, or end the read-only mode)"
        )
    return (
        f"{where} cannot be reached or opened: {reason} (fix: check DATABASE_URL, that the "
        "server runs and accepts this user, and that the file's folder exists and is writable)"
    )


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


@functools.cache
def _known_head() -> str | None:
    return head_revision()  # the code's newest revision never changes while the process runs


def readiness_problem(engine: Engine) -> str | None:
    """None when the database answers and its schema is at the code's revision, else what is wrong.

    One query (the Alembic version row): cheap enough for a readiness probe every few seconds.
    """
    try:
        current = current_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        return f"the database does not answer ({type(exc).__name__})"
    head = _known_head()
    if current != head:
        return f"the database schema is at {current}, the code needs {head}: run tcup-server init-db"
    return None


def watch_pool(engine: Engine, on_checkout: Callable[[], None], on_checkin: Callable[[], None]) -> None:
    """Call ``on_checkout``/``on_checkin`` whenever a connection leaves or returns to the pool."""
    event.listen(engine, "checkout", lambda *_args: on_checkout())
    event.listen(engine, "checkin", lambda *_args: on_checkin())


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
    "check_writable",
    "current_revision",
    "describe_failure",
    "head_revision",
    "make_engine",
    "open_database",
    "readiness_problem",
    "safe_url",
    "upgrade_database",
    "watch_pool",
]
