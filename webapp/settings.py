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
from urllib.parse import urlsplit

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
    # -- bounds on what one request may ask of the service (each answered by a clear 4xx) --
    Setting(
        "MAX_UPLOAD_BYTES",
        16 * 1024 * 1024,
        "largest request body accepted, declared or chunked; larger ones get a 413",
    ),
    Setting(
        "REQUEST_BODY_TIMEOUT",
        30,
        "seconds a client may take to send a request body; a stalled or trickling client gets a 408",
    ),
    Setting(
        "MAX_RESULTS_PER_UPLOAD",
        10_000,
        "results one upload (v1 or v2) may list; more get a 400 (a full Tempest run passes about 1,500-3,000)",
    ),
    Setting("MAX_TEST_NAME_LENGTH", 1024, "characters of a test name; longer ones get a 400"),
    Setting("ERROR_ECHO_CHARS", 200, "characters of each problem an error answer repeats, ending in '…' when cut"),
    Setting("MIN_RSA_KEY_BITS", 2048, "smallest RSA key registered or accepted on a signed upload; smaller get a 400"),
    Setting(
        "PUBLIC_URL",
        "",
        "the service's public base URL (https://interop.example.org): links in answers start with it, and "
        "the sign-in forms accept posts from its origin only; empty: links are relative (/results/<id>). "
        "Links are never built from the request's Host header",
    ),
    Setting("RESULT_URL", "/results/{id}", "link returned for a run; a relative one is joined to PUBLIC_URL"),
    Setting("AUTO_MIGRATE", True, "bring the database schema up to date when the app starts"),
    Setting("CORS_ORIGINS", [], "origins allowed to call the API from a browser"),
    Setting("DB_POOL_SIZE", 5, "connections kept per worker process (PostgreSQL)"),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "reverse proxies in front of the service (TLS termination) whose X-Forwarded-For/-Proto/-Host to trust",
    ),
    Setting("REQUEST_LOG", True, "log one JSON line per request (request id, method, path, status, time) to stderr"),
    Setting("SQL_ECHO", False, "log every SQL statement (never enable in production: it logs tokens' hashes)"),
    Setting(
        "SCORING_WORKSHEET",
        "",
        "path of the worksheet the scoring page reads by default; empty: the imported scoring.txt",
    ),
    Setting("SCORING_GUIDELINE", "next.json", "the guideline the scoring page scores against by default"),
    Setting(
        "SCORING_THRESHOLD",
        0.5,
        "share of clouds whose latest public run must pass a capability for the scoring page to call it "
        "widely deployed",
    ),
    Setting(
        "SCORING_PRELOAD",
        True,
        "tcup-server serve loads the scoring engine (pandas) once, before its workers start, so that the first "
        "scoring page does not wait for it; false: a worker loads it on its first scoring request",
    ),
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
    app.config["PUBLIC_URL"] = check_public_url(str(app.config["PUBLIC_URL"] or ""))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]


def check_public_url(url: str) -> str:
    """``PUBLIC_URL`` without its trailing slash; ValueError unless empty or an http(s) URL with a host."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_URL must be an http(s) URL such as https://interop.example.org, not {url!r}")
    return url.rstrip("/")


def public_origin(url: str) -> str:
    """The origin (scheme://host[:port]) of a checked ``PUBLIC_URL``, or "" when it is empty."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def normalise_database_url(url: str) -> str:
    """Point bare ``postgresql://`` (and Heroku's ``postgres://``) URLs at psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe() -> list[tuple[str, str, str]]:
    """(name, default, help) rows, for documentation and ``tcup-server settings``."""
    return [(s.name, repr(s.default), s.help) for s in SETTINGS]


__all__ = [
    "SETTINGS",
    "Setting",
    "check_public_url",
    "configure",
    "describe",
    "normalise_database_url",
    "public_origin",
]
