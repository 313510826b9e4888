"""A real OpenID Connect provider for the sign-in tests: npm's ``oidc-provider`` on Debian's node.

``oidc_provider`` (session) installs the pinned packages of ``tests/oidc/`` once with
``npm ci`` into a cache folder (``$TCUP_TEST_CACHE``, default ``~/.cache/tcup-tests``, keyed
by the lock file), starts ``tests/oidc/provider.mjs`` on a free loopback port, waits until
its discovery document answers, and stops it at the end. It skips saying why when node or
npm is missing or the install fails, and fails instead when ``CI=true``.

The provider knows one confidential client (:data:`CLIENT_ID`, :data:`CLIENT_SECRET`) whose
loopback redirect URIs match on any port, and the users in :data:`USERS`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
import requests

from tests.conftest import REPO, skip_or_fail

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "REDIRECT_PATHS", "USERS", "OidcProvider", "oidc_provider"]

SOURCE = REPO / "tests" / "oidc"
CLIENT_ID = "tcup-collector"
CLIENT_SECRET = "test-client-secret-not-for-production"
# The collector's callback, with and without the /api prefix; any loopback port matches.
REDIRECT_PATHS = ("/v1/auth/signin_return", "/api/v1/auth/signin_return")
USERS = {
    "vendor-alice": {"password": "alice-password", "email": "alice@vendor.example", "name": "Alice Vendor"},
    "vendor-bob": {"password": "bob-password", "email": "bob@vendor.example", "name": "Bob Vendor"},
}
_START_TIMEOUT = 30.0


@dataclass
class OidcProvider:
    """A running provider: its ``issuer`` URL, the client and the users it knows."""

    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    users: dict[str, dict[str, str]] = field(default_factory=lambda: dict(USERS))


def _cache_root() -> Path:
    base = os.environ.get("TCUP_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tcup-tests"
    )
    return Path(base)


def install_provider() -> Path:
    """The folder holding ``provider.mjs`` and its ``node_modules`` (``npm ci`` once per lock file).

    :raises RuntimeError: node or npm is missing, or the install failed (the reason in the text).
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("node and npm are needed for the OpenID Connect test provider (apt-get install nodejs npm)")
    lock = (SOURCE / "package-lock.json").read_bytes()
    folder = _cache_root() / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # one installer at a time across test processes
        for name in ("package.json", "package-lock.json", "provider.mjs"):
            shutil.copyfile(SOURCE / name, folder / name)
        if not (folder / "node_modules" / ".installed").exists():
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"npm ci for the OpenID Connect test provider failed: {done.stderr.strip()[-400:]}")
            (folder / "node_modules" / ".installed").touch()
    return folder


@contextlib.contextmanager
def run_provider(users: dict[str, dict[str, str]] | None = None) -> Iterator[OidcProvider]:
    """Start the provider on a free loopback port and stop it (by its own pid) on exit."""
    folder = install_provider()
    users = dict(USERS if users is None else users)
    config = {
        "port": 0,
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [f"http://127.0.0.1{path}" for path in REDIRECT_PATHS],
            }
        ],
        "users": users,
    }
    with tempfile.TemporaryDirectory(prefix="tcup-oidc-") as tmp:
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(config))
        log = open(Path(tmp) / "provider.log", "w+b")  # closed below
        process = subprocess.Popen(
            [shutil.which("node") or "node", str(folder / "provider.mjs"), str(config_file)],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            issuer = _wait_for_issuer(process, log)
            yield OidcProvider(issuer=issuer, users=users)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            if process.stdout is not None:
                process.stdout.close()
            log.close()


def _wait_for_issuer(process: subprocess.Popen[str], log: IO[bytes]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()  # "listening <issuer>", printed once it is bound
    if not line.startswith("listening "):
        process.wait(10)
        raise RuntimeError(f"the OpenID Connect test provider did not start: {_tail(log)}")
    issuer = line.split(" ", 1)[1]
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5)
            if answer.status_code == 200 and answer.json().get("issuer") == issuer:
                return issuer
        except (requests.RequestException, ValueError):
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"the OpenID Connect test provider never answered its discovery document: {_tail(log)}")


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-500:]


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """A real OpenID Connect provider for the session."""
    stack = contextlib.ExitStack()
    try:
        provider = stack.enter_context(run_provider())
    except RuntimeError as exc:
        skip_or_fail(str(exc))
        raise  # not reached
    with stack:
        yield provider
