"""Test helpers: RefStack-style signing and upload documents."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from interop_model import CaseResult, Outcome, RunReport
from interop_model.wire import dumps_v1, to_extended_document, to_v1_document


def openssh_line(key: rsa.RSAPrivateKey, comment: str = "") -> str:
    """The public half as one OpenSSH line."""
    line = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    return f"{line} {comment}".strip()


def sign(body: bytes, key: rsa.RSAPrivateKey) -> dict[str, str]:
    """RefStack's headers for a signed upload of exactly ``body``."""
    signature = key.sign(body, padding.PKCS1v15(), hashes.SHA256()).hex()
    return {"X-Signature": signature, "X-Public-Key": openssh_line(key), "Content-Type": "application/json"}


def self_signature(key: rsa.RSAPrivateKey) -> str:
    """The hex signature of b"signature" that key registration needs."""
    return key.sign(b"signature", padding.PKCS1v15(), hashes.SHA256()).hex()


def jwt_token(key: rsa.RSAPrivateKey, openid: str, *, ttl: int = 600) -> str:
    """A RefStack-style RS256 JWT with user_openid and exp."""

    def b64(raw: bytes) -> bytes:
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"user_openid": openid, "exp": int(time.time()) + ttl}).encode())
    sig = key.sign(head + b"." + body, padding.PKCS1v15(), hashes.SHA256())
    return (head + b"." + body + b"." + b64(sig)).decode()


def v1_body(names: list[str] | list[tuple[str, str | None]], cpid: str = "cloud-1", duration: int = 60) -> bytes:
    """A v1 upload body (as refstack-client serialises it)."""
    results: list[dict[str, Any]] = []
    for item in names:
        name, uuid = (item, None) if isinstance(item, str) else item
        results.append({"name": name, **({"uuid": uuid} if uuid else {})})
    return dumps_v1({"cpid": cpid, "duration_seconds": duration, "results": results})


def run_report(cases: list[tuple[str, str | None, Outcome, str | None]], cpid: str = "cloud-1") -> RunReport:
    """A run with outcomes: (name, uuid, outcome, reason)."""
    from uuid import UUID

    return RunReport(
        cpid=cpid,
        duration_seconds=42,
        results=tuple(
            CaseResult(test_id=n, idempotent_id=UUID(u) if u else None, outcome=o, reason=r) for n, u, o, r in cases
        ),
    )


def extended_body(run: RunReport) -> bytes:
    """The extended document of ``run``."""
    return json.dumps(to_extended_document(run)).encode()


def v1_body_of(run: RunReport) -> bytes:
    """The v1 document of ``run`` (passed tests only)."""
    return dumps_v1(to_v1_document(run))
