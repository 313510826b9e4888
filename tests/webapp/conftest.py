"""Fixtures of the collector's tests: apps over SQLite and PostgreSQL, users, keys, guidelines."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from tests import pg_fixtures
from webapp import create_app
from webapp.sessions import database
from webapp.store import accounts, catalog

# The shared fixtures (see tests/pg_fixtures.py). When the root conftest imports them too,
# both names point at one process-wide PostgreSQL cluster.
postgres_server = pg_fixtures.postgres_server
postgres_url = pg_fixtures.postgres_url
database_url = pg_fixtures.database_url
live_server = pg_fixtures.live_server

GUIDELINE_FILES = (
    "2020.06.json",
    "2019.11.json",
    "next.json",
    "2015.03.json",
    "2016.01.json",
    "add-ons/dns.2020.06.json",
    "add-ons/orchestration.2020.06.json",
)


@dataclass
class Party:
    """A caller in a privacy test: an API token (None for anonymous) and, maybe, a signing key."""

    name: str
    token: str | None
    key: rsa.RSAPrivateKey | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@pytest.fixture(scope="session")
def owner_key() -> rsa.RSAPrivateKey:
    """The owner's RSA key (made once per session: key generation is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    """Another user's RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_app(url: str, **config: object) -> Flask:
    """An app over ``url`` with test settings."""
    return create_app({"DATABASE_URL": url, "TESTING": True, **config})


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """A fresh app over a fresh database (SQLite and PostgreSQL)."""
    application = make_app(database_url)
    yield application
    database(application).engine.dispose()


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """A fresh app over SQLite only (for tests where the backend does not matter)."""
    application = make_app(f"sqlite:///{tmp_path}/tcup.sqlite")
    yield application
    database(application).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def guideline_dir(interop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory linking a few real guideline files (never copied into the project)."""
    root = tmp_path_factory.mktemp("guidelines")
    for name in GUIDELINE_FILES:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(interop_dir / name)
    return root


def import_into(application: Flask, directory: Path) -> catalog.ImportReport:
    """Run import-guidelines into the app's database."""
    with database(application).sessions() as sess:
        return catalog.import_guidelines(sess, directory)


def add_user(
    application: Flask, openid: str, *, foundation: bool = False, key: rsa.RSAPrivateKey | None = None
) -> Party:
    """Create a user with a token (and a registered key) and return it as a Party."""
    from tests.webapp.signing import openssh_line
    from webapp import signatures

    with database(application).sessions() as sess:
        account = accounts.create_user(sess, openid=openid, foundation=foundation)
        token = accounts.issue_token(sess, account.id)
        if key is not None:
            accounts.add_pubkey(sess, account.id, signatures.parse_public_key(openssh_line(key)))
    return Party(openid, token, key)


@dataclass
class Parties:
    """The four callers every privacy test checks."""

    anonymous: Party
    other: Party
    owner: Party
    foundation: Party

    def all(self) -> list[Party]:
        return [self.anonymous, self.other, self.owner, self.foundation]


@pytest.fixture
def parties(app: Flask, owner_key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey) -> Parties:
    """Anonymous, another user (with a key of their own), the owner (with a key) and a Foundation admin."""
    return Parties(
        anonymous=Party("anonymous", None),
        other=add_user(app, "other-user", key=other_key),
        owner=add_user(app, "owner-user", key=owner_key),
        foundation=add_user(app, "foundation-admin", foundation=True),
    )
