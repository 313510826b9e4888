"""RefStack-compatible ``/v1/results`` (also mounted at ``/api/v1``): upload, list, detail,
update, delete, meta keys, the upload schema and the server-side compliance report.

Checks run in RefStack's order with RefStack's messages; every error is the JSON
envelope of :mod:`webapp.errors`, listing every problem.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from interop_model import InvalidRunDocument, UnknownTarget, evaluate
from interop_model.wire import V1Upload, read_v1_upload
from webapp import signatures
from webapp import verdicts as judging
from webapp.access import FOUNDATION, OWNER, USER, privileged, require_role, role_for, visible_meta
from webapp.api import registry
from webapp.api.requests import (
    check_storable,
    find_run,
    find_run_with_tests,
    idempotency_key,
    json_body,
    result_url,
    upload_limits,
    upload_scope,
)
from webapp.api.schemas import UPLOAD_SCHEMA
from webapp.auth import current_caller
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import accounts, catalog, products
from webapp.store import runs as store

bp = Blueprint("api_v1", __name__)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
EMPTY_RESULTS = "Uploaded results must contain at least one passing test."
WRITABLE_META_KEYS = store.PUBLIC_META_KEYS
MAX_META_VALUE = 255


# -- upload --------------------------------------------------------------------------------


@bp.post("/results", strict_slashes=False)
def upload_result() -> tuple[Response, int]:
    """``POST /v1/results/``: store a v1 document, anonymous or signed; a repeat (the same
    ``Idempotency-Key`` and body, or the same signed body) answers the first run."""
    body = request.get_data(cache=True)
    key = idempotency_key()
    doc = json_body()
    empty = False
    upload: V1Upload | None
    try:
        upload = read_v1_upload(doc, **upload_limits())
    except InvalidRunDocument as exc:
        if exc.problems != [EMPTY_RESULTS]:
            raise ApiError(400, "Request doesnt correspond to schema", exc.problems) from None
        empty, upload = True, None
    if upload is not None:
        # NOTE: the document's own list, so that a culprit's index is its place in the upload
        check_storable(upload.cpid, upload.duration_seconds, [item["name"] for item in doc["results"]])
    signed = "X-Signature" in request.headers or "X-Public-Key" in request.headers
    signer = (
        signatures.verify_upload(
            body,
            request.headers.get("X-Signature"),
            request.headers.get("X-Public-Key"),
            min_bits=int(current_app.config["MIN_RSA_KEY_BITS"]),
        )
        if signed
        else None
    )
    if empty or upload is None:
        raise ApiError(400, EMPTY_RESULTS)
    new = store.NewRun(upload_key=upload_scope("v1", key, body, None))
    if signer is not None:
        record = accounts.find_pubkey(session(), signer)
        if record is None:
            raise ApiError(
                401, "User with specified key not found. Register the public key first: POST /v1/profile/pubkeys"
            )
        new = store.NewRun(
            owner_id=record.user_id,
            pubkey_id=record.id,
            body_sha256=hashlib.sha256(body).hexdigest(),
            meta={store.USER_META: record.openid},
            **registry.attach_at_upload(upload.cpid, record.user_id, request.args.get("product_version_id")),
            upload_key=upload_scope("v1", key, body, record.id),
        )
    elif not current_app.config["ANONYMOUS_UPLOADS"]:
        raise ApiError(401, "Anonymous uploads are disabled on this server: sign the upload with a registered key")
    else:  # an anonymous upload cannot name a product version (a 401)
        registry.attach_at_upload(upload.cpid, None, request.args.get("product_version_id"))
    saved = store.save_upload(session(), upload, new)
    answer: dict[str, Any] = {"test_id": saved.id, "url": result_url(saved.id)}
    if not saved.created:
        # NOTE: 201 even for a repeat, because refstack-client only reports success on 201.
        answer["duplicate"] = True
    return jsonify(answer), 201


@bp.get("/results/schema", strict_slashes=False)
def upload_schema() -> Response:
    """``GET /v1/results/schema``: the JSON Schema of the upload document."""
    return jsonify(UPLOAD_SCHEMA)


# -- list ----------------------------------------------------------------------------------


def _date(name: str) -> datetime | None:
    value = request.args.get(name)
    if value is None:
        return None
    try:
        return datetime.strptime(value, DATE_FORMAT)
    except ValueError as exc:
        raise ApiError(400, f"Invalid date format: {exc}") from None


def _filters() -> store.RunFilters:
    start, end = _date("start_date"), _date("end_date")
    if start and end and start > end:
        raise ApiError(400, "Invalid dates: start_date more than end_date")
    mine = "signed" in request.args
    if mine and current_caller().account is None:
        raise ApiError(400, "To see signed test results you need to authenticate")
    status = request.args.get("verification_status")
    if status is not None and status not in ("0", "1"):
        raise ApiError(400, f"Invalid verification_status value: {status[:40]} (use 0 or 1)")
    return store.RunFilters(
        start=start,
        end=end,
        cpid=request.args.get("cpid"),
        mine=mine,
        verification_status=int(status) if status is not None else None,
        **registry.product_filter(),
    )


def _page(total_pages: int) -> int:
    raw = request.args.get("page")
    if raw is None:
        return 1
    try:
        page = int(raw)
    except ValueError:
        raise ApiError(400, "Invalid page number: The page number can not be converted to an integer") from None
    if page == 1:
        return 1
    if page <= 0:
        raise ApiError(400, "Invalid page number: The page number less or equal zero.")
    if page > total_pages:
        raise ApiError(400, "Invalid page number: The page number is greater than the total number of pages.")
    return page


def _item(
    run: store.RunRecord, role: str | None, versions: Mapping[str, products.VersionRecord] | None = None
) -> dict[str, Any]:
    if versions is None:
        versions = registry.version_views([run])
    return {
        "id": run.id,
        "created_at": run.created_at.strftime(DATE_FORMAT),
        "duration_seconds": run.duration_seconds,
        "verification_status": run.verification_status,
        "meta": visible_meta(run.meta, role),
        "product_version": registry.product_version_view(run, role, versions),
    }


@bp.get("/results", strict_slashes=False)
def list_results() -> Response:
    """``GET /v1/results``: 20 runs a page, newest first; public runs, or the caller's with ``signed``."""
    filters = _filters()
    caller = current_caller()
    per_page = int(current_app.config["RESULTS_PER_PAGE"])
    total = store.count_runs(session(), caller, filters)
    total_pages = math.ceil(total / per_page)
    page = _page(total_pages)
    items = []
    runs = store.list_runs(session(), caller, filters, offset=(page - 1) * per_page, limit=per_page)
    versions = registry.version_views(runs)
    for run in runs:
        item = _item(run, role_for(caller, run), versions)
        item["url"] = result_url(run.id)
        items.append(item)
    return jsonify({"results": items, "pagination": {"current_page": page, "total_pages": total_pages}})


# -- one run -------------------------------------------------------------------------------


@bp.get("/results/<run_id>", strict_slashes=False)
def show_result(run_id: str) -> Response:
    """``GET /v1/results/<id>``: the run with its passed test names and the caller's role."""
    run, test_ids = find_run_with_tests(run_id)
    role = require_role(current_caller(), run, USER)
    detail = _item(run, role)
    if privileged(role):
        detail["cpid"] = run.cpid
    detail["results"] = store.names_of(session(), test_ids)
    detail["user_role"] = role
    return jsonify(detail)


@bp.delete("/results/<run_id>", strict_slashes=False)
def delete_result(run_id: str) -> tuple[str, int]:
    """``DELETE /v1/results/<id>``: owner or Foundation; verified runs are frozen."""
    run = find_run(run_id)
    require_role(current_caller(), run, OWNER)
    if run.verification_status == 1:
        raise ApiError(403, "Can not delete a verified test run.")
    store.delete_run(session(), run.id)
    return "", 204


@bp.put("/results/<run_id>", strict_slashes=False)
def update_result(run_id: str) -> tuple[Response, int]:
    """``PUT /v1/results/<id>``: ``verification_status`` (Foundation) or ``product_version_id``
    (the Foundation, or an owner who administers the product)."""
    run = find_run(run_id)
    caller = current_caller()
    require_role(caller, run, OWNER)
    doc = json_body()
    if not isinstance(doc, dict):
        raise ApiError(400, "Request doesnt correspond to schema", ["the body must be a JSON object"])
    unknown = [
        f"unknown key {k!r}: only verification_status and product_version_id can be changed"
        for k in doc
        if k not in ("verification_status", "product_version_id")
    ]
    if unknown:
        raise ApiError(400, "Request doesnt correspond to schema", unknown)
    if "product_version_id" in doc:
        registry.change_product_version(run, doc["product_version_id"])
        run = find_run(run.id)
    if "verification_status" in doc:
        status = doc["verification_status"]
        if not caller.foundation:
            raise ApiError(403, "You do not have permission to change a verification status.")
        if isinstance(status, bool) or status not in (0, 1):
            raise ApiError(400, f"Invalid verification_status value: {str(status)[:40]}")
        if status == 1 and not all(run.meta.get(k) for k in ("target", "guideline", "shared")):
            raise ApiError(
                403,
                "In order to mark a test verified, the test must be shared and have been "
                "associated to a guideline and target program.",
            )
        run = store.set_verification_status(session(), run.id, status)
        products.registry_changed(session())
    answer = _item(run, FOUNDATION)
    answer.update(cpid=run.cpid, product_version_id=run.product_version_id)
    return jsonify(answer), 201


# -- meta keys -----------------------------------------------------------------------------


@bp.get("/results/<run_id>/meta", strict_slashes=False)
def show_meta(run_id: str) -> Response:
    """``GET /v1/results/<id>/meta``: every key for owner/Foundation, the public ones for others."""
    run = find_run(run_id)
    role = role_for(current_caller(), run)
    if role is None:
        raise ApiError(403, "You are not allowed to see this test run's metadata")
    return jsonify(visible_meta(run.meta, role))


@bp.get("/results/<run_id>/meta/<key>", strict_slashes=False)
def show_meta_key(run_id: str, key: str) -> Response:
    """``GET /v1/results/<id>/meta/<key>``: one value, as JSON text."""
    run = find_run(run_id)
    role = role_for(current_caller(), run)
    if role is None or (not privileged(role) and key not in store.PUBLIC_META_KEYS):
        raise ApiError(403, f"You are not allowed to read the meta key {key!r} of this test run")
    if key not in run.meta:
        raise ApiError(404, f"Metadata key {key} not found for test run {run.id}")
    return jsonify(run.meta[key])


def _writable(run_id: str, key: str) -> store.RunRecord:
    run = find_run(run_id)
    if key not in WRITABLE_META_KEYS:
        raise ApiError(403, f"The meta key {key!r} is not writable: only {', '.join(WRITABLE_META_KEYS)} are")
    require_role(current_caller(), run, OWNER)
    return run


@bp.post("/results/<run_id>/meta/<key>", strict_slashes=False)
def set_meta_key(run_id: str, key: str) -> tuple[str, int]:
    """``POST /v1/results/<id>/meta/<key>``: the raw body (not JSON) becomes the value."""
    run = _writable(run_id, key)
    if run.verification_status == 1:
        raise ApiError(403, "Can not add/alter a new metadata key for a verified test run.")
    try:
        value = request.get_data(cache=True).decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ApiError(400, "The meta value must be UTF-8 text") from None
    problems = []
    if len(value) > MAX_META_VALUE:
        problems.append(f"the meta value is longer than {MAX_META_VALUE} characters")
    if any(ord(c) < 32 for c in value):
        problems.append("the meta value must not contain control characters")
    if problems:
        raise ApiError(400, "Invalid meta value", problems)
    store.set_meta(session(), run.id, key, value)
    return "", 201


@bp.delete("/results/<run_id>/meta/<key>", strict_slashes=False)
def delete_meta_key(run_id: str, key: str) -> tuple[str, int]:
    """``DELETE /v1/results/<id>/meta/<key>``: deleting ``shared`` makes a signed run private again."""
    run = _writable(run_id, key)
    if run.verification_status == 1:
        raise ApiError(403, "Can not delete a metadata key for a verified test run.")
    if not store.delete_meta(session(), run.id, key):
        raise ApiError(404, f"Metadata key {key} not found for test run {run.id}")
    return "", 204


# -- compliance ----------------------------------------------------------------------------


@bp.get("/results/<run_id>/compliance", strict_slashes=False)
def show_compliance(run_id: str) -> Response:
    """``GET /v1/results/<id>/compliance?guideline=2020.06&target=platform``: the verdict, computed here.

    Owner and Foundation are judged on every outcome (the extended document, when there
    is one); everyone else on the passed tests only, so no failure detail leaks.
    """
    run, test_ids = find_run_with_tests(run_id)
    role = require_role(current_caller(), run, USER)
    recorded = store.selection_of(session(), run)
    target = request.args.get("target") or run.meta.get("target") or (recorded.target if recorded else "") or "platform"
    version = (
        request.args.get("guideline")
        or run.meta.get("guideline")
        or (recorded.guideline if recorded else None)
        or catalog.newest_core_guideline(session())
    )
    if not version:
        raise ApiError(404, "No guideline is available: import some with tcup-server import-guidelines")
    loaded = catalog.resolve_guideline(session(), version, target)
    if loaded is None:
        raise ApiError(404, f"Guideline {version} not found")
    full = privileged(role) and run.has_extended
    report = store.full_report(session(), run) if full else store.report_of(session(), run, test_ids)
    try:
        compliance = evaluate(loaded.guideline, target, report)
    except UnknownTarget as exc:
        raise ApiError(400, f"Invalid target: {target}", [str(exc)]) from None
    selection, subset = judging.run_subset(session(), run, loaded, target)
    judged = judging.run_verdicts(session(), run, report, compliance, loaded, subset=subset, full_evidence=full)
    answer: dict[str, Any] = {
        "test_id": run.id,
        "guideline_file": loaded.file,
        "user_role": role,
        "evidence": "extended" if full else "passed-only",
    }
    answer.update(compliance.to_dict())
    answer.update(judged.to_dict())  # new fields only: RefStack's ones above are unchanged
    answer["selection"] = (
        {
            "guideline": selection.guideline,
            "target": selection.target,
            "statuses": list(selection.statuses),
            "capability_globs": list(selection.capability_globs),
            "selected": len(subset.chosen),
            "of": subset.eligible,
        }
        if selection is not None and subset is not None
        else None
    )
    return jsonify(answer)


__all__ = ["bp"]
