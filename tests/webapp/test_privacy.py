"""Privacy: private runs, failure details and owner-only fields reach only the owner and the Foundation.

Every read endpoint is called as anonymous, another user, the owner and a Foundation admin.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from interop_model import Outcome
from tests.webapp.conftest import Parties, Party, import_into
from tests.webapp.signing import extended_body, run_report, sign, v1_body, v1_body_of

SECRET_REASON = "SECRET-REASON-traceback"
SECRET_CPID = "secret-cpid-0001"
SHARED_CPID = "shared-cpid-0002"
PASSED = "tempest.api.identity.v3.test_api_discovery.TestApiDiscovery.test_api_version_resources"
FAILED = "tempest.api.compute.servers.test_servers.ServersTestJSON.test_create_server_with_admin_password"


@dataclass
class World:
    """The runs every privacy test looks at."""

    anonymous_run: str
    private_run: str  # signed, never shared, with an extended document holding a failure reason
    shared_run: str  # signed and shared, also with an extended document
    parties: Parties


def _signed_run(app: Flask, owner: Party, cpid: str) -> str:
    client = app.test_client()
    run = run_report([(PASSED, None, Outcome.SUCCESS, None), (FAILED, None, Outcome.FAIL, SECRET_REASON)], cpid=cpid)
    body = v1_body_of(run)
    assert owner.key is not None
    test_id = client.post("/v1/results", data=body, headers=sign(body, owner.key)).get_json()["test_id"]
    ext = extended_body(run)
    response = client.post(f"/v2/runs?test_id={test_id}", data=ext, headers=sign(ext, owner.key))
    assert response.status_code == 201, response.get_json()
    return str(test_id)


@pytest.fixture
def world(app: Flask, parties: Parties) -> World:
    client = app.test_client()
    anonymous_run = client.post("/v1/results", data=v1_body([PASSED], cpid="anon-cpid")).get_json()["test_id"]
    private_run = _signed_run(app, parties.owner, SECRET_CPID)
    shared_run = _signed_run(app, parties.owner, SHARED_CPID)
    for key, value in (("shared", "true"), ("guideline", "2020.06.json"), ("target", "platform")):
        assert (
            client.post(f"/v1/results/{shared_run}/meta/{key}", data=value, headers=parties.owner.headers).status_code
            == 201
        )
    return World(anonymous_run, private_run, shared_run, parties)


def _privileged(party: Party, world: World) -> bool:
    return party in (world.parties.owner, world.parties.foundation)


def read_paths(world: World) -> list[str]:
    paths = ["/", "/v1/results", "/v1/results?cpid=" + SECRET_CPID, "/v1/results?cpid=" + SHARED_CPID]
    for run in (world.anonymous_run, world.private_run, world.shared_run):
        paths += [
            f"/v1/results/{run}",
            f"/v1/results/{run}/meta",
            f"/v1/results/{run}/meta/user",
            f"/v1/results/{run}/compliance?guideline=2020.06&target=platform",
            f"/v2/runs/{run}",
            f"/api/v1/results/{run}",
        ]
    return paths


def test_no_secret_reaches_anyone_but_owner_and_foundation(app: Flask, world: World, guideline_dir) -> None:  # type: ignore[no-untyped-def]
    import_into(app, guideline_dir)
    client = app.test_client()
    for party in world.parties.all():
        for path in read_paths(world):
            response = client.get(path, headers=party.headers)
            text = response.get_data(as_text=True)
            if not _privileged(party, world):
                assert SECRET_REASON not in text, (party.name, path)
                assert SECRET_CPID not in text and SHARED_CPID not in text, (party.name, path)
                assert world.private_run not in text or response.status_code >= 400, (party.name, path)
                assert '"user":' not in text and "owner-user" not in text, (party.name, path)
                assert '"state":"failed"' not in text, (party.name, path)
    for party in (world.parties.owner, world.parties.foundation):
        text = client.get(f"/v2/runs/{world.private_run}", headers=party.headers).get_data(as_text=True)
        assert SECRET_REASON in text


@pytest.mark.parametrize("who", ["anonymous", "other", "owner", "foundation"])
def test_private_run_detail(world: World, app: Flask, who: str) -> None:
    party: Party = getattr(world.parties, who)
    client = app.test_client()
    response = client.get(f"/v1/results/{world.private_run}", headers=party.headers)
    if who in ("anonymous", "other"):
        assert response.status_code == 401
        assert client.get(f"/v1/results/{world.private_run}/meta", headers=party.headers).status_code == 403
        assert client.get(f"/v1/results/{world.private_run}/compliance", headers=party.headers).status_code == 401
        assert client.get(f"/v2/runs/{world.private_run}", headers=party.headers).status_code == 401
        assert client.delete(f"/v1/results/{world.private_run}", headers=party.headers).status_code == 401
        assert (
            client.post(f"/v1/results/{world.private_run}/meta/shared", data="true", headers=party.headers).status_code
            == 401
        )
        return
    body = response.get_json()
    assert body["user_role"] == who and body["cpid"] == SECRET_CPID
    assert body["meta"] == {"user": "owner-user"}
    assert body["results"] == [PASSED]  # the detail lists passed tests only, even for the owner


@pytest.mark.parametrize("who", ["anonymous", "other", "owner", "foundation"])
def test_shared_run_detail(world: World, app: Flask, who: str) -> None:
    party: Party = getattr(world.parties, who)
    body = app.test_client().get(f"/v1/results/{world.shared_run}", headers=party.headers).get_json()
    public_meta = {"shared": "true", "guideline": "2020.06.json", "target": "platform"}
    if who in ("anonymous", "other"):
        assert body["user_role"] == "user" and "cpid" not in body and body["meta"] == public_meta
    else:
        assert body["user_role"] == who and body["cpid"] == SHARED_CPID
        assert body["meta"] == {**public_meta, "user": "owner-user"}


@pytest.mark.parametrize("who", ["anonymous", "other", "owner", "foundation"])
def test_list_shows_public_runs_and_filters_meta(world: World, app: Flask, who: str) -> None:
    party: Party = getattr(world.parties, who)
    items = app.test_client().get("/v1/results", headers=party.headers).get_json()["results"]
    ids = [i["id"] for i in items]
    assert ids == [world.shared_run, world.anonymous_run]  # newest first; the private run never
    assert all("cpid" not in i for i in items)
    shared = items[0]
    assert ("user" in shared["meta"]) == (who in ("owner", "foundation"))


def test_signed_filter_lists_the_callers_own_runs(world: World, app: Flask) -> None:
    client = app.test_client()
    mine = client.get("/v1/results?signed=true", headers=world.parties.owner.headers).get_json()["results"]
    assert {i["id"] for i in mine} == {world.private_run, world.shared_run}
    assert client.get("/v1/results?signed", headers=world.parties.other.headers).get_json()["results"] == []
    assert client.get("/v1/results?signed").status_code == 400


def test_unsharing_makes_a_run_private_again(world: World, app: Flask) -> None:
    client = app.test_client()
    owner = world.parties.owner.headers
    assert client.delete(f"/v1/results/{world.shared_run}/meta/shared", headers=owner).status_code == 204
    assert client.get(f"/v1/results/{world.shared_run}").status_code == 401
    assert world.shared_run not in client.get("/v1/results").get_data(as_text=True)


def test_compliance_shows_failures_only_to_privileged_callers(world: World, app: Flask, guideline_dir) -> None:  # type: ignore[no-untyped-def]
    import_into(app, guideline_dir)
    client = app.test_client()
    path = f"/v1/results/{world.shared_run}/compliance?guideline=2020.06&target=platform"
    public = client.get(path).get_json()
    owner = client.get(path, headers=world.parties.owner.headers).get_json()
    assert public["evidence"] == "passed-only" and owner["evidence"] == "extended"

    def states(report: dict) -> set[str]:  # type: ignore[type-arg]
        return {t["state"] for c in report["capabilities"] for t in c["tests"]}

    assert "failed" not in states(public)
    assert "failed" in states(owner)
    assert public["required"]["passed"] == owner["required"]["passed"]


def test_anonymous_runs_are_owned_by_nobody(world: World, app: Flask) -> None:
    client = app.test_client()
    run = world.anonymous_run
    for party in (world.parties.anonymous, world.parties.other, world.parties.owner):
        assert client.get(f"/v1/results/{run}", headers=party.headers).get_json()["user_role"] == "user"
        assert client.post(f"/v1/results/{run}/meta/shared", data="true", headers=party.headers).status_code == 403
        assert client.delete(f"/v1/results/{run}", headers=party.headers).status_code == 403
    foundation = world.parties.foundation.headers
    assert client.post(f"/v1/results/{run}/meta/target", data="platform", headers=foundation).status_code == 201
    assert client.delete(f"/v1/results/{run}", headers=foundation).status_code == 204
