"""RefStack's ``/v1/products`` and ``/v1/products/<id>/versions`` (also at ``/api/v1``).

Paths, fields and status codes are RefStack 2.1.0's. Deliberate differences, each where
RefStack let a request through that it should not have, or answered 500:

* creating a product in a vendor needs its admins or the Foundation (RefStack let anyone);
* ``product_type`` must be 0, 1 or 2; an unknown ``organization_id`` is a 404;
* a duplicate version is a 409; a version is looked up within its product (404 otherwise);
* ``product_ref_id`` is stored and returned (RefStack's table had lost the column).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from webapp.api.registry import (
    DATE_FORMAT,
    SCHEMA_MISMATCH,
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
from webapp.store import products, vendors
from webapp.store.products import ProductRecord, VersionRecord

bp = Blueprint("api_products", __name__)
PRODUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "product_type": {"type": "integer"},
        "organization_id": {"type": "string"},
        "version": {"type": "string"},
    },
    "required": ["name", "product_type"],
    "additionalProperties": False,
}
VERSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"version": {"type": "string"}, "cpid": {"type": "string"}},
    "required": ["version"],
    "additionalProperties": False,
}
FORBIDDEN = "Forbidden."
PUBLIC_LIST = "tcup_public_products"  # app.extensions: the public products' list items as JSON
_TRUE = ("true", "yes", "1", "y", "on")


def _item(product: ProductRecord, can_manage: bool) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "product_ref_id": product.product_ref_id,
        "type": product.type,
        "product_type": product.product_type,
        "public": product.public,
        "organization_id": product.organization_id,
        "can_manage": can_manage,
    }


def _full(product: ProductRecord) -> dict[str, Any]:
    item = _item(product, True)
    item.update(
        created_by_user=product.created_by,
        created_at=product.created_at.strftime(DATE_FORMAT),
        updated_at=product.updated_at.strftime(DATE_FORMAT) if product.updated_at else None,
        properties=product.properties,
    )
    return item


def _version(version: VersionRecord) -> dict[str, Any]:
    return {"id": version.id, "product_id": version.product_id, "version": version.version, "cpid": version.cpid}


def _visible(product_id: str) -> ProductRecord:
    """The product, when public or administered by the caller; else 403."""
    product = products.get_product(session(), product_id)
    if not product.public and not is_vendor_admin(product.organization_id):
        raise ApiError(403, FORBIDDEN)
    return product


def _managed(product_id: str) -> ProductRecord:
    """The product, when the caller administers it (or is the Foundation); 401, 404, 403."""
    require_signed_in()
    product = products.get_product(session(), product_id)
    if not is_vendor_admin(product.organization_id):
        raise ApiError(403, FORBIDDEN)
    return product


def _truth(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


# -- products ------------------------------------------------------------------------------


@bp.get("/products/schema", strict_slashes=False)
def product_schema() -> Response:
    """``GET /v1/products/schema``: the JSON Schema of a new product."""
    return jsonify(PRODUCT_SCHEMA)


def _encode(product: ProductRecord, can_manage: bool) -> bytes:
    return json.dumps(_item(product, can_manage), separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class _PublicList:
    """The public products' list items as JSON, made once per change of the store's cached list."""

    public: tuple[ProductRecord, ...]
    items: list[bytes]  # can_manage false
    order: list[tuple[str, float, str]]  # each item's place in the list
    by_vendor: dict[str, list[int]]  # vendor id -> indexes of its public products
    body: bytes  # the whole answer for callers who administer none of them


def _public_list() -> _PublicList:
    public = products.public_products(session())
    held: _PublicList | None = current_app.extensions.get(PUBLIC_LIST)
    if held is None or held.public is not public:
        items = [_encode(p, False) for p in public]
        by_vendor: dict[str, list[int]] = {}
        for index, product in enumerate(public):
            by_vendor.setdefault(product.organization_id, []).append(index)
        body = b'{"products":[' + b",".join(items) + b"]}"
        held = _PublicList(public, items, [products.name_order(p) for p in public], by_vendor, body)
        current_app.extensions[PUBLIC_LIST] = held
    return held


@bp.get("/products", strict_slashes=False)
def list_products() -> Response:
    """``GET /v1/products[?organization_id=]``: public products and the caller's own, by name."""
    caller = current_caller()
    organization_id = request.args.get("organization_id")
    if caller.foundation or organization_id is not None:
        vendor_ids = caller.account.vendor_ids if caller.account else frozenset()
        found = products.list_products(
            session(), everything=caller.foundation, vendor_ids=vendor_ids, organization_id=organization_id
        )
        return jsonify({"products": [_item(p, caller.foundation or p.organization_id in vendor_ids) for p in found]})
    # NOTE: the list is every public product (thousands): its JSON is made once per change, and a
    # vendor admin's answer only re-encodes their own products into it.
    listed = _public_list()
    vendor_ids = caller.account.vendor_ids if caller.account else frozenset()
    mine = [i for vendor_id in vendor_ids for i in listed.by_vendor.get(vendor_id, ())]
    own = products.private_products(session(), vendor_ids)
    if not mine and not own:
        return Response(listed.body, mimetype="application/json")
    items = list(listed.items)
    for index in mine:
        items[index] = _encode(listed.public[index], True)
    pieces, start = [], 0
    for product in own:  # already in list order
        place = bisect.bisect_right(listed.order, products.name_order(product))
        pieces += items[start:place]
        pieces.append(_encode(product, True))
        start = place
    pieces += items[start:]
    return Response(b'{"products":[' + b",".join(pieces) + b"]}", mimetype="application/json")


@bp.post("/products", strict_slashes=False)
def create_product() -> tuple[Response, int]:
    """``POST /v1/products``: a private product; without ``organization_id`` it goes to the creator's
    own private vendor (``vendor_<openid>``, made on first use); 201 ``{"id"}``."""
    account = require_signed_in()
    doc = check_document(json_object(), PRODUCT_SCHEMA, required_text=("name",))
    kind = doc["product_type"]
    if kind not in products.PRODUCT_TYPES:
        raise ApiError(
            400,
            SCHEMA_MISMATCH,
            [f"'product_type' must be 0 (distro), 1 (public cloud) or 2 (hosted private cloud), not {kind}"],
        )
    vendor_id = doc.get("organization_id")
    if vendor_id:
        vendor = vendors.get_vendor(session(), vendor_id)
        if not is_vendor_admin(vendor.id):
            raise ApiError(403, FORBIDDEN)
    else:
        name = products.default_vendor_name(account.openid)
        own = [v for v in vendors.vendors_of_user(session(), account.id) if v.name == name]
        vendor_id = own[0].id if own else vendors.create_vendor(session(), name=name, creator_id=account.id).id
    product = products.create_product(
        session(),
        name=doc["name"],
        description=doc.get("description"),
        product_type=doc["product_type"],
        organization_id=vendor_id,
        creator_id=account.id,
        version=doc.get("version"),
    )
    return jsonify({"id": product.id}), 201


@bp.get("/products/<product_id>", strict_slashes=False)
def show_product(product_id: str) -> Response:
    """``GET /v1/products/<id>``: every field for admins and the Foundation; public products to anyone."""
    product = _visible(product_id)
    if is_vendor_admin(product.organization_id):
        return jsonify(_full(product))
    return jsonify(_item(product, False))


@bp.put("/products/<product_id>", strict_slashes=False)
def update_product(product_id: str) -> tuple[Response, int]:
    """``PUT /v1/products/<id>``: ``name``, ``description``, ``product_ref_id``, ``public`` (only for
    products of official vendors and the Foundation's), ``properties``."""
    product = _managed(product_id)
    doc = json_object()
    check_keys(doc, ("name", "description", "product_ref_id", "public", "properties"))
    check_text(doc)
    changes: dict[str, Any] = {}
    problems = []
    for key in ("name", "description", "product_ref_id"):
        if key in doc:
            value = doc[key]
            if value is not None and not isinstance(value, str):
                problems.append(f"'{key}' must be a string")
            changes[key] = value
    if problems:
        raise ApiError(400, SCHEMA_MISMATCH, problems)
    if "name" in changes and not (changes["name"] or "").strip():
        raise ApiError(400, "name should not be empty")
    if "public" in doc:
        public = _truth(doc["public"])
        vendor = vendors.get_vendor(session(), product.organization_id)
        if public and vendor.type not in vendors.PUBLIC_TYPES:
            raise ApiError(403, FORBIDDEN)
        changes["public"] = public
    if "properties" in doc:
        changes["properties"] = json.dumps(doc["properties"])
    changed = products.update_product(session(), product.id, changes)
    answer: dict[str, Any] = {"id": changed.id, "name": changed.name, "organization_id": changed.organization_id}
    answer.update(public=changed.public, can_manage=True)
    return jsonify(answer), 200


@bp.delete("/products/<product_id>", strict_slashes=False)
def delete_product(product_id: str) -> tuple[str, int]:
    """``DELETE /v1/products/<id>``: with its versions, unless runs are attached; 204."""
    product = _managed(product_id)
    products.delete_product(session(), product.id)
    return "", 204


# -- versions ------------------------------------------------------------------------------


@bp.get("/products/<product_id>/versions", strict_slashes=False)
def list_versions(product_id: str) -> Response:
    """``GET /v1/products/<id>/versions``: ``[{id, product_id, version, cpid}]``."""
    product = _visible(product_id)
    return jsonify([_version(v) for v in products.list_versions(session(), product.id)])


@bp.get("/products/<product_id>/versions/schema", strict_slashes=False)
def version_schema(product_id: str) -> Response:
    """``GET /v1/products/<id>/versions/schema``: the JSON Schema of a new version."""
    return jsonify(VERSION_SCHEMA)


@bp.get("/products/<product_id>/versions/<version_id>", strict_slashes=False)
def show_version(product_id: str, version_id: str) -> Response:
    """``GET /v1/products/<id>/versions/<version id>``."""
    product = _visible(product_id)
    return jsonify(_version(products.get_version(session(), version_id, product_id=product.id)))


@bp.post("/products/<product_id>/versions", strict_slashes=False)
def create_version(product_id: str) -> tuple[Response, int]:
    """``POST /v1/products/<id>/versions``: ``{"version", "cpid"}``; 201 with the version."""
    account = require_signed_in()
    doc = check_document(json_object(), VERSION_SCHEMA, required_text=("version",))
    product = _managed(product_id)
    made = products.create_version(
        session(), product.id, version=doc["version"], cpid=doc.get("cpid"), creator_id=account.id
    )
    return jsonify(_version(made)), 201


@bp.put("/products/<product_id>/versions/<version_id>", strict_slashes=False)
def update_version(product_id: str, version_id: str) -> tuple[Response, int]:
    """``PUT /v1/products/<id>/versions/<version id>``: only ``cpid`` changes."""
    product = _managed(product_id)
    doc = json_object()
    check_keys(doc, ("cpid", "version"))  # the version itself never changes: ignored, as RefStack did
    check_text(doc)
    current = products.get_version(session(), version_id, product_id=product.id)
    cpid = doc.get("cpid", current.cpid)
    if cpid is not None and not isinstance(cpid, str):
        raise ApiError(400, SCHEMA_MISMATCH, ["'cpid' must be a string"])
    changed = products.update_version(session(), version_id, product_id=product.id, cpid=cpid)
    answer: dict[str, Any] = {"id": changed.id, "version": changed.version, "cpid": changed.cpid}
    answer["product_info"] = changed.product_info()
    return jsonify(answer), 200


@bp.delete("/products/<product_id>/versions/<version_id>", strict_slashes=False)
def delete_version(product_id: str, version_id: str) -> tuple[str, int]:
    """``DELETE /v1/products/<id>/versions/<version id>``: never the default version; 204."""
    product = _managed(product_id)
    products.delete_version(session(), version_id, product_id=product.id)
    return "", 204


__all__ = ["PRODUCT_SCHEMA", "VERSION_SCHEMA", "bp"]
