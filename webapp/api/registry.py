"""What the vendor and product endpoints share (who administers what, checking their documents),
and what ``/v1/results`` needs of products (a run's ``product_version``, attaching runs).

The documents are RefStack's (flat objects, ``additionalProperties: false``); a document that
does not fit gets one 400 ``Request doesnt correspond to schema`` listing every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import request

from interop_model.wire import unprintable
from webapp.access import privileged
from webapp.api.requests import json_body, unstorable
from webapp.auth import current_caller, require_account
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import accounts, products
from webapp.store.accounts import Account
from webapp.store.products import VersionRecord
from webapp.store.runs import RunRecord

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
SCHEMA_MISMATCH = "Request doesnt correspond to schema"
_TYPE_WORDS = {"string": "a string", "integer": "an integer", "boolean": "true or false"}


def require_signed_in() -> Account:
    """The caller's account; 401 for anonymous callers."""
    return require_account()


def is_vendor_admin(vendor_id: str) -> bool:
    """True when the caller administers the vendor or belongs to the Foundation."""
    caller = current_caller()
    return caller.foundation or (caller.account is not None and vendor_id in caller.account.vendor_ids)


def json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    doc = json_body()
    if not isinstance(doc, dict):
        raise ApiError(400, SCHEMA_MISMATCH, ["the body must be a JSON object"])
    return doc


def _fits(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


# the longest text each field may hold (the columns' sizes; descriptions and reasons are capped too)
TEXT_LIMITS = {
    "name": 80,
    "description": 10_000,
    "version": 36,
    "cpid": 255,
    "product_ref_id": 255,
    "organization_id": 36,
    "registration_decline_reason": 10_000,
    "openid": 255,
}


# texts that may span lines; every other field is one line of printable text
MULTILINE = frozenset({"description", "registration_decline_reason", "reason"})


def check_text(values: Mapping[str, Any]) -> None:
    """400 listing every text value (of :data:`TEXT_LIMITS`' keys) that is too long or unstorable."""
    problems = []
    for key, value in values.items():
        if key not in TEXT_LIMITS or not isinstance(value, str):
            continue
        if why := unstorable(value):
            problems.append(f"'{key}' {why}")
        elif key not in MULTILINE and (found := unprintable(value)):
            problems.append(f"'{key}' holds {found}")
        elif len(value) > TEXT_LIMITS[key]:
            problems.append(f"'{key}' is longer than {TEXT_LIMITS[key]} characters")
    if problems:
        raise ApiError(400, SCHEMA_MISMATCH, problems)


def check_keys(doc: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """400 naming every key of ``doc`` outside ``allowed`` (an update never ignores what it was sent)."""
    known = set(allowed)
    if problems := [f"unknown key {key!r}" for key in doc if key not in known]:
        raise ApiError(400, SCHEMA_MISMATCH, problems)


def check_document(
    doc: Mapping[str, Any], schema: Mapping[str, Any], *, required_text: Iterable[str] = ()
) -> Mapping[str, Any]:
    """``doc`` when it fits the flat ``schema`` and its ``required_text`` keys are not blank; else 400."""
    properties: Mapping[str, Any] = schema["properties"]
    problems = [f"unknown key {key!r}" for key in doc if key not in properties]
    problems += [f"{key!r} is required" for key in schema.get("required", ()) if key not in doc]
    for key, spec in properties.items():
        if key in doc and not _fits(doc[key], spec["type"]):
            problems.append(f"{key!r} must be {_TYPE_WORDS[spec['type']]}")
    if problems:
        raise ApiError(400, SCHEMA_MISMATCH, problems)
    check_text(doc)
    for key in required_text:
        if not str(doc[key]).strip():
            raise ApiError(400, f"{key} should not be empty")
    return doc


# -- runs and products (used by webapp.api.v1) ---------------------------------------------


def version_views(runs: Iterable[RunRecord]) -> dict[str, VersionRecord]:
    """The product versions the runs are attached to (one query), by id."""
    return products.versions_by_id(session(), {r.product_version_id for r in runs if r.product_version_id})


def product_version_view(run: RunRecord, role: str | None, versions: Mapping[str, VersionRecord]) -> Any:
    """A run's ``product_version``: null when unattached, or when the product is private and the
    caller is neither the run's owner nor the Foundation."""
    version = versions.get(run.product_version_id) if run.product_version_id else None
    if version is None or (not version.public and not privileged(role)):
        return None
    return {"id": version.id, "version": version.version, "cpid": version.cpid, "product_info": version.product_info()}


def attach_at_upload(cpid: str, user_id: int | None, requested: str | None) -> dict[str, Any]:
    """``NewRun`` fields attaching an upload to a product version.

    With ``?product_version_id=`` (``tcup upload --product-version``) the upload must be signed
    by an admin of that product's vendor (or the Foundation): 401 unsigned, 404 unknown, 403 not
    an admin, checked before anything is stored. Without it, a signed upload is attached to the
    one version carrying its cpid when the uploader administers that product, as RefStack did.
    """
    uploader = accounts.account_by_id(session(), user_id) if user_id is not None else None
    if requested is not None:
        if uploader is None:
            raise ApiError(
                401, "Only a signed upload can be attached to a product version: sign it with a registered key"
            )
        version = products.get_version(session(), requested)
        if not (uploader.foundation or version.organization_id in uploader.vendor_ids):
            raise ApiError(
                403,
                f"{uploader.openid} does not administer product {version.product_name!r} (version {requested}): "
                "ask one of its vendor's admins to add you, or upload without a product version",
            )
        return {"product_version_id": version.id, "vendor_id": version.organization_id}
    if uploader is None:
        return {}
    found = products.version_for_upload(session(), cpid, user_id=uploader.id, foundation=uploader.foundation)
    return {"product_version_id": found.id, "vendor_id": found.organization_id} if found else {}


def product_filter() -> dict[str, Any]:
    """``RunFilters`` fields for ``?product_id=``: 404 for an unknown product, 403 for a private one
    the caller does not administer; its admins and the Foundation see every run attached to it."""
    product_id = request.args.get("product_id")
    if product_id is None:
        return {}
    product = products.get_product(session(), product_id)
    admin = is_vendor_admin(product.organization_id)
    if not admin and not product.public:
        raise ApiError(403, "Forbidden.")
    return {"product_id": product.id, "all_product_runs": admin}


def change_product_version(run: RunRecord, value: Any) -> None:
    """``PUT /v1/results/<id>`` with ``product_version_id``: attach (to a version of a product the
    caller administers, or anything for the Foundation) or detach (null); verified runs are frozen."""
    if run.verification_status == 1:
        raise ApiError(403, "Can not update product_version_id for a verified test run.")
    if value is not None and (not isinstance(value, str) or unstorable(value)):
        raise ApiError(400, SCHEMA_MISMATCH, ["'product_version_id' must be a product version's id or null"])
    version = products.get_version(session(), value) if value is not None else None
    if version is not None and not is_vendor_admin(version.organization_id):
        raise ApiError(403, "Forbidden.")
    products.attach_run(session(), run.id, version)


def openapi_paths(
    op: Callable[..., dict[str, Any]],
    query: Callable[..., dict[str, Any]],
    json_response: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """The vendor, product and sign-in operations for the OpenAPI document."""
    from webapp.api.products import PRODUCT_SCHEMA, VERSION_SCHEMA
    from webapp.api.vendors import VENDOR_SCHEMA

    item, items = {"type": "object"}, {"type": "array", "items": {"type": "object"}}
    done = {"204": {"description": "done"}}
    redirect = {"302": {"description": "redirect"}}

    def path(*names: str) -> list[dict[str, Any]]:
        return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    update = body({"type": "object"})
    vendor, version = path("vendor_id"), path("product_id", "version_id")
    return {
        "/v1/vendors": {
            "get": op("Vendors the caller may see", {"200": json_response(item)}),
            "post": op("Create a private vendor", {"201": json_response(item)}, body=body(VENDOR_SCHEMA)),
        },
        "/v1/vendors/schema": {"get": op("The JSON Schema of a new vendor", {"200": json_response(item)})},
        "/v1/vendors/{vendor_id}": {
            "get": op("A vendor", {"200": json_response(item)}, parameters=vendor),
            "put": op("Change a vendor", {"200": json_response(item)}, parameters=vendor, body=update),
            "delete": op("Delete a vendor", done, parameters=vendor),
        },
        "/v1/vendors/{vendor_id}/action": {
            "post": op(
                "register, approve, deny or cancel", {"200": json_response(item)}, parameters=vendor, body=update
            )
        },
        "/v1/vendors/{vendor_id}/users": {
            "get": op("The vendor's admins", {"200": json_response(items)}, parameters=vendor)
        },
        "/v1/vendors/{vendor_id}/users/{encoded}": {
            "put": op("Add an admin (base64 openid)", done, parameters=path("vendor_id", "encoded")),
            "delete": op("Remove an admin (base64 openid)", done, parameters=path("vendor_id", "encoded")),
        },
        "/v1/products": {
            "get": op(
                "Public products and the caller's", {"200": json_response(item)}, parameters=[query("organization_id")]
            ),
            "post": op("Create a private product", {"201": json_response(item)}, body=body(PRODUCT_SCHEMA)),
        },
        "/v1/products/schema": {"get": op("The JSON Schema of a new product", {"200": json_response(item)})},
        "/v1/products/{product_id}": {
            "get": op("A product", {"200": json_response(item)}, parameters=path("product_id")),
            "put": op("Change a product", {"200": json_response(item)}, parameters=path("product_id"), body=update),
            "delete": op("Delete a product", done, parameters=path("product_id")),
        },
        "/v1/products/{product_id}/versions": {
            "get": op("A product's versions", {"200": json_response(items)}, parameters=path("product_id")),
            "post": op(
                "Add a version", {"201": json_response(item)}, parameters=path("product_id"), body=body(VERSION_SCHEMA)
            ),
        },
        "/v1/products/{product_id}/versions/schema": {
            "get": op("The JSON Schema of a new version", {"200": json_response(item)}, parameters=path("product_id"))
        },
        "/v1/products/{product_id}/versions/{version_id}": {
            "get": op("A version", {"200": json_response(item)}, parameters=version),
            "put": op("Change a version's cpid", {"200": json_response(item)}, parameters=version, body=update),
            "delete": op("Delete a version", done, parameters=version),
        },
        "/v1/auth/signin": {"get": op("Sign in with OpenID Connect (a browser redirect)", redirect)},
        "/v1/auth/signin_return": {"get": op("The provider's answer (a browser redirect)", redirect)},
        "/v1/auth/signout": {"get": op("Sign out (a browser redirect)", redirect)},
    }


__all__ = [
    "DATE_FORMAT",
    "SCHEMA_MISMATCH",
    "attach_at_upload",
    "change_product_version",
    "MULTILINE",
    "TEXT_LIMITS",
    "check_document",
    "check_keys",
    "check_text",
    "is_vendor_admin",
    "json_object",
    "openapi_paths",
    "product_filter",
    "product_version_view",
    "require_signed_in",
    "version_views",
]
