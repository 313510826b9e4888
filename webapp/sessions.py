"""The app's database and its per-request sessions: the Flask side of :mod:`webapp.store.database`.

Each app opens its own :class:`~webapp.store.database.Database` (kept in
``app.extensions["tcup_db"]``), with its own caches. Sessions are opened per request with
:func:`session` and closed when the request ends: GET and HEAD requests read through an
autocommit session, everything else gets a transactional one.
"""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, request

from webapp.store import Session
from webapp.store.database import Database, open_database


def init_app(app: Flask) -> None:
    """Open the app's database (migrating when ``AUTO_MIGRATE`` says so); close sessions per request."""
    app.extensions["tcup_db"] = open_database(
        app.config["DATABASE_URL"],
        pool_size=int(app.config["DB_POOL_SIZE"]),
        echo=bool(app.config["SQL_ECHO"]),
        migrate=bool(app.config["AUTO_MIGRATE"]),
    )
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    """The :class:`Database` of ``app`` (default: the current app)."""
    return (app or current_app).extensions["tcup_db"]  # type: ignore[no-any-return]


def session() -> Session:
    """The session of the current request or app context, opened on first use."""
    if "tcup_session" not in g:
        db = database()
        reading = has_request_context() and request.method in ("GET", "HEAD")
        g.tcup_session = db.readers() if reading else db.sessions()
    return g.tcup_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    sess = g.pop("tcup_session", None)
    if sess is not None:
        sess.close()


__all__ = ["database", "init_app", "session"]
