"""The collector service: a RefStack-compatible API over SQLite or PostgreSQL.

``create_app()`` builds one app (no app exists at import time); ``tcup-server`` serves
it with gunicorn and runs its admin commands; ``flask --app webapp run`` works too.

Layers, each importing only those below it (import-linter checks them): :mod:`webapp.cli`;
the pages (:mod:`webapp.dashboard`); the JSON API (:mod:`webapp.api`); the HTTP edge shared
by both (:mod:`webapp.auth`, :mod:`webapp.access`, :mod:`webapp.errors`,
:mod:`webapp.sessions`, :mod:`webapp.settings`); then persistence (:mod:`webapp.store`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, request

from webapp import api, dashboard, errors, sessions
from webapp import settings as settings_module


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings (defaults, instance file, environment, ``test_config``), database, routes."""
    app = Flask(__name__, instance_relative_config=True)
    settings_module.configure(app, test_config)
    sessions.init_app(app)
    api.register(app)
    dashboard.register(app)
    errors.register(app)
    app.before_request(_refuse_nul)
    app.after_request(_cors)
    from webapp import cli

    cli.register(app)
    return app


def _refuse_nul() -> None:
    """A NUL in the path or query can never match stored text; PostgreSQL would refuse it outright."""
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise errors.ApiError(400, "NUL characters are not allowed in URLs")


def _cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["CORS_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS, PUT, POST, DELETE"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Signature, X-Public-Key"
        response.headers["Vary"] = "Origin"
    return response


__all__ = ["create_app"]
