"""Meta keys, verification, deletion: RefStack's permissions and its frozen verified runs."""

from __future__ import annotations

from flask import Flask

from tests.webapp.conftest import Parties
from tests.webapp.envelope import assert_error
from tests.webapp.signing import sign, v1_body


def owned_run(app: Flask, parties: Parties) -> str:
    body = v1_body(["tempest.a", "tempest.b"], cpid="owned")
    assert parties.owner.key is not None
    return str(
        app.test_client().post("/v1/results", data=body, headers=sign(body, parties.owner.key)).get_json()["test_id"]
    )


def test_meta_keys_are_raw_text(app: Flask, parties: Parties) -> None:
    run = owned_run(app, parties)
    client = app.test_client()
    owner = parties.owner.headers
    response = client.post(f"/v1/results/{run}/meta/guideline", data=b"2020.06.json", headers=owner)
    assert response.status_code == 201
    assert client.get(f"/v1/results/{run}/meta/guideline", headers=owner).get_json() == "2020.06.json"
    assert client.get(f"/v1/results/{run}/meta", headers=owner).get_json() == {
        "user": "owner-user",
        "guideline": "2020.06.json",
    }
    assert_error(client.get(f"/v1/results/{run}/meta/target", headers=owner), 404)
    assert_error(client.post(f"/v1/results/{run}/meta/user", data=b"mallory", headers=owner), 403)
    assert_error(client.post(f"/v1/results/{run}/meta/other", data=b"x", headers=owner), 403)
    assert_error(client.post(f"/v1/results/{run}/meta/target", data="a\x01b", headers=owner), 400)
    assert_error(client.post(f"/v1/results/{run}/meta/target", data=b"\xff\xfe", headers=owner), 400)
    assert client.delete(f"/v1/results/{run}/meta/guideline", headers=owner).status_code == 204
    assert_error(client.delete(f"/v1/results/{run}/meta/guideline", headers=owner), 404)


def test_only_the_foundation_verifies_and_verified_runs_are_frozen(app: Flask, parties: Parties) -> None:
    run = owned_run(app, parties)
    client = app.test_client()
    owner, foundation = parties.owner.headers, parties.foundation.headers
    assert_error(
        client.put(f"/v1/results/{run}", json={"verification_status": 1}, headers=owner),
        403,
        "You do not have permission to change a verification status.",
    )
    assert_error(client.put(f"/v1/results/{run}", json={"verification_status": 1}, headers=foundation), 403)
    for key, value in (("shared", "true"), ("guideline", "2020.06.json"), ("target", "platform")):
        assert client.post(f"/v1/results/{run}/meta/{key}", data=value, headers=owner).status_code == 201
    assert_error(client.put(f"/v1/results/{run}", json={"verification_status": 2}, headers=foundation), 400)
    assert_error(client.put(f"/v1/results/{run}", json={"verification_status": True}, headers=foundation), 400)
    assert_error(client.put(f"/v1/results/{run}", json={"colour": 1, "size": 2}, headers=foundation), 400)
    response = client.put(f"/v1/results/{run}", json={"verification_status": 1}, headers=foundation)
    assert response.status_code == 201 and response.get_json()["verification_status"] == 1
    assert_error(client.delete(f"/v1/results/{run}", headers=owner), 403, "Can not delete a verified test run.")
    assert_error(
        client.post(f"/v1/results/{run}/meta/target", data="compute", headers=owner),
        403,
        "Can not add/alter a new metadata key for a verified test run.",
    )
    assert_error(
        client.delete(f"/v1/results/{run}/meta/shared", headers=owner),
        403,
        "Can not delete a metadata key for a verified test run.",
    )
    assert_error(client.put(f"/v1/results/{run}", json={"product_version_id": None}, headers=owner), 403)
    # the Foundation can lift the flag again, and then the run thaws
    assert client.put(f"/v1/results/{run}", json={"verification_status": 0}, headers=foundation).status_code == 201
    assert client.delete(f"/v1/results/{run}", headers=owner).status_code == 204
    assert_error(client.get(f"/v1/results/{run}", headers=owner), 404)


def test_other_users_cannot_touch_a_shared_run(app: Flask, parties: Parties) -> None:
    run = owned_run(app, parties)
    client = app.test_client()
    client.post(f"/v1/results/{run}/meta/shared", data="true", headers=parties.owner.headers)
    other = parties.other.headers
    assert client.get(f"/v1/results/{run}", headers=other).get_json()["user_role"] == "user"
    assert_error(client.delete(f"/v1/results/{run}", headers=other), 403)
    assert_error(client.post(f"/v1/results/{run}/meta/target", data="x", headers=other), 403)
    assert_error(client.put(f"/v1/results/{run}", json={"verification_status": 0}, headers=other), 403)
    assert_error(client.delete(f"/v1/results/{run}"), 403)
