"""``/v1/vendors`` over HTTP, as anonymous, another user, a vendor admin and the Foundation,
on SQLite and PostgreSQL; statuses, fields and messages as RefStack 2.1.0 answered them."""

from __future__ import annotations

import base64
import json

from tests.webapp.registry.conftest import Http, check_error

SHORT_KEYS = {"id", "type", "name", "description", "can_manage"}
FULL_KEYS = SHORT_KEYS | {"group_id", "created_by_user", "properties", "created_at", "updated_at"}


def _b64(openid: str) -> str:
    return base64.b64encode(openid.encode()).decode()


def _vendor(http: Http, name: str = "Acme") -> str:
    return str(
        http.ok(http.parties.owner, "POST", "/v1/vendors", {"name": name, "description": "clouds"}, status=201)["id"]
    )


def _official(http: Http, name: str = "Acme") -> str:
    vendor_id = _vendor(http, name)
    p = http.parties
    http.ok(p.owner, "POST", f"/v1/vendors/{vendor_id}/action", {"register": None})
    http.ok(p.foundation, "POST", f"/v1/vendors/{vendor_id}/action", {"approve": None})
    return vendor_id


def test_create_needs_a_signed_in_user_and_a_valid_document(http: Http) -> None:
    p = http.parties
    check_error(http.call(p.anonymous, "POST", "/v1/vendors", {"name": "Acme"}), 401)
    for bad in ({}, {"name": "x", "foo": 1}, {"name": 5}, {"name": "x", "properties": {}}):
        check_error(http.call(p.owner, "POST", "/v1/vendors", bad), 400, "Request doesnt correspond to schema")
    check_error(http.call(p.owner, "POST", "/v1/vendors", {"name": "  "}), 400, "name should not be empty")
    check_error(http.call(p.owner, "POST", "/v1/vendors", raw="{nope"), 400, "Malformed request")
    check_error(http.call(p.owner, "POST", "/v1/vendors", ["Acme"]), 400)
    made = http.ok(p.owner, "POST", "/v1/vendors/", {"name": "Acme", "description": "clouds"}, status=201)
    assert set(made) == {"id"}


def test_a_private_vendor_is_seen_by_its_admins_and_the_foundation_only(http: Http) -> None:
    p = http.parties
    vendor_id = _vendor(http)
    for party in (p.anonymous, p.other):
        check_error(http.call(party, "GET", f"/v1/vendors/{vendor_id}"), 403)
    for party in (p.owner, p.foundation):
        shown = http.ok(party, "GET", f"/v1/vendors/{vendor_id}")
        assert set(shown) == FULL_KEYS
        assert shown["type"] == 1 and shown["name"] == "Acme" and shown["can_manage"] is True
        assert shown["created_by_user"] == "owner-user" and shown["properties"] is None
        assert shown["updated_at"] is None and len(shown["created_at"]) == 19
    for party in p.all():
        check_error(http.call(party, "GET", "/v1/vendors/no-such-vendor"), 404)


def test_the_list_shows_the_foundation_official_vendors_and_the_callers_own(http: Http) -> None:
    p = http.parties
    private = _vendor(http, "Private Co")
    official = _official(http, "Official Co")

    def listed(party: object) -> dict[str, dict[str, object]]:
        answer = http.ok(party, "GET", "/v1/vendors")  # type: ignore[arg-type]
        assert all(set(v) == SHORT_KEYS for v in answer["vendors"])
        return {v["id"]: v for v in answer["vendors"]}

    anonymous = listed(p.anonymous)
    assert official in anonymous and private not in anonymous and anonymous[official]["can_manage"] is False
    assert any(v["type"] == 0 for v in anonymous.values())  # the Foundation's own vendor
    assert set(listed(p.other)) == set(anonymous)
    own = listed(p.owner)
    assert own[private]["can_manage"] is True and own[official]["can_manage"] is True
    everything = listed(p.foundation)
    assert {private, official} <= set(everything) and all(v["can_manage"] for v in everything.values())


def test_update_by_admins_only_and_an_official_name_only_by_the_foundation(http: Http) -> None:
    p = http.parties
    vendor_id = _vendor(http)
    check_error(http.call(p.anonymous, "PUT", f"/v1/vendors/{vendor_id}", {"name": "Hijack"}), 401)
    check_error(http.call(p.other, "PUT", f"/v1/vendors/{vendor_id}", {"name": "Hijack"}), 403)
    check_error(http.call(p.owner, "PUT", "/v1/vendors/no-such-vendor", {"name": "x"}), 404)
    changed = http.ok(
        p.owner, "PUT", f"/v1/vendors/{vendor_id}", {"description": "new", "properties": {"url": "https://acme"}}
    )
    assert set(changed) == FULL_KEYS and changed["description"] == "new" and changed["can_manage"] is True
    assert json.loads(changed["properties"]) == {"url": "https://acme"} and changed["updated_at"]
    http.ok(p.owner, "POST", f"/v1/vendors/{vendor_id}/action", {"register": None})
    http.ok(p.foundation, "POST", f"/v1/vendors/{vendor_id}/action", {"approve": None})
    renamed = http.call(p.owner, "PUT", f"/v1/vendors/{vendor_id}", {"name": "Acme2"})
    check_error(renamed, 403, "Name change for an official vendor is not allowed.")
    assert http.ok(p.foundation, "PUT", f"/v1/vendors/{vendor_id}", {"name": "Acme Inc"})["name"] == "Acme Inc"


def test_the_registration_lifecycle(http: Http) -> None:
    p = http.parties
    vendor_id = _vendor(http)
    action = f"/v1/vendors/{vendor_id}/action"
    check_error(http.call(p.anonymous, "POST", action, {"register": None}), 401)
    check_error(http.call(p.owner, "POST", action, {}), 400, "Invalid actions in the body: []")
    check_error(
        http.call(p.owner, "POST", action, {"register": None, "approve": None}),
        400,
        "Invalid actions in the body: ['register', 'approve']",
    )
    check_error(http.call(p.owner, "POST", "/v1/vendors/no-such-vendor/action", {"register": None}), 404)
    for party in (p.other, p.foundation):  # only its own admins register a vendor
        check_error(http.call(party, "POST", action, {"register": None}), 403)
    check_error(http.call(p.owner, "POST", action, {"approve": None}), 403)
    state = "Invalid organization state for this action."
    check_error(http.call(p.foundation, "POST", action, {"approve": None}), 400, state)
    check_error(http.call(p.owner, "POST", action, {"cancel": None}), 400, state)

    assert http.ok(p.owner, "POST", action, {"register": None}) is None
    assert http.ok(p.owner, "GET", f"/v1/vendors/{vendor_id}")["type"] == 2
    check_error(http.call(p.owner, "POST", action, {"register": None}), 400, state)
    check_error(http.call(p.anonymous, "GET", f"/v1/vendors/{vendor_id}"), 403)  # pending is not public

    check_error(http.call(p.foundation, "POST", action, {"deny": None}), 400, "The decline reason can not be empty")
    http.ok(p.foundation, "POST", action, {"deny": None, "registration_decline_reason": "no docs"})
    denied = http.ok(p.owner, "GET", f"/v1/vendors/{vendor_id}")
    assert denied["type"] == 1 and json.loads(denied["properties"]) == {"registration_decline_reason": "no docs"}

    http.ok(p.owner, "POST", action, {"register": None})
    http.ok(p.owner, "POST", action, {"cancel": None})
    assert http.ok(p.owner, "GET", f"/v1/vendors/{vendor_id}")["type"] == 1
    http.ok(p.owner, "POST", action, {"register": None})
    http.ok(p.foundation, "POST", action, {"approve": None})
    official = http.ok(p.foundation, "GET", f"/v1/vendors/{vendor_id}")
    assert official["type"] == 3 and json.loads(official["properties"]) == {}
    public = http.ok(p.anonymous, "GET", f"/v1/vendors/{vendor_id}")
    assert public == {"id": vendor_id, "type": 3, "name": "Acme", "description": "clouds", "can_manage": False}


def test_the_foundations_own_vendor_cannot_be_registered_or_deleted(http: Http) -> None:
    p = http.parties
    foundation_id = next(v["id"] for v in http.ok(p.anonymous, "GET", "/v1/vendors")["vendors"] if v["type"] == 0)
    check_error(http.call(p.foundation, "POST", f"/v1/vendors/{foundation_id}/action", {"register": None}), 403)
    check_error(http.call(p.foundation, "DELETE", f"/v1/vendors/{foundation_id}"), 403)
    assert http.ok(p.anonymous, "GET", f"/v1/vendors/{foundation_id}")["type"] == 0


def test_admins_are_added_and_removed_by_base64_openid(http: Http) -> None:
    p = http.parties
    vendor_id = _vendor(http)
    users = f"/v1/vendors/{vendor_id}/users"
    check_error(http.call(p.anonymous, "GET", users), 401)
    assert http.ok(p.other, "GET", users) is None  # RefStack's answer to a non-admin
    owner_only = [{"openid": "owner-user", "email": "", "fullname": ""}]
    assert http.ok(p.owner, "GET", users) == owner_only
    assert http.ok(p.foundation, "GET", users) == owner_only
    other = f"{users}/{_b64('other-user')}"
    check_error(http.call(p.anonymous, "PUT", other), 401)
    check_error(http.call(p.other, "PUT", other), 403)
    for _twice in range(2):
        assert http.call(p.owner, "PUT", other).status_code == 204
    assert [u["openid"] for u in http.ok(p.owner, "GET", users)] == ["other-user", "owner-user"]
    assert http.ok(p.other, "GET", f"/v1/vendors/{vendor_id}")["can_manage"] is True
    for _twice in range(2):
        assert http.call(p.owner, "DELETE", other).status_code == 204
    check_error(http.call(p.other, "GET", f"/v1/vendors/{vendor_id}"), 403)
    check_error(http.call(p.owner, "PUT", f"{users}/{_b64('nobody')}"), 404)
    check_error(http.call(p.owner, "PUT", f"{users}/!!not-base64"), 400)
    check_error(http.call(p.owner, "PUT", f"/v1/vendors/no-such-vendor/users/{_b64('other-user')}"), 404)


def test_delete_by_admins_only(http: Http) -> None:
    p = http.parties
    vendor_id = _vendor(http)
    check_error(http.call(p.anonymous, "DELETE", f"/v1/vendors/{vendor_id}"), 401)
    check_error(http.call(p.other, "DELETE", f"/v1/vendors/{vendor_id}"), 403)
    http.ok(
        p.owner, "POST", "/v1/products", {"name": "Cloud", "product_type": 1, "organization_id": vendor_id}, status=201
    )
    assert http.call(p.owner, "DELETE", f"/v1/vendors/{vendor_id}").status_code == 204
    check_error(http.call(p.owner, "DELETE", f"/v1/vendors/{vendor_id}"), 404)
    assert http.ok(p.owner, "GET", "/v1/products")["products"] == []


def test_the_api_prefix_and_trailing_slash_work_too(http: Http) -> None:
    p = http.parties
    vendor_id = _vendor(http)
    assert http.ok(p.owner, "GET", f"/api/v1/vendors/{vendor_id}/")["id"] == vendor_id
