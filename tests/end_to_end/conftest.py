"""Fixtures of the end-to-end tests: the devcloud, a Tempest install, the collector and ``tcup`` itself.

Everything runs for real: ``tcup`` as a subprocess (as a user runs it), against the loopback devcloud
(``tests.cloud_fixtures``), uploading to the collector (``webapp``) served on a loopback port.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import cloud_fixtures
from tests.cloud_fixtures import DevcloudHandle

devcloud = cloud_fixtures.devcloud  # the session fixture, made visible to these tests

CAPABILITIES = ("identity-v3-*", "images-v2-*", "objectstore-*")
KEY_PASSPHRASE = "e2e key passphrase 42"
# Keystone's fernet tokens (what Tempest and tcup get) all start this way
TOKEN_PATTERN = re.compile(rb"gAAAAA[A-Za-z0-9_=-]{60,}")


@pytest.fixture(scope="session")
def tempest_python() -> str:
    """The Tempest interpreter: the one tcup finds, else the pinned venv, built once."""
    from tcup.errors import TempestNotFound
    from tcup.tempest_env import find_tempest, install_tempest

    try:
        env = find_tempest()
    except TempestNotFound:
        env = install_tempest()
    return str(env.python)


@dataclass
class Collector:
    """The collector service on loopback, with one user who registered a signing key."""

    url: str
    app: Any
    token: str
    key_file: Path
    passphrase: str


@pytest.fixture(scope="session")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    """``webapp`` served in a thread over SQLite; skipped when the collector is not importable."""
    webapp = pytest.importorskip("webapp", reason="the collector service (webapp) is not installed")
    from werkzeug.serving import make_server

    from webapp import signatures
    from webapp.sessions import database
    from webapp.store import accounts

    root = tmp_path_factory.mktemp("collector")
    app = webapp.create_app({"DATABASE_URL": f"sqlite:///{root}/tcup.sqlite", "TESTING": True})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = root / "id_rsa"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(KEY_PASSPHRASE.encode()),
        )
    )
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    with database(app).sessions() as sess:
        account = accounts.create_user(sess, openid="https://openid.example/vendor")
        token = accounts.issue_token(sess, account.id)
        accounts.add_pubkey(sess, account.id, signatures.parse_public_key(line.decode()))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Collector(f"http://127.0.0.1:{server.server_port}", app, token, key_file, KEY_PASSPHRASE)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        database(app).engine.dispose()


def tcup_env(cloud: DevcloudHandle, tempest_python: str, **extra: str) -> dict[str, str]:
    """The environment of a ``tcup`` subprocess: the demo user's OS_* variables and the Tempest to use."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "TCUP_"))}
    env.update(cloud.openrc("demo"))
    env.update({"TCUP_TEMPEST_PYTHON": tempest_python, "PYTHONWARNINGS": "ignore", **extra})
    return env


def tcup(*args: str, env: dict[str, str], timeout: float = 900, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tcup ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "tcup", *args], env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def selection_args(interop_dir: Path, capabilities: tuple[str, ...] = CAPABILITIES) -> list[str]:
    """``-g 2020.06.json -c ...`` for the given capability patterns."""
    args = ["-g", str(interop_dir / "2020.06.json"), "--target", "platform"]
    for pattern in capabilities:
        args += ["-c", pattern]
    return args


def secrets_of(cloud: DevcloudHandle) -> list[str]:
    """Every password of the devcloud's users."""
    return sorted({cloud.cloud(name)["auth"]["password"] for name in ("devcloud", "devcloud-alt", "devcloud-admin")})


@pytest.fixture(scope="session")
def interop_run(
    devcloud: DevcloudHandle,
    tempest_python: str,
    interop_dir: Path,
    collector: Collector,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One full run, signed upload of both documents, debug logging on (``-vv``) to test redaction.

    Session-scoped and requested by the tests that interrupt runs, so it runs before them: an
    interrupted Tempest run skips its cleanup and leaves containers behind, which would make
    ``test_list_no_containers`` fail in a later run.
    """
    output = tmp_path_factory.mktemp("run") / "out"
    env = tcup_env(devcloud, tempest_python, TCUP_KEY_PASSPHRASE=collector.passphrase)
    proc = tcup(
        "-vv",
        "run",
        *selection_args(interop_dir),
        "--accounts-file",
        str(devcloud.accounts_yaml),
        "--output",
        str(output),
        "--upload",
        collector.url,
        "--sign",
        str(collector.key_file),
        "--extended",
        "-y",
        env=env,
    )
    return proc, output


@pytest.fixture(scope="session")
def object_target_run(
    devcloud: DevcloudHandle,
    tempest_python: str,
    interop_dir: Path,
    collector: Collector,
    interop_run: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``tcup run --guideline 2020.06 --target object`` (by version name), non-admin with the
    devcloud's accounts file, uploaded signed with the owner's API token. Session-scoped, and
    requested by the tests that interrupt runs, for the reason :func:`interop_run` gives."""
    output = tmp_path_factory.mktemp("object") / "out"
    env = tcup_env(devcloud, tempest_python, TCUP_KEY_PASSPHRASE=collector.passphrase)
    proc = tcup(
        "run",
        "--guideline",
        "2020.06",
        "--guidelines-dir",
        str(interop_dir),
        "--target",
        "object",
        "--accounts-file",
        str(devcloud.accounts_yaml),
        "--output",
        str(output),
        "--no-progress",
        "--upload",
        collector.url,
        "--sign",
        str(collector.key_file),
        "--extended",
        "--token",
        collector.token,
        "-y",
        env=env,
    )
    return proc, output


@pytest.fixture(scope="session")
def one_account_run(
    devcloud: DevcloudHandle,
    tempest_python: str,
    interop_dir: Path,
    object_target_run: object,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The object target with the demo user alone (no accounts file); session-scoped as above."""
    output = tmp_path_factory.mktemp("one-account") / "out"
    proc = tcup(
        "run",
        "-g",
        "2020.06",
        "--guidelines-dir",
        str(interop_dir),
        "--target",
        "object",
        "--output",
        str(output),
        "--no-progress",
        env=tcup_env(devcloud, tempest_python),
    )
    return proc, output
