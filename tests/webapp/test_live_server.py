"""The live_server fixture over real HTTP, and RefStack's own checks (the peer's smoke.py) against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.pg_fixtures import LiveServer
from tests.webapp.signing import openssh_line, self_signature, sign, v1_body

SMOKE = (
    Path(
        os.environ.get(
            "REFSTACK_PEER_TOOLS", Path(__file__).resolve().parents[3] / "shared" / "tools" / "refstack-peer"
        )
    )
    / "smoke.py"
)


def call(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_signed_upload_over_http(live_server: LiveServer, owner_key: rsa.RSAPrivateKey) -> None:
    token = live_server.create_user("alice")
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    key_doc = json.dumps({"raw_key": openssh_line(owner_key), "self_signature": self_signature(owner_key)}).encode()
    assert call("POST", f"{live_server.url}/v1/profile/pubkeys", key_doc, auth)[0] == 201
    body = v1_body(["tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"])
    status, answer = call("POST", f"{live_server.url}/api/v1/results/", body, sign(body, owner_key))
    assert status == 201
    run_id = json.loads(answer)["test_id"]
    assert call("GET", f"{live_server.url}/v1/results/{run_id}")[0] == 401
    status, detail = call("GET", f"{live_server.url}/v1/results/{run_id}", headers=auth)
    assert status == 200 and json.loads(detail)["user_role"] == "owner"
    admin = {"Authorization": f"Bearer {live_server.admin_token}"}
    assert (
        json.loads(call("GET", f"{live_server.url}/v1/results/{run_id}", headers=admin)[1])["user_role"] == "foundation"
    )


def test_refstack_smoke_checks_pass(
    live_server: LiveServer, tmp_path: Path, owner_key: rsa.RSAPrivateKey, guideline_dir: Path
) -> None:
    if not SMOKE.is_file():
        pytest.skip(f"the RefStack peer tools are not at {SMOKE.parent} (set REFSTACK_PEER_TOOLS)")
    from tests.webapp.conftest import import_into

    import_into(live_server.app, guideline_dir)
    token = live_server.create_user("test-open-id")
    key_doc = json.dumps({"raw_key": openssh_line(owner_key), "self_signature": self_signature(owner_key)}).encode()
    call(
        "POST",
        f"{live_server.url}/v1/profile/pubkeys",
        key_doc,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    pem = tmp_path / "key.pem"
    pem.write_bytes(owner_key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()))
    done = subprocess.run(
        [sys.executable, str(SMOKE), live_server.url, "--key", str(pem), "--openid", "test-open-id"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke: 0 checks failed" in done.stdout
