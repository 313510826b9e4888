"""POST /v1/results/: RefStack's checks in RefStack's order, signatures over the raw body, repeats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.webapp.conftest import Parties, add_user, make_app
from tests.webapp.envelope import assert_error
from tests.webapp.signing import sign, v1_body
from webapp.sessions import database
from webapp.store.tables import Run, TestCase

UUID = "ac1ad47f-984b-4441-9274-c9079b7a0666"
NAMES = [
    ("tempest.api.compute.servers.test_create_server.ServersTestJSON.test_host_name_is_same_as_server_name", UUID),
    ("tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token", None),
]


def count_runs(app: Flask) -> int:
    with database(app).sessions() as sess:
        return sess.scalar(select(func.count()).select_from(Run)) or 0


@pytest.mark.parametrize("path", ["/v1/results", "/v1/results/", "/api/v1/results", "/api/v1/results/"])
def test_anonymous_upload_is_201_with_test_id_and_url(client: FlaskClient, path: str) -> None:
    response = client.post(path, data=v1_body(NAMES))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"test_id", "url"}
    assert body["url"].endswith(body["test_id"])
    shown = client.get(f"/v1/results/{body['test_id']}").get_json()
    assert shown["results"] == sorted(n for n, _ in NAMES)
    assert "cpid" not in shown and shown["user_role"] == "user"


def test_malformed_json_comes_first(client: FlaskClient) -> None:
    assert_error(client.post("/v1/results", data=b"{not json", headers={"X-Signature": "zz"}), 400, "Malformed request")


def test_schema_problems_are_all_listed_before_signature_checks(client: FlaskClient) -> None:
    doc = {"cpid": 5, "results": [{"name": ""}, {"name": "ok", "uuid": "not-a-uuid"}, 7], "meta": {}}
    body = assert_error(
        client.post("/v1/results", data=json.dumps(doc), headers={"X-Signature": "zz"}),
        400,
        "Request doesnt correspond to schema",
    )
    text = " ".join(body["errors"])
    for part in ("'meta'", "'cpid'", "duration_seconds", "results[0].name", "results[1].uuid", "results[2]"):
        assert part in text
    assert len(body["errors"]) >= 6


def test_signature_checks_come_before_the_empty_check(client: FlaskClient, owner_key) -> None:  # type: ignore[no-untyped-def]
    empty = json.dumps({"cpid": "x", "duration_seconds": 1, "results": []}).encode()
    assert_error(client.post("/v1/results", data=empty, headers={"X-Signature": "zz"}), 400, "Malformed signature")
    assert_error(
        client.post("/v1/results", data=empty), 400, "Uploaded results must contain at least one passing test."
    )


def test_signature_errors_in_refstack_order(client: FlaskClient, owner_key, other_key) -> None:  # type: ignore[no-untyped-def]
    body = v1_body(NAMES)
    good = sign(body, owner_key)
    assert_error(
        client.post("/v1/results", data=body, headers={**good, "X-Signature": "xyz"}), 400, "Malformed signature"
    )
    assert_error(
        client.post("/v1/results", data=body, headers={**good, "X-Public-Key": "ssh-rsa AAAAnot"}),
        400,
        "Malformed public key",
    )
    assert_error(
        client.post("/v1/results", data=body, headers={**good, "X-Public-Key": sign(body, other_key)["X-Public-Key"]}),
        400,
        "Signature verification failed",
    )
    # the signature covers the raw bytes: the same document re-encoded fails
    reencoded = json.dumps(json.loads(body), indent=2).encode()
    assert_error(client.post("/v1/results", data=reencoded, headers=good), 400, "Signature verification failed")
    error = assert_error(client.post("/v1/results", data=body, headers=good), 401)
    assert error["title"].startswith("User with specified key not found.")


def test_signed_upload_belongs_to_the_key_owner(app: Flask, owner_key) -> None:  # type: ignore[no-untyped-def]
    owner = add_user(app, "alice", key=owner_key)
    client = app.test_client()
    body = v1_body(NAMES, cpid="alice-cloud")
    test_id = client.post("/v1/results/", data=body, headers=sign(body, owner_key)).get_json()["test_id"]
    mine = client.get(f"/v1/results/{test_id}", headers=owner.headers).get_json()
    assert mine["user_role"] == "owner" and mine["cpid"] == "alice-cloud" and mine["meta"] == {"user": "alice"}
    assert_error(client.get(f"/v1/results/{test_id}"), 401)  # private until shared


def test_identical_signed_upload_is_recognised(app: Flask, owner_key) -> None:  # type: ignore[no-untyped-def]
    add_user(app, "alice", key=owner_key)
    client = app.test_client()
    body = v1_body(NAMES)
    first = client.post("/v1/results", data=body, headers=sign(body, owner_key))
    again = client.post("/v1/results", data=body, headers=sign(body, owner_key))
    assert first.status_code == again.status_code == 201
    assert again.get_json()["test_id"] == first.get_json()["test_id"] and again.get_json()["duplicate"] is True
    assert count_runs(app) == 1
    other = v1_body(NAMES, duration=61)  # one byte differs: a new run
    assert (
        client.post("/v1/results", data=other, headers=sign(other, owner_key)).get_json()["test_id"]
        != first.get_json()["test_id"]
    )
    # anonymous repeats stay separate runs, as in RefStack
    client.post("/v1/results", data=body)
    client.post("/v1/results", data=body)
    assert count_runs(app) == 4


def test_anonymous_uploads_can_be_switched_off(database_url: str, owner_key) -> None:  # type: ignore[no-untyped-def]
    app = make_app(database_url, ANONYMOUS_UPLOADS=False)
    try:
        add_user(app, "alice", key=owner_key)
        client = app.test_client()
        body = v1_body(NAMES)
        assert_error(client.post("/v1/results", data=body), 401)
        assert client.post("/v1/results", data=body, headers=sign(body, owner_key)).status_code == 201
    finally:
        database(app).engine.dispose()


def test_metacharacters_are_stored_and_shown_verbatim(client: FlaskClient) -> None:
    names = [
        "tempest.<script>alert(1)</script>.test",
        "tempest.x'; DROP TABLE runs; --",
        'tempest."q"&amp;',
        "tempest.unicode.\u00e9\u4e2d\U0001f600",
        "tempest.scenario.test_x(scenario)",
        "tempest.back\\slash%_",
    ]
    test_id = client.post("/v1/results", data=v1_body(names)).get_json()["test_id"]
    assert client.get(f"/v1/results/{test_id}").get_json()["results"] == sorted(names)
    assert client.get("/v1/results").status_code == 200


def test_duplicate_names_collapse_and_ids_are_stored(app: Flask, client: FlaskClient) -> None:
    body = v1_body([("tempest.a", UUID), ("tempest.a", UUID), ("tempest.b", None)])
    test_id = client.post("/v1/results", data=body).get_json()["test_id"]
    assert client.get(f"/v1/results/{test_id}").get_json()["results"] == ["tempest.a", "tempest.b"]
    with database(app).sessions() as sess:
        stored = dict(sess.execute(select(TestCase.name, TestCase.uuid)).all())
    assert stored == {"tempest.a": UUID, "tempest.b": None}


def test_extra_keys_inside_items_are_ignored(client: FlaskClient) -> None:
    doc = {"cpid": "c", "duration_seconds": 1, "results": [{"name": "tempest.a", "uid": "x", "extra": 1}]}
    assert client.post("/v1/results", data=json.dumps(doc)).status_code == 201


def test_body_size_limit_is_a_413_envelope(database_url: str) -> None:
    app = make_app(database_url, MAX_UPLOAD_BYTES=2000)
    try:
        client = app.test_client()
        big = v1_body([f"tempest.test_{i:05d}" for i in range(200)])
        assert len(big) > 2000
        body = assert_error(client.post("/v1/results", data=big), 413)
        assert "2000 bytes" in body["detail"]
        assert client.post("/v1/results", data=v1_body(["tempest.a"])).status_code == 201
    finally:
        database(app).engine.dispose()


def test_a_1500_test_upload_round_trips(client: FlaskClient, parties: Parties) -> None:
    names = [
        (
            f"tempest.api.svc.test_mod_{i % 97:03d}.SvcTestJSON.test_case_{i:05d}",
            f"00000000-0000-4000-8000-{i:012d}" if i % 5 == 0 else None,
        )
        for i in range(1500)
    ]
    test_id = client.post("/v1/results", data=v1_body(names)).get_json()["test_id"]
    shown = client.get(f"/v1/results/{test_id}").get_json()["results"]
    assert shown == sorted(n for n, _ in names)


def test_unstorable_text_is_a_400_not_a_500(client: FlaskClient) -> None:
    body = b'{"cpid": "c\\u0000", "duration_seconds": 1, "results": [{"name": "a\\ud800"}, {"name": "ok"}]}'
    error = assert_error(client.post("/v1/results", data=body), 400, "Request doesnt correspond to schema")
    assert len(error["errors"]) == 2
    # the culprit is named by its place in the upload, duplicates before it included
    body = b'{"cpid": "c", "duration_seconds": 1, "results": [{"name": "ok"}, {"name": "ok"}, {"name": "b\\u0000"}]}'
    error = assert_error(client.post("/v1/results", data=body), 400, "Request doesnt correspond to schema")
    assert error["errors"] == [
        "results[2].name: holds a control character, '\\x00' (U+0000) at position 1 (test names are printable text)"
    ]


def test_out_of_range_and_nul_inputs_are_400s(client: FlaskClient) -> None:
    big = json.dumps({"cpid": "c", "duration_seconds": 2**40, "results": [{"name": "a"}]})
    assert_error(client.post("/v1/results", data=big), 400)
    assert_error(client.get("/v1/results?cpid=a%00b"), 400)
    assert_error(client.get("/v1/guidelines/a%00b"), 400)


def test_links_come_from_public_url_never_from_the_host_header(tmp_path: Path) -> None:
    spoofed = {"Host": "attacker.example"}
    configured = make_app(f"sqlite:///{tmp_path}/a.sqlite", PUBLIC_URL="https://interop.example.org/refstack/")
    try:
        client = configured.test_client()
        body = client.post("/v1/results", data=v1_body(NAMES), headers=spoofed).get_json()
        assert body["url"] == f"https://interop.example.org/refstack/results/{body['test_id']}"
        listed = client.get("/v1/results", headers=spoofed).get_json()["results"]
        assert [item["url"] for item in listed] == [body["url"]]
    finally:
        database(configured).engine.dispose()
    bare = make_app(f"sqlite:///{tmp_path}/b.sqlite")  # no PUBLIC_URL: relative links
    try:
        client = bare.test_client()
        body = client.post("/v1/results", data=v1_body(NAMES), headers=spoofed).get_json()
        assert body["url"] == f"/results/{body['test_id']}"
        assert client.get("/v1/results", headers=spoofed).get_json()["results"][0]["url"] == body["url"]
    finally:
        database(bare).engine.dispose()


@pytest.mark.parametrize("url", ["ftp://x.example", "interop.example.org", "https://", "https://x.example/?a=1"])
def test_a_bad_public_url_stops_the_start(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="PUBLIC_URL must be an http"):
        make_app(f"sqlite:///{tmp_path}/c.sqlite", PUBLIC_URL=url)
