"""Request helpers shared by the API's endpoints (and the dashboard): the JSON body, a run's
link, a run found by id, and the checks a document passes before the store keeps it."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request

from interop_model.errors import InvalidJson
from interop_model.jsontext import parse_json
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import runs

MAX_DURATION = 2**31 - 1  # the column is a 32-bit integer
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255


def result_url(run_id: str) -> str:
    """The link to a run: setting ``RESULT_URL``, joined to ``PUBLIC_URL`` when relative (and left
    relative when ``PUBLIC_URL`` is empty). Never built from the request's Host header, which
    the caller chooses."""
    return public_link(str(current_app.config["RESULT_URL"]).format(id=run_id))


def public_link(link: str) -> str:
    """``link`` (a path of this service, or an absolute URL left as it is) joined to ``PUBLIC_URL``;
    relative when ``PUBLIC_URL`` is empty. Never built from the request's Host header."""
    base = str(current_app.config.get("PUBLIC_URL") or "")
    if urlsplit(link).scheme or not base:
        return link
    return f"{base}/{link.lstrip('/')}"


def json_body() -> Any:
    """The request body parsed as JSON, or 400 ``Malformed request`` saying where it broke.

    Text that is not JSON, not UTF-8, or nested too deeply to read (``"[" * 100000``) is a
    400, never a server error (:func:`interop_model.jsontext.parse_json`).
    """
    try:
        return parse_json(request.get_data(cache=True))
    except InvalidJson as exc:
        raise ApiError(400, "Malformed request", [f"Malformed request: the body is {exc.problem}"]) from None


def upload_limits() -> dict[str, int]:
    """The bounds an upload document is read with (settings ``MAX_RESULTS_PER_UPLOAD``, ``MAX_TEST_NAME_LENGTH``)."""
    return {
        "max_results": int(current_app.config["MAX_RESULTS_PER_UPLOAD"]),
        "max_name_length": int(current_app.config["MAX_TEST_NAME_LENGTH"]),
    }


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` (any opaque text of 1 to 255 printable characters), or
    None when absent; 400 when malformed."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    problems = []
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        problems.append(f"{IDEMPOTENCY_HEADER} must hold 1 to {MAX_IDEMPOTENCY_KEY} characters, not {len(key)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        problems.append(f"{IDEMPOTENCY_HEADER} must not contain control characters")
    if problems:
        raise ApiError(400, f"Invalid {IDEMPOTENCY_HEADER} header", problems)
    return key


def upload_scope(endpoint: str, key: str | None, body: bytes, pubkey_id: int | None) -> str | None:
    """What the store keeps for an idempotency key: a hash of the key scoped to the endpoint, the
    exact body and the signer (or anonymous), so a key reused for another upload, or by another
    signer, never returns someone else's run."""
    if key is None:
        return None
    signer = str(pubkey_id) if pubkey_id is not None else "anonymous"
    scope = "\x00".join((endpoint, key, hashlib.sha256(body).hexdigest(), signer))
    return hashlib.sha256(scope.encode("utf-8", "surrogateescape")).hexdigest()


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored verbatim (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def check_storable(cpid: str, duration_seconds: int, names: list[str]) -> None:
    """400 listing every cpid or test name the database could not keep verbatim."""
    problems = []
    if duration_seconds > MAX_DURATION:
        problems.append(f"'duration_seconds' is larger than {MAX_DURATION}")
    if why := unstorable(cpid):
        problems.append(f"'cpid' {why}")
    if unstorable("\n".join(names)):  # NOTE: one check of all names, then the culprits one by one
        for i, name in enumerate(names):
            if why := unstorable(name):
                problems.append(f"results[{i}].name {why}")
    if problems:
        raise ApiError(400, "Request doesnt correspond to schema", problems)


def find_run(run_id: str) -> runs.RunRecord:
    """The run, or 404."""
    run = runs.get_run(session(), run_id)
    if run is None:
        raise ApiError(404, f"Test result {run_id} not found")
    return run


def find_run_with_tests(run_id: str) -> tuple[runs.RunRecord, list[int]]:
    """The run and its test-case ids (one query), or 404."""
    found = runs.get_run_with_tests(session(), run_id)
    if found is None:
        raise ApiError(404, f"Test result {run_id} not found")
    return found


__all__ = [
    "IDEMPOTENCY_HEADER",
    "MAX_DURATION",
    "MAX_IDEMPOTENCY_KEY",
    "check_storable",
    "find_run",
    "find_run_with_tests",
    "idempotency_key",
    "json_body",
    "public_link",
    "result_url",
    "unstorable",
    "upload_limits",
    "upload_scope",
]
