"""``/v2/runs``: our extended run document (every outcome, reasons, provenance), private.

An extended document must be signed with a registered key (same headers and scheme as
a v1 upload). It is either attached to an existing v1 result (``?test_id=<id>``, which
the signer must own) or stored as a new run, signed and private until shared. Only the
owner and the Foundation can read it back; the public only ever sees passed tests.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, request

from interop_model import InvalidRunDocument
from interop_model.wire import from_extended_document
from webapp import signatures
from webapp.access import OWNER, require_role
from webapp.api.requests import (
    check_storable,
    find_run,
    idempotency_key,
    json_body,
    result_url,
    upload_limits,
    upload_scope,
)
from webapp.auth import current_caller
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import accounts
from webapp.store import runs as store
from webapp.store.accounts import Caller

bp = Blueprint("api_v2", __name__)


@bp.post("/runs", strict_slashes=False)
def upload_run() -> tuple[dict[str, object], int]:
    """``POST /v2/runs[?test_id=<v1 id>]``: store a signed extended document."""
    body = request.get_data(cache=True)
    idempotency = idempotency_key()
    doc = json_body()
    try:
        run = from_extended_document(doc, **upload_limits())
    except InvalidRunDocument as exc:
        raise ApiError(400, "Request doesnt correspond to schema", exc.problems) from None
    check_storable(run.cpid, run.duration_seconds, [case.test_id for case in run.results])
    if "X-Signature" not in request.headers and "X-Public-Key" not in request.headers:
        raise ApiError(401, "Extended runs must be signed: send X-Signature and X-Public-Key")
    key = signatures.verify_upload(
        body,
        request.headers.get("X-Signature"),
        request.headers.get("X-Public-Key"),
        min_bits=int(current_app.config["MIN_RSA_KEY_BITS"]),
    )
    record = accounts.find_pubkey(session(), key)
    if record is None:
        raise ApiError(
            401, "User with specified key not found. Register the public key first: POST /v1/profile/pubkeys"
        )
    link = request.args.get("test_id")
    if link:
        target = find_run(link)
        signer = accounts.account_by_id(session(), record.user_id)
        require_role(Caller(signer), target, OWNER)
        if target.cpid != run.cpid:
            raise ApiError(400, f"The extended document's cpid {run.cpid!r} differs from the run's")
        store.attach_extended(session(), target.id, body)
        return {"test_id": target.id, "url": result_url(target.id), "linked": True}, 201
    saved = store.save_run(
        session(),
        run,
        store.NewRun(
            owner_id=record.user_id,
            pubkey_id=record.id,
            body_sha256=hashlib.sha256(body).hexdigest(),
            meta={store.USER_META: record.openid},
            extended_body=body,
            upload_key=upload_scope("v2", idempotency, body, record.id),
        ),
    )
    answer: dict[str, object] = {"test_id": saved.id, "url": result_url(saved.id), "linked": False}
    if not saved.created:
        answer["duplicate"] = True
    return answer, 201


@bp.get("/runs/<run_id>", strict_slashes=False)
def show_run(run_id: str) -> Response:
    """``GET /v2/runs/<id>``: the extended document, for the owner and the Foundation only."""
    run = find_run(run_id)
    require_role(current_caller(), run, OWNER)
    body = store.extended_body(session(), run.id) if run.has_extended else None
    if body is None:
        raise ApiError(404, f"Test result {run.id} has no extended document")
    return Response(body, mimetype="application/json")


__all__ = ["bp"]
