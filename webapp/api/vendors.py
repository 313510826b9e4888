"""RefStack's ``/v1/vendors`` (also at ``/api/v1``): vendors, their registration with the
Foundation, and their admins.

Paths, fields and status codes are RefStack 2.1.0's. Where RefStack answered 500 (an
unknown user or a bad base64 openid for ``/users``), this server answers 404 or 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from flask import Blueprint, Response, jsonify

from webapp.api.registry import (
    DATE_FORMAT,
    check_document,
    check_keys,
    check_text,
    is_vendor_admin,
    json_object,
    require_signed_in,
)
from webapp.auth import current_caller
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import vendors
from webapp.store.vendors import Vendor

bp = Blueprint("api_vendors", __name__)
VENDOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
    "required": ["name"],
    "additionalProperties": False,
}
FORBIDDEN = "Forbidden."


def _short(vendor: Vendor, can_manage: bool) -> dict[str, Any]:
    return {
        "id": vendor.id,
        "type": vendor.type,
        "name": vendor.name,
        "description": vendor.description,
        "can_manage": can_manage,
    }


def _full(vendor: Vendor) -> dict[str, Any]:
    return {
        "id": vendor.id,
        "type": vendor.type,
        "name": vendor.name,
        "description": vendor.description,
        "group_id": str(vendor.group_id),
        "created_by_user": vendor.created_by,
        "properties": vendor.properties,
        "created_at": vendor.created_at.strftime(DATE_FORMAT),
        "updated_at": vendor.updated_at.strftime(DATE_FORMAT) if vendor.updated_at else None,
        "can_manage": True,
    }


def _admin_or_403(vendor_id: str) -> Vendor:
    """The vendor, when the caller is its admin or the Foundation; 401 anonymous, 404, 403."""
    require_signed_in()
    vendor = vendors.get_vendor(session(), vendor_id)
    if not is_vendor_admin(vendor.id):
        raise ApiError(403, FORBIDDEN)
    return vendor


@bp.get("/vendors/schema", strict_slashes=False)
def vendor_schema() -> Response:
    """``GET /v1/vendors/schema``: the JSON Schema of a new vendor."""
    return jsonify(VENDOR_SCHEMA)


@bp.get("/vendors", strict_slashes=False)
def list_vendors() -> Response:
    """``GET /v1/vendors``: the Foundation sees all; others the Foundation, the official vendors and their own."""
    caller = current_caller()
    if caller.foundation:
        listed = [_short(v, True) for v in vendors.list_vendors(session())]
    else:
        found = {v.id: _short(v, False) for v in vendors.list_vendors(session(), types=vendors.PUBLIC_TYPES)}
        if caller.user_id is not None:
            for vendor in vendors.vendors_of_user(session(), caller.user_id):
                found.setdefault(vendor.id, _short(vendor, True))["can_manage"] = True
        listed = list(found.values())
    return jsonify({"vendors": listed})


@bp.post("/vendors", strict_slashes=False)
def create_vendor() -> tuple[Response, int]:
    """``POST /v1/vendors``: a private vendor administered by its creator; 201 ``{"id"}``."""
    account = require_signed_in()
    doc = check_document(json_object(), VENDOR_SCHEMA, required_text=("name",))
    vendor = vendors.create_vendor(
        session(), name=doc["name"], description=doc.get("description"), creator_id=account.id
    )
    return jsonify({"id": vendor.id}), 201


@bp.get("/vendors/<vendor_id>", strict_slashes=False)
def show_vendor(vendor_id: str) -> Response:
    """``GET /v1/vendors/<id>``: every field for its admins and the Foundation; the Foundation and
    official vendors show their public fields to anyone; other vendors are 403."""
    vendor = vendors.get_vendor(session(), vendor_id)
    if is_vendor_admin(vendor.id):
        return jsonify(_full(vendor))
    if vendor.type not in vendors.PUBLIC_TYPES:
        raise ApiError(403, FORBIDDEN)
    return jsonify(_short(vendor, False))


@bp.put("/vendors/<vendor_id>", strict_slashes=False)
def update_vendor(vendor_id: str) -> tuple[Response, int]:
    """``PUT /v1/vendors/<id>``: ``name``, ``description``, ``properties``; an official vendor's name
    changes only by the Foundation."""
    vendor = _admin_or_403(vendor_id)
    doc = json_object()
    check_keys(doc, ("name", "description", "properties"))
    check_text(doc)
    name, description = doc.get("name"), doc.get("description")
    if name is not None:
        if vendor.type == vendors.OFFICIAL and not current_caller().foundation:
            raise ApiError(403, "Name change for an official vendor is not allowed.")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "name should not be empty")
    if description is not None and not isinstance(description, str):
        raise ApiError(400, "Request doesnt correspond to schema", ["'description' must be a string"])
    properties = json.dumps(doc["properties"]) if "properties" in doc else None
    changed = vendors.update_vendor(session(), vendor.id, name=name, description=description, properties=properties)
    return jsonify(_full(changed)), 200


@bp.delete("/vendors/<vendor_id>", strict_slashes=False)
def delete_vendor(vendor_id: str) -> tuple[str, int]:
    """``DELETE /v1/vendors/<id>``: with its products and versions; never the Foundation's."""
    vendor = _admin_or_403(vendor_id)
    if vendor.type == vendors.FOUNDATION:
        raise ApiError(403, FORBIDDEN)
    vendors.delete_vendor(session(), vendor.id)
    return "", 204


@bp.post("/vendors/<vendor_id>/action", strict_slashes=False)
def vendor_action(vendor_id: str) -> tuple[Response, int]:
    """``POST /v1/vendors/<id>/action``: exactly one of ``register``, ``approve``, ``deny``
    (with ``registration_decline_reason``) or ``cancel``."""
    require_signed_in()
    doc = json_object()
    asked = [name for name in vendors.ACTIONS if name in doc]
    if len(asked) != 1:
        raise ApiError(400, f"Invalid actions in the body: {asked!r}")
    vendor = vendors.get_vendor(session(), vendor_id)
    action = asked[0]
    caller = current_caller()
    admin = caller.account is not None and vendor.id in caller.account.vendor_ids
    if not vendors.may_act(vendor, action, admin=admin, foundation=caller.foundation):
        raise ApiError(403, FORBIDDEN)
    reason = doc.get("registration_decline_reason") if action == "deny" else ""
    if not isinstance(reason, str) or (action == "deny" and not reason.strip()):
        raise ApiError(400, "The decline reason can not be empty")
    check_text({"registration_decline_reason": reason})
    vendors.act(session(), vendor, action, reason)
    return jsonify(None), 200


# -- admins --------------------------------------------------------------------------------


def _openid(encoded: str) -> str:
    try:
        openid = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, f"The user's openid must be base64-encoded text: {encoded[:60]!r} is not") from None
    check_text({"openid": openid})
    return openid


@bp.get("/vendors/<vendor_id>/users", strict_slashes=False)
def list_vendor_users(vendor_id: str) -> Response:
    """``GET /v1/vendors/<id>/users``: the admins, for admins and the Foundation (null for others, as RefStack)."""
    require_signed_in()
    vendor = vendors.get_vendor(session(), vendor_id)
    if not is_vendor_admin(vendor.id):
        return jsonify(None)
    members = vendors.list_members(session(), vendor)
    return jsonify([{"openid": m.openid, "email": m.email, "fullname": m.fullname} for m in members])


@bp.put("/vendors/<vendor_id>/users/<encoded>", strict_slashes=False)
def add_vendor_user(vendor_id: str, encoded: str) -> tuple[str, int]:
    """``PUT /v1/vendors/<id>/users/<base64 openid>``: make a user an admin; 204."""
    vendor = _admin_or_403(vendor_id)
    openid = _openid(encoded)
    vendors.add_member(session(), vendor, openid)
    return "", 204


@bp.delete("/vendors/<vendor_id>/users/<encoded>", strict_slashes=False)
def remove_vendor_user(vendor_id: str, encoded: str) -> tuple[str, int]:
    """``DELETE /v1/vendors/<id>/users/<base64 openid>``: remove an admin; 204."""
    vendor = _admin_or_403(vendor_id)
    openid = _openid(encoded)
    vendors.remove_member(session(), vendor, openid)
    return "", 204


__all__ = ["bp"]
