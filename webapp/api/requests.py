"""Request helpers shared by the API's endpoints (and the dashboard): the JSON body, a run's
link, a run found by id, and the checks a document passes before the store keeps it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

from flask import current_app, request

from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import runs

MAX_DURATION = 2**31 - 1  # the column is a 32-bit integer


def result_url(run_id: str) -> str:
    """The link to a run (setting ``RESULT_URL``; relative links join the request's host URL)."""
    link = str(current_app.config["RESULT_URL"]).format(id=run_id)
    return urljoin(request.host_url, link)


def json_body() -> Any:
    """The request body parsed as JSON, or 400 ``Malformed request`` saying where it broke."""
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Malformed request", [f"Malformed request: the body is not JSON ({exc})"]) from None


def _unstorable(text: str) -> str | None:
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
    if why := _unstorable(cpid):
        problems.append(f"'cpid' {why}")
    if _unstorable("\n".join(names)):  # NOTE: one check of all names, then the culprits one by one
        for i, name in enumerate(names):
            if why := _unstorable(name):
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


__all__ = ["MAX_DURATION", "check_storable", "find_run", "find_run_with_tests", "json_body", "result_url"]
