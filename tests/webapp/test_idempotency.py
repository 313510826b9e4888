"""Exactly-once uploads: a repeated Idempotency-Key (with the same body and signer) returns the
first run, on SQLite and PostgreSQL, also when the copies race each other."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import func, select

from interop_model import Outcome
from tests.webapp.conftest import Parties
from tests.webapp.envelope import assert_error
from tests.webapp.signing import extended_body, run_report, sign, v1_body
from webapp.sessions import database
from webapp.store.tables import Run, UploadKey

NAMES = ["tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"]
KEY = "5f1d3c0e" * 8  # what tcup upload sends: the sha256 hex of the exact body; any text works


def runs_stored(app: Flask) -> int:
    with database(app).sessions() as sess:
        return sess.scalar(select(func.count()).select_from(Run)) or 0


def test_a_repeated_key_returns_the_first_run(app: Flask) -> None:
    client, body = app.test_client(), v1_body(NAMES)
    first = client.post("/v1/results", data=body, headers={"Idempotency-Key": KEY})
    again = client.post("/v1/results", data=body, headers={"Idempotency-Key": KEY})
    assert first.status_code == again.status_code == 201
    assert again.get_json()["test_id"] == first.get_json()["test_id"] and again.get_json()["duplicate"] is True
    assert again.get_json()["url"] == first.get_json()["url"]
    assert runs_stored(app) == 1
    other_key = client.post("/v1/results", data=body, headers={"Idempotency-Key": "another"}).get_json()
    other_body = client.post("/v1/results", data=v1_body(NAMES, cpid="c2"), headers={"Idempotency-Key": KEY})
    no_key = client.post("/v1/results", data=body).get_json()  # anonymous copies without a key are kept, as before
    ids = {first.get_json()["test_id"], other_key["test_id"], other_body.get_json()["test_id"], no_key["test_id"]}
    assert len(ids) == 4 and runs_stored(app) == 4


def test_the_key_is_scoped_to_the_signer(app: Flask, parties: Parties) -> None:
    assert parties.owner.key is not None
    client, body = app.test_client(), v1_body(NAMES)
    anonymous = client.post("/v1/results", data=body, headers={"Idempotency-Key": KEY}).get_json()
    signed_headers = {**sign(body, parties.owner.key), "Idempotency-Key": KEY}
    signed = client.post("/v1/results", data=body, headers=signed_headers).get_json()
    assert signed["test_id"] != anonymous["test_id"]  # never someone else's run, private or not
    assert client.post("/v1/results", data=body, headers=signed_headers).get_json()["test_id"] == signed["test_id"]
    assert runs_stored(app) == 2


def test_a_deleted_run_frees_its_key(app: Flask, parties: Parties) -> None:
    client, body = app.test_client(), v1_body(NAMES)
    first = client.post("/v1/results", data=body, headers={"Idempotency-Key": KEY}).get_json()["test_id"]
    assert client.delete(f"/v1/results/{first}", headers=parties.foundation.headers).status_code == 204
    with database(app).sessions() as sess:
        assert sess.scalar(select(func.count()).select_from(UploadKey)) == 0
    second = client.post("/v1/results", data=body, headers={"Idempotency-Key": KEY})
    assert second.status_code == 201 and second.get_json()["test_id"] != first


def test_racing_copies_store_one_run(app: Flask) -> None:
    body, copies = v1_body(NAMES), 12
    barrier = threading.Barrier(copies)

    def post(_: int) -> tuple[int, str]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post("/v1/results", data=body, headers={"Idempotency-Key": KEY})
        return response.status_code, response.get_json()["test_id"]

    with ThreadPoolExecutor(copies) as pool:
        answers = list(pool.map(post, range(copies)))
    assert {status for status, _ in answers} == {201}
    assert len({test_id for _, test_id in answers}) == 1
    assert runs_stored(app) == 1


def test_extended_uploads_honour_the_key(app: Flask, parties: Parties) -> None:
    assert parties.owner.key is not None
    client = app.test_client()
    body = extended_body(run_report([(NAMES[0], None, Outcome.SUCCESS, None)]))
    headers = {**sign(body, parties.owner.key), "Idempotency-Key": KEY}
    first = client.post("/v2/runs", data=body, headers=headers).get_json()
    again = client.post("/v2/runs", data=body, headers=headers)
    assert again.status_code == 201 and again.get_json()["test_id"] == first["test_id"]
    assert runs_stored(app) == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "a\x01b"])
def test_a_malformed_key_is_a_400(app: Flask, key: str) -> None:
    response = app.test_client().post("/v1/results", data=v1_body(NAMES), headers={"Idempotency-Key": key})
    assert_error(response, 400, "Invalid Idempotency-Key header")
    assert runs_stored(app) == 0
