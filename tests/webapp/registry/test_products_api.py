"""``/v1/products`` and their versions over HTTP, as anonymous, another user, a vendor admin
and the Foundation, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

from tests.webapp.registry.conftest import Http, check_error

ITEM_KEYS = {
    "id",
    "name",
    "description",
    "product_ref_id",
    "type",
    "product_type",
    "public",
    "organization_id",
    "can_manage",
}
FULL_KEYS = ITEM_KEYS | {"created_by_user", "created_at", "updated_at", "properties"}
VERSION_KEYS = {"id", "product_id", "version", "cpid"}


def _official(http: Http) -> str:
    p = http.parties
    vendor_id = str(http.ok(p.owner, "POST", "/v1/vendors", {"name": "Acme"}, status=201)["id"])
    http.ok(p.owner, "POST", f"/v1/vendors/{vendor_id}/action", {"register": None})
    http.ok(p.foundation, "POST", f"/v1/vendors/{vendor_id}/action", {"approve": None})
    return vendor_id


def _product(http: Http, vendor_id: str | None, **extra: object) -> str:
    doc = {"name": "Cloud", "product_type": 1, **extra}
    if vendor_id:
        doc["organization_id"] = vendor_id
    return str(http.ok(http.parties.owner, "POST", "/v1/products", doc, status=201)["id"])


def test_create_checks_the_caller_and_the_document(http: Http) -> None:
    p = http.parties
    vendor_id = _official(http)
    good = {"name": "Cloud", "product_type": 1, "organization_id": vendor_id}
    check_error(http.call(p.anonymous, "POST", "/v1/products", good), 401)
    schema = "Request doesnt correspond to schema"
    for bad in ({"name": "P"}, {"name": "P", "product_type": "1"}, {**good, "public": True}, {**good, "version": 2}):
        check_error(http.call(p.owner, "POST", "/v1/products", bad), 400, schema)
    check_error(http.call(p.owner, "POST", "/v1/products", {**good, "product_type": 7}), 400, schema)
    check_error(http.call(p.owner, "POST", "/v1/products", {**good, "name": " "}), 400, "name should not be empty")
    check_error(http.call(p.owner, "POST", "/v1/products", {**good, "organization_id": str(uuid.uuid4())}), 404)
    check_error(http.call(p.other, "POST", "/v1/products", good), 403)  # not an admin of that vendor
    assert set(http.ok(p.owner, "POST", "/v1/products", good, status=201)) == {"id"}
    assert http.call(p.foundation, "POST", "/v1/products", good).status_code == 201


def test_a_product_without_a_vendor_goes_to_the_creators_own_private_vendor(http: Http) -> None:
    p = http.parties
    first = _product(http, None, product_type=0)
    second = _product(http, None, product_type=2)
    shown = [http.ok(p.owner, "GET", f"/v1/products/{pid}") for pid in (first, second)]
    assert shown[0]["organization_id"] == shown[1]["organization_id"]
    vendor = http.ok(p.owner, "GET", f"/v1/vendors/{shown[0]['organization_id']}")
    assert vendor["name"] == "vendor_owner-user" and vendor["type"] == 1
    assert shown[0]["type"] == 1 and uuid.UUID(shown[0]["product_ref_id"])  # a distro is software
    assert shown[1]["type"] == 0 and shown[1]["product_ref_id"] is None
    assert shown[0]["public"] is False


def test_private_products_are_seen_by_admins_and_the_foundation_only(http: Http) -> None:
    p = http.parties
    product_id = _product(http, _official(http), description="a public cloud")
    for party in (p.anonymous, p.other):
        check_error(http.call(party, "GET", f"/v1/products/{product_id}"), 403)
        assert http.ok(party, "GET", "/v1/products") == {"products": []}
        check_error(http.call(party, "GET", f"/v1/products/{product_id}/versions"), 403)
    for party in (p.owner, p.foundation):
        shown = http.ok(party, "GET", f"/v1/products/{product_id}")
        assert set(shown) == FULL_KEYS and shown["can_manage"] is True and shown["created_by_user"] == "owner-user"
        listed = http.ok(party, "GET", "/v1/products")["products"]
        assert [x["id"] for x in listed] == [product_id] and set(listed[0]) == ITEM_KEYS
    for party in p.all():
        check_error(http.call(party, "GET", "/v1/products/no-such-product"), 404)


def test_publishing_needs_an_official_vendor_and_then_anyone_sees_it(http: Http) -> None:
    p = http.parties
    private_product = _product(http, None)
    check_error(http.call(p.owner, "PUT", f"/v1/products/{private_product}", {"public": True}), 403)
    product_id = _product(http, _official(http))
    check_error(http.call(p.anonymous, "PUT", f"/v1/products/{product_id}", {"public": True}), 401)
    check_error(http.call(p.other, "PUT", f"/v1/products/{product_id}", {"public": True}), 403)
    changed = http.ok(
        p.owner,
        "PUT",
        f"/v1/products/{product_id}",
        {"public": True, "properties": {"k": "v"}, "product_ref_id": "ref-1", "name": "Cloud One"},
    )
    assert changed == {
        "id": product_id,
        "name": "Cloud One",
        "organization_id": changed["organization_id"],
        "public": True,
        "can_manage": True,
    }
    assert http.ok(p.owner, "PUT", f"/v1/products/{product_id}", {"public": "false"})["public"] is False
    assert http.ok(p.owner, "PUT", f"/v1/products/{product_id}", {"public": "true"})["public"] is True
    for party in (p.anonymous, p.other):
        shown = http.ok(party, "GET", f"/v1/products/{product_id}")
        assert set(shown) == ITEM_KEYS and shown["can_manage"] is False and shown["product_ref_id"] == "ref-1"
        assert [x["id"] for x in http.ok(party, "GET", "/v1/products")["products"]] == [product_id]
    full = http.ok(p.owner, "GET", f"/v1/products/{product_id}")
    assert json.loads(full["properties"]) == {"k": "v"} and full["updated_at"]
    filtered = http.ok(p.owner, "GET", f"/v1/products?organization_id={full['organization_id']}")["products"]
    assert [x["id"] for x in filtered] == [product_id]


def test_the_list_is_sorted_by_name_and_marks_what_the_caller_manages(http: Http) -> None:
    p = http.parties
    vendor_id = _official(http)
    for name in ("b-cloud", "a-cloud", "c-cloud"):
        pid = _product(http, vendor_id, name=name)
        http.ok(p.owner, "PUT", f"/v1/products/{pid}", {"public": True})
    mine = _product(http, None, name="0-private")
    owner_list = http.ok(p.owner, "GET", "/v1/products")["products"]
    assert [x["name"] for x in owner_list] == ["0-private", "a-cloud", "b-cloud", "c-cloud"]
    assert all(x["can_manage"] for x in owner_list)
    other_list = http.ok(p.other, "GET", "/v1/products")["products"]
    assert [x["name"] for x in other_list] == ["a-cloud", "b-cloud", "c-cloud"]
    assert not any(x["can_manage"] for x in other_list)
    assert mine in {x["id"] for x in http.ok(p.foundation, "GET", "/v1/products")["products"]}


def test_versions_lifecycle(http: Http) -> None:
    p = http.parties
    product_id = _product(http, _official(http), version="v1")
    http.ok(p.owner, "PUT", f"/v1/products/{product_id}", {"public": True})
    versions = f"/v1/products/{product_id}/versions"
    default = http.ok(p.anonymous, "GET", versions)
    assert len(default) == 1 and set(default[0]) == VERSION_KEYS and default[0]["version"] == "v1"
    check_error(http.call(p.anonymous, "POST", versions, {"version": "2.0"}), 401)
    check_error(http.call(p.other, "POST", versions, {"version": "2.0"}), 403)
    check_error(http.call(p.owner, "POST", versions, {}), 400, "Request doesnt correspond to schema")
    check_error(http.call(p.owner, "POST", versions, {"version": ""}), 400, "version should not be empty")
    made = http.ok(p.owner, "POST", versions, {"version": "2.0", "cpid": "cpid-acme-2"}, status=201)
    assert made == {"id": made["id"], "product_id": product_id, "version": "2.0", "cpid": "cpid-acme-2"}
    check_error(http.call(p.owner, "POST", versions, {"version": "2.0"}), 409)
    check_error(http.call(p.owner, "POST", "/v1/products/no-such-product/versions", {"version": "2.0"}), 404)
    for party in p.all():
        assert http.ok(party, "GET", f"{versions}/{made['id']}") == made
    check_error(http.call(p.anonymous, "GET", f"{versions}/no-such-version"), 404)
    check_error(http.call(p.other, "PUT", f"{versions}/{made['id']}", {"cpid": "x"}), 403)
    changed = http.ok(p.owner, "PUT", f"{versions}/{made['id']}", {"cpid": "cpid-new", "version": "ignored"})
    assert changed["version"] == "2.0" and changed["cpid"] == "cpid-new"
    assert changed["product_info"] == {
        "id": product_id,
        "name": "Cloud",
        "organization_id": changed["product_info"]["organization_id"],
        "public": True,
    }
    check_error(http.call(p.other, "DELETE", f"{versions}/{made['id']}"), 403)
    assert http.call(p.owner, "DELETE", f"{versions}/{made['id']}").status_code == 204
    check_error(http.call(p.owner, "DELETE", f"{versions}/{made['id']}"), 404)


def test_the_default_version_cannot_be_deleted_and_versions_stay_in_their_product(http: Http) -> None:
    p = http.parties
    first = _product(http, None)
    second = _product(http, None)
    default = http.ok(p.owner, "GET", f"/v1/products/{first}/versions")[0]
    assert default["version"] is None
    check_error(http.call(p.owner, "DELETE", f"/v1/products/{first}/versions/{default['id']}"), 400)
    check_error(http.call(p.owner, "DELETE", f"/v1/products/{second}/versions/{default['id']}"), 404)
    check_error(http.call(p.owner, "GET", f"/v1/products/{second}/versions/{default['id']}"), 404)


def test_delete_by_admins_and_the_foundation(http: Http) -> None:
    p = http.parties
    product_id = _product(http, None)
    check_error(http.call(p.anonymous, "DELETE", f"/v1/products/{product_id}"), 401)
    check_error(http.call(p.other, "DELETE", f"/v1/products/{product_id}"), 403)
    assert http.call(p.foundation, "DELETE", f"/v1/products/{product_id}").status_code == 204
    check_error(http.call(p.owner, "DELETE", f"/v1/products/{product_id}"), 404)


def test_text_that_cannot_be_stored_is_a_400_never_a_500(http: Http) -> None:
    p = http.parties
    vendor_id = _official(http)
    product_id = _product(http, vendor_id)
    versions = f"/v1/products/{product_id}/versions"
    bad = [
        ("POST", "/v1/vendors", {"name": "a\u0000b"}),
        ("POST", "/v1/vendors", {"name": "n" * 81}),
        ("POST", "/v1/vendors", {"name": "x", "description": "\ud800"}),
        ("PUT", f"/v1/vendors/{vendor_id}", {"description": "x\u0000"}),
        ("POST", "/v1/products", {"name": "p\u0000", "product_type": 1, "organization_id": vendor_id}),
        ("POST", "/v1/products", {"name": "p", "product_type": 1, "organization_id": "x\u0000"}),
        ("PUT", f"/v1/products/{product_id}", {"product_ref_id": "r" * 256}),
        ("POST", versions, {"version": "v" * 37}),
        ("POST", versions, {"version": "2", "cpid": "c\u0000"}),
        ("PUT", f"/v1/vendors/{vendor_id}/users/YQA=", None),  # base64 of "a\0"
    ]
    for method, path, body in bad:
        raw = None if body is None else json.dumps(body)  # keeps \u escapes, as a hostile client would
        response = http.call(p.owner, method, path, raw=raw, headers={"Content-Type": "application/json"})
        check_error(response, 400)
    run_id = http.upload(p.owner, "cpid-x")
    check_error(http.call(p.owner, "PUT", f"/v1/results/{run_id}", raw='{"product_version_id": "\\u0000"}'), 400)
    assert http.ok(p.owner, "GET", f"/v1/products/{product_id}")["name"] == "Cloud"  # nothing changed
