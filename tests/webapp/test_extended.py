"""POST /v2/runs: the signed, private extended document, standalone or linked to a v1 result."""

from __future__ import annotations

import json

from flask import Flask

from interop_model import Outcome
from interop_model.wire import loads_extended
from tests.webapp.conftest import Parties
from tests.webapp.envelope import assert_error
from tests.webapp.signing import extended_body, run_report, sign, v1_body, v1_body_of

CASES = [
    ("tempest.a", "6f8e4436-fc96-4282-8122-e41df57197a3", Outcome.SUCCESS, None),
    ("tempest.b", None, Outcome.FAIL, "Traceback: boom"),
    ("tempest.c", None, Outcome.SKIP, "no ipv6"),
]


def test_standalone_extended_run(app: Flask, parties: Parties) -> None:
    client = app.test_client()
    run = run_report(CASES)
    body = extended_body(run)
    assert parties.owner.key is not None
    response = client.post("/v2/runs", data=body, headers=sign(body, parties.owner.key))
    assert response.status_code == 201 and response.get_json()["linked"] is False
    run_id = response.get_json()["test_id"]
    again = client.post("/api/v2/runs/", data=body, headers=sign(body, parties.owner.key)).get_json()
    assert again["test_id"] == run_id and again["duplicate"] is True
    back = client.get(f"/v2/runs/{run_id}", headers=parties.owner.headers)
    assert back.status_code == 200 and loads_extended(back.get_data()) == run
    detail = client.get(f"/v1/results/{run_id}", headers=parties.owner.headers).get_json()
    assert detail["results"] == ["tempest.a"]  # v1 views carry passed tests only
    assert_error(client.get(f"/v2/runs/{run_id}", headers=parties.other.headers), 401)
    assert client.get(f"/v2/runs/{run_id}", headers=parties.foundation.headers).status_code == 200


def test_linked_extended_run(app: Flask, parties: Parties) -> None:
    client = app.test_client()
    run = run_report(CASES)
    v1 = v1_body_of(run)
    assert parties.owner.key is not None and parties.other.key is not None
    run_id = client.post("/v1/results", data=v1, headers=sign(v1, parties.owner.key)).get_json()["test_id"]
    ext = extended_body(run)
    assert_error(client.post(f"/v2/runs?test_id={run_id}", data=ext, headers=sign(ext, parties.other.key)), 401)
    response = client.post(f"/v2/runs?test_id={run_id}", data=ext, headers=sign(ext, parties.owner.key))
    assert response.status_code == 201 and response.get_json() == {
        "test_id": run_id,
        "url": response.get_json()["url"],
        "linked": True,
    }
    assert "Traceback: boom" in client.get(f"/v2/runs/{run_id}", headers=parties.owner.headers).get_data(as_text=True)
    other_cloud = extended_body(run_report(CASES, cpid="elsewhere"))
    assert_error(
        client.post(f"/v2/runs?test_id={run_id}", data=other_cloud, headers=sign(other_cloud, parties.owner.key)), 400
    )


def test_extended_runs_must_be_signed_and_valid(app: Flask, parties: Parties) -> None:
    client = app.test_client()
    body = extended_body(run_report(CASES))
    assert_error(client.post("/v2/runs", data=body), 401)
    bad = json.dumps(
        {"schema": "tcup.run/9", "cpid": "", "duration_seconds": -1, "results": [{"name": "x", "outcome": "maybe"}]}
    ).encode()
    error = assert_error(client.post("/v2/runs", data=bad), 400, "Request doesnt correspond to schema")
    assert len(error["errors"]) >= 4
    assert_error(client.post("/v2/runs", data=v1_body(["tempest.a"])), 400)
    anonymous_run = client.post("/v1/results", data=v1_body(["tempest.a"])).get_json()["test_id"]
    assert parties.owner.key is not None
    assert_error(
        client.post(f"/v2/runs?test_id={anonymous_run}", data=body, headers=sign(body, parties.owner.key)), 403
    )
