"""``tcup upload --product-version``: the real command line against the collector served over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.conftest import REPO
from tests.webapp.registry.conftest import NAMES, Http
from tests.webapp.signing import v1_body


def _pem(key: rsa.RSAPrivateKey, path: Path) -> Path:
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()))
    return path


def _tcup(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "tcup", *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_upload_attaches_to_the_named_version_or_says_why_not(http: Http, tmp_path: Path) -> None:
    p = http.parties
    vendor_id = http.ok(p.owner, "POST", "/v1/vendors", {"name": "Acme"}, status=201)["id"]
    product = http.ok(
        p.owner,
        "POST",
        "/v1/products",
        {"name": "Acme Cloud", "product_type": 1, "organization_id": vendor_id},
        status=201,
    )
    version = http.ok(p.owner, "POST", f"/v1/products/{product['id']}/versions", {"version": "2024.1"}, status=201)
    run = tmp_path / "refstack.json"
    run.write_bytes(v1_body(NAMES, cpid="cpid-tcup"))
    assert p.owner.key is not None and p.other.key is not None
    owner_pem, other_pem = _pem(p.owner.key, tmp_path / "owner.pem"), _pem(p.other.key, tmp_path / "other.pem")
    common = ["upload", str(run), "--server", http.url, "--yes", "--product-version", version["id"]]

    refused = _tcup(*common, "--sign", str(other_pem))
    assert refused.returncode != 0
    assert "other-user does not administer product 'Acme Cloud'" in refused.stderr, refused.stderr
    assert "only an admin of that product's vendor" in refused.stderr
    assert "Traceback" not in refused.stderr
    unsigned = _tcup(*common)
    assert unsigned.returncode == 2 and "--product-version needs --sign KEY" in unsigned.stderr, unsigned.stderr
    unknown = _tcup(*common[:-1], "no-such-version", "--sign", str(owner_pem))
    assert unknown.returncode != 0 and "check the product version's id" in unknown.stderr, unknown.stderr
    assert http.ok(p.foundation, "GET", "/v1/results?cpid=cpid-tcup")["results"] == []

    done = _tcup(*common, "--sign", str(owner_pem))
    assert done.returncode == 0, done.stderr
    runs = http.ok(p.owner, "GET", f"/v1/results?product_id={product['id']}")["results"]
    assert len(runs) == 1 and runs[0]["product_version"]["id"] == version["id"]
