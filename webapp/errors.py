"""The one JSON error envelope, and the handlers that put every error into it.

Shape (RefStack's): ``{"code", "title", "detail", "errors"}``. ``title`` carries the
human message, as RefStack's application errors did (refstack-client users saw it
there), ``detail`` repeats it, and ``errors`` lists every problem found. HTTP errors
raised by Flask itself (404, 405, 413, ...) and unexpected exceptions (500) get the same
shape, so clients parse one thing.

The domain errors of the layers below (:mod:`webapp.store.errors`,
:class:`webapp.signatures.BadSignature`) carry no HTTP status: :func:`as_api_error` gives
them theirs, here and only here, for the API and the dashboard alike.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import Flask, Response, current_app, has_app_context, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

from webapp.signatures import BadSignature
from webapp.store.database import describe_failure
from webapp.store.errors import AlreadyExists, DatabaseUnavailable, StoreError
from webapp.store.errors import NotFound as RowNotFound

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the API reports to its caller: a status, a message and every problem.

    :param status: the HTTP status
    :param title: the message, RefStack's text where RefStack had one
    :param problems: the individual problems; defaults to ``[title]``
    """

    def __init__(self, status: int, title: str, problems: Sequence[str] | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.problems = list(problems) if problems else [title]


DOMAIN_ERRORS = (StoreError, BadSignature)


def as_api_error(exc: Exception) -> ApiError:
    """The HTTP status and words of a domain error (one of :data:`DOMAIN_ERRORS`)."""
    if isinstance(exc, BadSignature):
        return ApiError(400, exc.title, exc.problems)
    if isinstance(exc, AlreadyExists):
        return ApiError(409, str(exc))
    if isinstance(exc, RowNotFound):
        return ApiError(404, str(exc))
    if isinstance(exc, DatabaseUnavailable):
        return ApiError(503, "Service Unavailable: the database cannot be written or reached now; try again later")
    return ApiError(400, str(exc))


MAX_PROBLEMS = 50  # problems one answer lists; the rest are counted


def error_body(
    status: int, problems: Sequence[str], *, title: str | None = None, echo: int | None = None
) -> dict[str, object]:
    """The envelope: ``title`` is the message (or every problem joined), ``detail`` the full text.

    Problems repeat what the caller sent, so each is cut to ``echo`` characters (setting
    ``ERROR_ECHO_CHARS`` when there is an app), ending in "…", and at most
    :data:`MAX_PROBLEMS` are listed: a 5 MB bad value never makes a 5 MB answer.
    """
    if echo is None:
        echo = int(current_app.config.get("ERROR_ECHO_CHARS", 200)) if has_app_context() else 200
    listed = [_cut(p, echo) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        listed.append(f"… and {len(problems) - MAX_PROBLEMS} more problems")
    text = "; ".join(listed)
    return {"code": status, "title": _cut(title, echo) if title else text, "detail": text, "errors": listed}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def error_response(status: int, problems: Sequence[str], *, title: str | None = None) -> Response:
    """A JSON response holding :func:`error_body`."""
    response = jsonify(error_body(status, problems, title=title))
    response.status_code = status
    return response


def _api_error(exc: ApiError) -> Response:
    title = exc.title
    detail_problems = exc.problems
    if detail_problems == [title]:
        return error_response(exc.status, detail_problems)
    return error_response(exc.status, detail_problems, title=title)


def _domain_error(exc: Exception) -> Response:
    return _api_error(as_api_error(exc))


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"Request body too large: the limit is {limit} bytes"
        return error_response(413, [message])
    message = exc.description or exc.name
    allowed = exc.get_response().headers.get("Allow") if status == 405 else None
    if status == 404 and isinstance(exc, NotFound) and request.routing_exception is exc:
        message = f"No such endpoint: {request.method} {request.path}"
    elif allowed:
        message = f"Method {request.method} is not allowed for {request.path} (allowed: {allowed})"
    # HTTP errors keep RefStack's shape: the reason phrase as title, the message as detail
    response = error_response(status, [message], title=exc.name)
    if allowed:
        response.headers["Allow"] = allowed
    return response


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if isinstance(exc, RecursionError):  # input nested deeper than the code that walks it can follow
        return error_response(400, ["Malformed request: the input is nested too deeply to be read"])
    if (problem := describe_failure(exc)) is not None:
        log.error("database unavailable: %s", problem)  # NOTE: the details stay in the log
        response = error_response(
            503, ["Service Unavailable: the database cannot be written or reached now; try again later"]
        )
        response.headers["Retry-After"] = "30"
        return response
    # NOTE: the traceback goes to the log, never to the caller.
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, ["Internal Server Error"])


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""
    app.register_error_handler(ApiError, _api_error)
    for kind in DOMAIN_ERRORS:
        app.register_error_handler(kind, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
    app.register_error_handler(Exception, _unexpected)


__all__ = ["DOMAIN_ERRORS", "ApiError", "as_api_error", "error_body", "error_response", "register"]
