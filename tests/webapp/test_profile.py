"""Key registration with a self-signature, and Bearer authentication (API tokens and RefStack JWTs)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import Flask

from tests.webapp.conftest import add_user
from tests.webapp.envelope import assert_error
from tests.webapp.signing import jwt_token, openssh_line, self_signature, sign, v1_body


def test_register_a_key_then_upload_with_it(app: Flask, owner_key) -> None:  # type: ignore[no-untyped-def]
    alice = add_user(app, "alice")
    client = app.test_client()
    doc = {"raw_key": openssh_line(owner_key, "alice@laptop"), "self_signature": self_signature(owner_key)}
    response = client.post("/v1/profile/pubkeys", json=doc, headers=alice.headers)
    assert response.status_code == 201
    assert response.get_json()["comment"] == "alice@laptop"
    assert_error(
        client.post("/v1/profile/pubkeys/", json=doc, headers=alice.headers), 409, "Public key already exists."
    )
    keys = client.get("/v1/profile/pubkeys", headers=alice.headers).get_json()
    assert [k["format"] for k in keys] == ["ssh-rsa"]
    body = v1_body(["tempest.a"])
    test_id = client.post("/v1/results", data=body, headers=sign(body, owner_key)).get_json()["test_id"]
    assert client.get(f"/v1/results/{test_id}", headers=alice.headers).get_json()["user_role"] == "owner"
    assert client.delete(f"/v1/profile/pubkeys/{keys[0]['id']}", headers=alice.headers).status_code == 204
    assert_error(client.post("/v1/results", data=body, headers=sign(body, owner_key)), 401)


def test_registration_checks(app: Flask, owner_key, other_key) -> None:  # type: ignore[no-untyped-def]
    alice = add_user(app, "alice")
    client = app.test_client()
    good = {"raw_key": openssh_line(owner_key), "self_signature": self_signature(owner_key)}
    h = alice.headers
    assert_error(client.post("/v1/profile/pubkeys", json=good), 401)
    assert_error(
        client.post("/v1/profile/pubkeys", json={**good, "extra": 1}, headers=h),
        400,
        "Request doesnt correspond to schema",
    )
    assert_error(
        client.post("/v1/profile/pubkeys", json={"raw_key": 5}, headers=h), 400, "Request doesnt correspond to schema"
    )
    assert_error(
        client.post("/v1/profile/pubkeys", json={**good, "raw_key": "Public key: " + good["raw_key"]}, headers=h),
        400,
        "Public key has unsupported format",
    )
    assert_error(
        client.post("/v1/profile/pubkeys", json={**good, "self_signature": "xyz"}, headers=h),
        400,
        "Malformed signature",
    )
    assert_error(
        client.post("/v1/profile/pubkeys", json={**good, "raw_key": "ssh-rsa AAAAB3garbage"}, headers=h),
        400,
        "Malformed public key",
    )
    assert_error(
        client.post("/v1/profile/pubkeys", json={**good, "self_signature": self_signature(other_key)}, headers=h),
        400,
        "Signature verification failed",
    )
    ecdsa = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    assert_error(client.post("/v1/profile/pubkeys", json={**good, "raw_key": ecdsa.decode()}, headers=h), 400)
    assert_error(client.delete("/v1/profile/pubkeys/99999", headers=h), 404)
    assert_error(client.delete("/v1/profile/pubkeys/%C2%B2", headers=h), 404)


def test_profile_with_api_token_and_jwt(app: Flask, owner_key, other_key) -> None:  # type: ignore[no-untyped-def]
    alice = add_user(app, "alice", key=owner_key)
    client = app.test_client()
    assert client.get("/v1/profile", headers=alice.headers).get_json()["openid"] == "alice"
    token = jwt_token(owner_key, "alice")
    assert client.get("/v1/profile", headers={"Authorization": f"Bearer {token}"}).get_json()["openid"] == "alice"
    for bad in (
        jwt_token(other_key, "alice"),
        jwt_token(owner_key, "alice", ttl=-100),
        jwt_token(owner_key, "bob"),
        "a.b.c",
        "tcup_unknown",
    ):
        assert_error(client.get("/v1/profile", headers={"Authorization": f"Bearer {bad}"}), 400, "Token is not valid")
    assert_error(
        client.get("/v1/profile", headers={"Authorization": "Token abc"}),
        400,
        "Authorization schema 'Bearer' should be used",
    )


@pytest.mark.parametrize("foundation", [False, True])
def test_profile_says_whether_the_caller_is_foundation(sqlite_app: Flask, foundation: bool) -> None:
    user = add_user(sqlite_app, "u", foundation=foundation)
    assert sqlite_app.test_client().get("/v1/profile", headers=user.headers).get_json()["is_admin"] is foundation
