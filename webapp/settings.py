"""Every setting of the collector service, declared once, as data.

Layers, later ones winning: the defaults below, then ``<instance>/settings.cfg`` (Python
syntax, like Flask's ``from_pyfile``), then the environment (``TCUP_<NAME>``, values parsed
as JSON when they can be, plus a bare ``DATABASE_URL``), then ``test_config``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its name, default and what it does."""

    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "sqlite:///{instance}/tcup.sqlite",
        "SQLAlchemy URL; SQLite in the instance folder by default, PostgreSQL "
        "(postgresql://user@host/db) for production",
    ),
    Setting("ANONYMOUS_UPLOADS", True, "accept unsigned uploads, as RefStack's enable_anonymous_upload did"),
    Setting("RESULTS_PER_PAGE", 20, "runs per page of GET /v1/results"),
    Setting("MAX_UPLOAD_BYTES", 16 * 1024 * 1024, "largest request body accepted; larger ones get a 413"),
    Setting(
        "RESULT_URL", "/results/{id}", "link returned for a run; relative links are joined to the request's host URL"
    ),
    Setting("AUTO_MIGRATE", True, "bring the database schema up to date when the app starts"),
    Setting("CORS_ORIGINS", [], "origins allowed to call the API from a browser"),
    Setting("DB_POOL_SIZE", 5, "connections kept per worker process (PostgreSQL)"),
    Setting("SQL_ECHO", False, "log every SQL statement (never enable in production: it logs tokens' hashes)"),
    Setting(
        "OIDC_ISSUER",
        "",
        "OpenID Connect provider's issuer URL; set it to let users sign in (and be created) through it",
    ),
    Setting("OIDC_CLIENT_ID", "", "this server's client id at the OpenID Connect provider"),
    Setting("OIDC_CLIENT_SECRET", "", "this server's client secret at the OpenID Connect provider (never logged)"),
    Setting("OIDC_SCOPES", "openid email profile", "scopes asked of the OpenID Connect provider"),
    Setting(
        "SECRET_KEY",
        "",
        "key signing the sign-in state cookie; the same for every worker (derived from OIDC_CLIENT_SECRET when empty)",
    ),
)

_NAMES = {s.name for s in SETTINGS}


def configure(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    """Load every layer into ``app.config``."""
    for setting in SETTINGS:
        app.config[setting.name] = setting.default
    app.config.from_pyfile("settings.cfg", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("TCUP")
    if test_config:
        app.config.update(test_config)
    url = str(app.config["DATABASE_URL"]).replace("{instance}", app.instance_path)
    app.config["DATABASE_URL"] = normalise_database_url(url)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_BYTES"])
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]


def normalise_database_url(url: str) -> str:
    """Point bare ``postgresql://`` (and Heroku's ``postgres://``) URLs at psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe() -> list[tuple[str, str, str]]:
    """(name, default, help) rows, for documentation and ``tcup-server settings``."""
    return [(s.name, repr(s.default), s.help) for s in SETTINGS]


__all__ = ["SETTINGS", "Setting", "configure", "describe", "normalise_database_url"]
