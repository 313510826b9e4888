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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask, Response

# NOTE: Flask and the rest are imported inside the functions, so that importing ``webapp``
# (as the ``tcup-server`` launcher, :mod:`webapp.__main__`, does) needs no third-party package.


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings (defaults, instance file, environment, ``test_config``), database, routes."""
    from flask import Flask

    from webapp import api, bodies, cli, dashboard, errors, operations, sessions
    from webapp import settings as settings_module

    app = Flask(__name__, instance_relative_config=True)
    settings_module.configure(app, test_config)
    sessions.init_app(app)
    operations.register(app)
    api.register(app)
    dashboard.register(app)
    errors.register(app)
    app.before_request(_refuse_nul)
    app.after_request(_cors)
    cli.register(app)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:  # the request then carries the client's scheme, host and address, not the proxy's
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    # NOTE: outermost, so that no view waits on a client: bodies arrive whole, bounded, in time.
    app.wsgi_app = bodies.BodyLimits(  # type: ignore[method-assign]
        app.wsgi_app, max_bytes=int(app.config["MAX_UPLOAD_BYTES"]), timeout=float(app.config["REQUEST_BODY_TIMEOUT"])
    )
    return app


def _refuse_nul() -> None:
    """A NUL in the path or query can never match stored text; PostgreSQL would refuse it outright."""
    from flask import request

    from webapp import errors

    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise errors.ApiError(400, "NUL characters are not allowed in URLs")


def _cors(response: Response) -> Response:
    from flask import current_app, request

    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["CORS_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS, PUT, POST, DELETE"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Signature, X-Public-Key"
        response.headers["Vary"] = "Origin"
    return response


__all__ = ["create_app"]
