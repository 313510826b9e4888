"""Every error answer is the one JSON envelope: RefStack's {code, title, detail} plus errors."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from tests.webapp.conftest import make_app
from tests.webapp.envelope import assert_error
from webapp.errors import error_body
from webapp.sessions import database

RUN = "00000000-0000-4000-8000-000000000000"

CASES = [
    ("GET", "/v1/nothing", None, {}, 404),
    ("GET", "/nothing/at/all", None, {}, 404),
    ("PATCH", "/v1/results", None, {}, 405),
    ("DELETE", "/v1/results", None, {}, 405),
    ("POST", "/v1/results", b"[", {}, 400),
    ("POST", "/v1/results", b"{}", {}, 400),
    ("POST", "/v1/results", b'{"cpid": "c", "duration_seconds": 1, "results": []}', {}, 400),
    (
        "POST",
        "/v1/results",
        b'{"cpid": "c", "duration_seconds": 1, "results": [{"name": "a"}]}',
        {"X-Public-Key": "junk"},
        400,
    ),
    ("GET", f"/v1/results/{RUN}", None, {}, 404),
    ("GET", "/v1/results/not-a-uuid", None, {}, 404),
    ("GET", "/v1/results?page=0", None, {}, 400),
    ("GET", "/v1/results?page=x", None, {}, 400),
    ("GET", "/v1/results?page=2", None, {}, 400),
    ("GET", "/v1/results?start_date=yesterday", None, {}, 400),
    ("GET", "/v1/results?start_date=2020-01-02%2000:00:00&end_date=2020-01-01%2000:00:00", None, {}, 400),
    ("GET", "/v1/results?signed", None, {}, 400),
    ("GET", "/v1/results?verification_status=7", None, {}, 400),
    ("GET", "/v1/results", None, {"Authorization": "Basic abc"}, 400),
    ("GET", "/v1/results", None, {"Authorization": "Bearer nope"}, 400),
    ("GET", "/v1/profile", None, {}, 401),
    ("POST", "/v1/profile/pubkeys", b"{}", {}, 401),
    ("DELETE", f"/v1/results/{RUN}", None, {}, 404),
    ("PUT", f"/v1/results/{RUN}", b"{}", {}, 404),
    ("GET", f"/v1/results/{RUN}/meta", None, {}, 404),
    ("POST", f"/v1/results/{RUN}/meta/shared", b"true", {}, 404),
    ("GET", f"/v1/results/{RUN}/compliance", None, {}, 404),
    ("GET", "/v1/guidelines/1999.01.json", None, {}, 404),
    ("GET", "/v1/guidelines/1999.01/tests", None, {"Accept": "application/json"}, 404),
    ("POST", "/v2/runs", b"{}", {}, 400),
    ("GET", f"/v2/runs/{RUN}", None, {}, 404),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"), CASES, ids=[f"{c[0]} {c[1]} {c[4]}" for c in CASES]
)
def test_every_error_is_the_envelope(
    sqlite_app: Flask, method: str, path: str, body: bytes | None, headers: dict[str, str], status: int
) -> None:
    assert_error(sqlite_app.test_client().open(path, method=method, data=body, headers=headers), status)


def test_http_errors_keep_refstack_titles(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    assert assert_error(client.get("/v1/nothing"), 404)["title"] == "Not Found"
    response = client.patch("/v1/results")
    assert assert_error(response, 405)["title"] == "Method Not Allowed"
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_413_names_the_limit(database_url: str) -> None:
    app = make_app(database_url, MAX_UPLOAD_BYTES=100)
    try:
        body = assert_error(app.test_client().post("/v1/results", data=b"x" * 5000), 413)
        assert "100 bytes" in body["title"]
    finally:
        database(app).engine.dispose()


def test_500_is_the_envelope_and_hides_the_exception(sqlite_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    sqlite_app.add_url_rule("/boom", view_func=boom)
    with caplog.at_level(logging.ERROR, logger="webapp.errors"):
        body = assert_error(sqlite_app.test_client().get("/boom"), 500, "Internal Server Error")
    assert "secret" not in json.dumps(body)
    assert "secret internal detail" in caplog.text  # the log keeps it for the operator


def test_error_body_joins_every_problem() -> None:
    assert error_body(400, ["a", "b"]) == {"code": 400, "title": "a; b", "detail": "a; b", "errors": ["a", "b"]}
    assert error_body(400, ["a", "b"], title="T")["title"] == "T"


def test_text_list_errors_keep_refstack_text(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/v1/guidelines/1999.01/tests")
    assert response.status_code == 404 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Error getting JSON content for version: 1999.01"
