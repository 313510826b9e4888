"""``/v1/profile``: the caller's account and public keys (RefStack's paths and meanings).

Key registration needs ``Authorization: Bearer <API token>`` (or a RefStack JWT) and a
self-signature over the nine bytes ``signature``; a duplicate key is a 409.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from webapp import signatures
from webapp.api.requests import json_body
from webapp.auth import require_account
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import accounts

bp = Blueprint("profile", __name__)


@bp.get("/profile", strict_slashes=False)
def show_profile() -> Response:
    """``GET /v1/profile``: who the token belongs to."""
    account = require_account()
    return jsonify(
        {"openid": account.openid, "fullname": account.fullname, "email": account.email, "is_admin": account.foundation}
    )


def _key_view(record: accounts.KeyRecord) -> dict[str, object]:
    return {"id": str(record.id), "format": record.format, "pubkey": record.pubkey, "comment": record.comment}


@bp.get("/profile/pubkeys", strict_slashes=False)
def list_pubkeys() -> Response:
    """``GET /v1/profile/pubkeys``: the caller's registered keys."""
    account = require_account()
    return jsonify([_key_view(r) for r in accounts.list_pubkeys(session(), account.id)])


@bp.post("/profile/pubkeys", strict_slashes=False)
def add_pubkey() -> tuple[Response, int]:
    """``POST /v1/profile/pubkeys`` with ``{"raw_key", "self_signature"}``."""
    account = require_account()
    doc = json_body()
    problems: list[str] = []
    if not isinstance(doc, dict):
        problems.append("the body must be a JSON object with raw_key and self_signature")
    else:
        problems += [f"'{k}' is required" for k in ("raw_key", "self_signature") if k not in doc]
        problems += [
            f"'{k}' must be text" for k in ("raw_key", "self_signature") if k in doc and not isinstance(doc[k], str)
        ]
        problems += [
            f"unknown key {k!r}: only raw_key and self_signature are allowed"
            for k in doc
            if k not in ("raw_key", "self_signature")
        ]
    if problems:
        raise ApiError(400, "Request doesnt correspond to schema", problems)
    assert isinstance(doc, dict)
    key = signatures.verify_registration(
        doc["raw_key"], doc["self_signature"], min_bits=int(current_app.config["MIN_RSA_KEY_BITS"])
    )
    record = accounts.add_pubkey(session(), account.id, key)
    return jsonify(_key_view(record)), 201


@bp.delete("/profile/pubkeys/<key_id>", strict_slashes=False)
def delete_pubkey(key_id: str) -> tuple[str, int]:
    """``DELETE /v1/profile/pubkeys/<id>``: remove one of the caller's keys."""
    account = require_account()
    known = key_id.isascii() and key_id.isdigit() and len(key_id) < 10
    if not known or not accounts.delete_pubkey(session(), account.id, int(key_id)):
        raise ApiError(404, f"Public key {key_id} not found")
    return "", 204


__all__ = ["bp"]
