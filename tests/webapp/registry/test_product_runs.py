"""Runs and products over HTTP: signed uploads attached by cpid, ``PUT /v1/results/<id>`` with
``product_version_id``, ``GET /v1/results?product_id=``, ``product_version`` in lists and details,
and the Foundation's verification; as anonymous, another user, a vendor admin and the Foundation."""

from __future__ import annotations

from typing import Any

import requests

from tests.webapp.registry.conftest import NAMES, Http, check_error
from tests.webapp.signing import sign, v1_body

CPID = "cpid-acme-cloud"


def _catalogue(http: Http, *, public: bool = True) -> tuple[str, str, str]:
    """An official vendor's product (public or not) with a version carrying :data:`CPID`."""
    p = http.parties
    vendor_id = str(http.ok(p.owner, "POST", "/v1/vendors", {"name": "Acme"}, status=201)["id"])
    http.ok(p.owner, "POST", f"/v1/vendors/{vendor_id}/action", {"register": None})
    http.ok(p.foundation, "POST", f"/v1/vendors/{vendor_id}/action", {"approve": None})
    product = http.ok(
        p.owner,
        "POST",
        "/v1/products",
        {"name": "Acme Cloud", "product_type": 1, "organization_id": vendor_id},
        status=201,
    )
    if public:
        http.ok(p.owner, "PUT", f"/v1/products/{product['id']}", {"public": True})
    version = http.ok(
        p.owner, "POST", f"/v1/products/{product['id']}/versions", {"version": "2024.1", "cpid": CPID}, status=201
    )
    return vendor_id, product["id"], version["id"]


def _expected(product_id: str, version_id: str, vendor_id: str, *, public: bool = True) -> dict[str, Any]:
    return {
        "id": version_id,
        "version": "2024.1",
        "cpid": CPID,
        "product_info": {"id": product_id, "name": "Acme Cloud", "organization_id": vendor_id, "public": public},
    }


def test_a_signed_upload_is_attached_to_the_one_version_with_its_cpid(http: Http) -> None:
    p = http.parties
    vendor_id, product_id, version_id = _catalogue(http)
    run_id = http.upload(p.owner, CPID)
    detail = http.ok(p.owner, "GET", f"/v1/results/{run_id}")
    assert detail["product_version"] == _expected(product_id, version_id, vendor_id)
    assert detail["user_role"] == "owner"
    # another user's upload from that cloud is not attached: they do not administer the product
    theirs = http.upload(p.other, CPID)
    assert http.ok(p.other, "GET", f"/v1/results/{theirs}")["product_version"] is None
    # an anonymous upload never is
    anonymous = http.upload(None, CPID)
    assert http.ok(p.anonymous, "GET", f"/v1/results/{anonymous}")["product_version"] is None


def test_an_upload_names_its_product_version_only_when_signed_by_an_admin(http: Http) -> None:
    p = http.parties
    vendor_id, product_id, version_id = _catalogue(http)
    body = v1_body(NAMES, cpid="cpid-named")

    def post(headers: dict[str, str], version: str) -> requests.Response:
        headers = {"Content-Type": "application/json", **headers}
        return requests.post(
            f"{http.url}/v1/results?product_version_id={version}", data=body, headers=headers, timeout=30
        )

    check_error(post({}, version_id), 401)
    check_error(post(sign(body, p.other.key), version_id), 403)  # type: ignore[arg-type]
    check_error(post(sign(body, p.owner.key), "no-such-version"), 404)  # type: ignore[arg-type]
    assert http.ok(p.foundation, "GET", "/v1/results?cpid=cpid-named")["results"] == []  # nothing was stored
    made = post(sign(body, p.owner.key), version_id)  # type: ignore[arg-type]
    assert made.status_code == 201, made.text
    detail = http.ok(p.owner, "GET", f"/v1/results/{made.json()['test_id']}")
    assert detail["product_version"] == _expected(product_id, version_id, vendor_id)


def test_two_versions_with_one_cpid_attach_nothing(http: Http) -> None:
    p = http.parties
    _vendor_id, product_id, _version_id = _catalogue(http)
    http.ok(p.owner, "POST", f"/v1/products/{product_id}/versions", {"version": "2024.2", "cpid": CPID}, status=201)
    run_id = http.upload(p.owner, CPID)
    assert http.ok(p.owner, "GET", f"/v1/results/{run_id}")["product_version"] is None


def test_attaching_and_detaching_a_run(http: Http) -> None:
    p = http.parties
    vendor_id, product_id, version_id = _catalogue(http)
    run_id = http.upload(p.owner, "cpid-elsewhere")
    path = f"/v1/results/{run_id}"
    check_error(http.call(p.anonymous, "PUT", path, {"product_version_id": version_id}), 401)
    check_error(http.call(p.other, "PUT", path, {"product_version_id": version_id}), 401)  # a private run
    check_error(http.call(p.owner, "PUT", path, {"product_version_id": "no-such-version"}), 404)
    changed = http.ok(p.owner, "PUT", path, {"product_version_id": version_id}, status=201)
    assert changed["product_version"] == _expected(product_id, version_id, vendor_id)
    # the other user's own run cannot go to a product they do not administer
    theirs = http.upload(p.other, "cpid-theirs")
    check_error(http.call(p.other, "PUT", f"/v1/results/{theirs}", {"product_version_id": version_id}), 403)
    # the Foundation may attach anything; the vendor's admins then own the run too
    http.ok(p.foundation, "PUT", f"/v1/results/{theirs}", {"product_version_id": version_id}, status=201)
    assert http.ok(p.owner, "GET", f"/v1/results/{theirs}")["user_role"] == "owner"
    detached = http.ok(p.owner, "PUT", path, {"product_version_id": None}, status=201)
    assert detached["product_version"] is None


def test_listing_by_product(http: Http) -> None:
    p = http.parties
    _vendor_id, product_id, version_id = _catalogue(http)
    private_run = http.upload(p.owner, CPID)
    shared_run = http.upload(p.owner, CPID)
    http.set_meta(p.owner, shared_run, "shared", "true")
    http.upload(p.owner, "cpid-elsewhere")
    query = f"/v1/results?product_id={product_id}"
    for party in (p.owner, p.foundation):  # admins see every attached run
        listed = http.ok(party, "GET", query)["results"]
        assert {r["id"] for r in listed} == {private_run, shared_run}
        assert all(r["product_version"]["id"] == version_id for r in listed)
    for party in (p.anonymous, p.other):  # others the public ones only
        assert [r["id"] for r in http.ok(party, "GET", query)["results"]] == [shared_run]
    check_error(http.call(p.anonymous, "GET", "/v1/results?product_id=no-such-product"), 404)


def test_a_private_product_is_hidden_from_others(http: Http) -> None:
    p = http.parties
    vendor_id, product_id, version_id = _catalogue(http, public=False)
    run_id = http.upload(p.owner, CPID)
    http.set_meta(p.owner, run_id, "shared", "true")
    for party in (p.anonymous, p.other):
        check_error(http.call(party, "GET", f"/v1/results?product_id={product_id}"), 403)
        assert http.ok(party, "GET", f"/v1/results/{run_id}")["product_version"] is None
        listed = {r["id"]: r for r in http.ok(party, "GET", "/v1/results")["results"]}
        assert listed[run_id]["product_version"] is None
    for party in (p.owner, p.foundation):
        expected = _expected(product_id, version_id, vendor_id, public=False)
        assert http.ok(party, "GET", f"/v1/results/{run_id}")["product_version"] == expected


def test_verification_needs_the_foundation_and_the_meta_and_freezes_the_run(http: Http) -> None:
    p = http.parties
    _vendor_id, product_id, version_id = _catalogue(http)
    run_id = http.upload(p.owner, CPID)
    path = f"/v1/results/{run_id}"
    check_error(http.call(p.owner, "PUT", path, {"verification_status": 1}), 403)
    check_error(http.call(p.foundation, "PUT", path, {"verification_status": 1}), 403)  # no meta yet
    for key, value in (("shared", "true"), ("guideline", "2020.06.json"), ("target", "platform")):
        http.set_meta(p.owner, run_id, key, value)
    check_error(http.call(p.foundation, "PUT", path, {"verification_status": 2}), 400)
    check_error(http.call(p.foundation, "PUT", path, {"verification_status": "1"}), 400)
    verified = http.ok(p.foundation, "PUT", path, {"verification_status": 1}, status=201)
    assert verified["verification_status"] == 1 and verified["product_version"]["id"] == version_id
    check_error(
        http.call(p.owner, "PUT", path, {"product_version_id": None}),
        403,
        "Can not update product_version_id for a verified test run.",
    )
    check_error(http.call(p.owner, "DELETE", path), 403)
    check_error(http.call(p.owner, "POST", f"{path}/meta/target", raw="compute"), 403)
    listed = http.ok(p.anonymous, "GET", f"/v1/results?product_id={product_id}&verification_status=1")["results"]
    assert [r["id"] for r in listed] == [run_id]
    # a product or vendor with runs attached cannot be deleted
    check_error(http.call(p.owner, "DELETE", f"/v1/products/{product_id}"), 400)
    check_error(http.call(p.owner, "DELETE", f"/v1/products/{product_id}/versions/{version_id}"), 400)
