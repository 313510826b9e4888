"""The one JSON error envelope, and the handlers that put every error into it.

Shape (REFERENCE §1.7): ``{"code", "title", "detail", "errors"}``. ``title`` carries the
human message, as RefStack's application errors did (refstack-client users saw it
there), ``detail`` repeats it, and ``errors`` lists every problem found. HTTP errors
raised by Flask itself (404, 405, 413, ...) and unexpected exceptions (500) get the same
shape, so clients parse one thing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

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


def error_body(status: int, problems: Sequence[str], *, title: str | None = None) -> dict[str, object]:
    """The envelope: ``title`` is the message (or every problem joined), ``detail`` the full text."""
    text = "; ".join(problems)
    return {"code": status, "title": title or text, "detail": text, "errors": list(problems)}


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
    # NOTE: the traceback goes to the log, never to the caller.
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, ["Internal Server Error"])


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _http_error)
    app.register_error_handler(Exception, _unexpected)


__all__ = ["ApiError", "error_body", "error_response", "register"]
