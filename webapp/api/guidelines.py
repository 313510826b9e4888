"""``/v1/guidelines``: the imported guideline files and RefStack's plain-text test lists.

Served from the database (``tcup-server import-guidelines``), never fetched live. The
test list is exactly :meth:`interop_model.Guideline.test_list`, line for line; its
errors keep RefStack's text but are a real 404/400, so ``curl -f`` and ``wget`` fail.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from interop_model import UnknownTarget, parse_statuses
from webapp.errors import error_response
from webapp.sessions import session
from webapp.store import catalog

bp = Blueprint("guidelines", __name__)


@bp.get("/guidelines", strict_slashes=False)
def list_guidelines() -> Response:
    """``GET /v1/guidelines``: ``{"powered": [{name, file}], "dns": [...], ...}``."""
    return jsonify(catalog.list_guidelines(session()))


@bp.get("/guidelines/<file_name>", strict_slashes=False)
def show_guideline(file_name: str) -> Response:
    """``GET /v1/guidelines/<file>``: the raw guideline JSON (``.json`` appended when missing)."""
    loaded = catalog.load_guideline(session(), catalog.file_name_for(file_name))
    if loaded is None:
        return error_response(404, [f"Guideline file {catalog.file_name_for(file_name)} not found"])
    return Response(loaded.content, mimetype="application/json")


def _text_error(status: int, text: str) -> Response:
    if request.accept_mimetypes.best_match(["text/plain", "application/json"]) == "application/json":
        return error_response(status, [text])
    return Response(text, status=status, mimetype="text/plain")


def _flag(name: str) -> bool:
    raw = request.args.get(name)
    if not raw:
        return True
    return raw.lower() in ("true", "yes", "1")


class TestListError(Exception):
    """The text test list cannot be made: ``status`` and RefStack's ``text``."""

    __test__ = False

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def requested_test_list(version: str) -> tuple[catalog.LoadedGuideline, str, list[str]]:
    """(guideline, target, lines) of RefStack's test list for ``version`` and the request's
    ``target``, ``type``, ``alias`` and ``flag``; the API and the dashboard both answer with it.

    :raises TestListError: 404 for an unknown version, 400 for an unknown target.
    """
    target = request.args.get("target", "platform")
    loaded = catalog.resolve_guideline(session(), version, target)
    if loaded is None:
        raise TestListError(404, f"Error getting JSON content for version: {version}")
    try:
        lines = loaded.guideline.test_list(
            target, statuses=parse_statuses(request.args.get("type")), alias=_flag("alias"), flagged=_flag("flag")
        )
    except UnknownTarget:
        raise TestListError(400, f"Invalid target: {target}") from None
    return loaded, target, lines


@bp.get("/guidelines/<version>/tests", strict_slashes=False)
def show_test_list(version: str) -> Response:
    """``GET /v1/guidelines/<version>/tests?target=&type=&alias=&flag=``: text, one test per line.

    Unknown version: 404 ``Error getting JSON content for version: <v>``; unknown target:
    400 ``Invalid target: <t>`` (text/plain; the JSON envelope when only JSON is accepted).
    """
    try:
        _, _, lines = requested_test_list(version)
    except TestListError as exc:
        return _text_error(exc.status, exc.text)
    return Response("\n".join(lines), mimetype="text/plain")


__all__ = ["bp"]
