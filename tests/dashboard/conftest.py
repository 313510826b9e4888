"""Fixtures of the dashboard tests: a collector filled through its API, served on loopback, and Chromium.

``site`` builds one app per module and backend (SQLite, and PostgreSQL when it can start),
imports real guideline files, creates the owner, another user and a Foundation admin, and
uploads :mod:`tests.dashboard.world` through ``POST /v1/results/``. ``live_site`` serves
such an app with ``make_server("127.0.0.1", 0, app)`` and uploads over real HTTP.

``browser`` is Debian's Chromium driven by Playwright (no downloaded browser): it skips
when ``/usr/bin/chromium`` is missing or cannot start, and fails instead when ``CI=true``.
Screenshots go to ``$TCUP_ARTIFACTS/screenshots`` (default ``artifacts/screenshots``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from tests.conftest import REPO, skip_or_fail
from tests.dashboard.world import World, build_world
from tests.pg_fixtures import postgres_server  # noqa: F401  (fixture)
from webapp import create_app
from webapp.sessions import database
from webapp.store import accounts, catalog

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
GUIDELINES = (
    "2020.06.json",
    "2019.11.json",
    "2018.02.json",
    "next.json",
    "add-ons/dns.2020.06.json",
    "add-ons/orchestration.2020.06.json",
    "working_materials/scoring.txt",
    "working_materials/scoring_dns.txt",
)


@dataclass
class Site:
    """An app filled with the world; ``url`` is set when it is served over HTTP."""

    app: Flask
    world: World
    url: str = ""

    def headers(self, party: str) -> dict[str, str]:
        """``Authorization`` for ``owner``, ``other`` or ``foundation``; nothing for ``anonymous``."""
        token = self.world.tokens.get(party)
        return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(scope="session")
def owner_key() -> rsa.RSAPrivateKey:
    """The owner's signing key (generated once: it is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _configure(app_url: str, interop: Path, tmp: Path) -> tuple[Flask, dict[str, str]]:
    app = create_app(
        {
            "DATABASE_URL": app_url,
            "TESTING": True,
            "SCORING_WORKSHEET": str(interop / "working_materials" / "scoring.txt"),
        }
    )
    folder = tmp / "guidelines"
    for name in GUIDELINES:
        link = folder / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(interop / name)
    tokens = {}
    with database(app).sessions() as sess:
        catalog.import_guidelines(sess, folder)
        for name, foundation in (("owner", False), ("other", False), ("foundation", True)):
            account = accounts.create_user(sess, openid=f"{name}-user", foundation=foundation)
            tokens[name] = accounts.issue_token(sess, account.id)
    return app, tokens


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(
    request: pytest.FixtureRequest,
    interop_dir: Path,
    owner_key: rsa.RSAPrivateKey,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    """The world, uploaded through the Flask test client, on SQLite and PostgreSQL."""
    tmp = tmp_path_factory.mktemp("dashboard")
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    url = server.lease_database() if server is not None else f"sqlite:///{tmp}/dashboard.sqlite"
    app, tokens = _configure(url, interop_dir, tmp)
    client = app.test_client()

    def send(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = client.open(path, method=method, data=body, headers=headers)
        return response.status_code, response.get_json(silent=True)

    try:
        yield Site(app, build_world(send, interop_dir, owner_key=owner_key, tokens=tokens))
    finally:
        database(app).engine.dispose()
        if server is not None:
            server.return_database(url)


@pytest.fixture(scope="module")
def live_site(
    interop_dir: Path, owner_key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The world uploaded over HTTP to the collector served on loopback (SQLite)."""
    from werkzeug.serving import make_server

    tmp = tmp_path_factory.mktemp("live-dashboard")
    app, tokens = _configure(f"sqlite:///{tmp}/dashboard.sqlite", interop_dir, tmp)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    with requests.Session() as http:

        def send(method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
            response = http.request(method, url + path, data=body, headers=headers, timeout=60)
            return response.status_code, response.json() if response.content else None

        world = build_world(send, interop_dir, owner_key=owner_key, tokens=tokens)
    try:
        yield Site(app, world, url)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        database(app).engine.dispose()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: ``$TCUP_ARTIFACTS/screenshots`` (default ``<repo>/artifacts/screenshots``)."""
    root = Path(os.environ.get("TCUP_ARTIFACTS") or REPO / "artifacts")
    folder = root / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium under Playwright (skipped when absent, a failure in CI)."""
    if not Path(CHROMIUM).is_file():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import Error, sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Error as exc:
        playwright.stop()
        skip_or_fail(f"{CHROMIUM} cannot start: {exc}")
        raise  # not reached
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
