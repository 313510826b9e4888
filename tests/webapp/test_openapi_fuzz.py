"""The OpenAPI document, fuzzed with schemathesis: no operation may answer 5xx, as anyone."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings

from tests.pg_fixtures import PostgresServer
from tests.webapp.conftest import add_user, import_into, make_app
from tests.webapp.signing import sign, v1_body
from webapp.api.openapi import build_document
from webapp.sessions import database

EXAMPLES = int(os.environ.get("TCUP_FUZZ_EXAMPLES", "20"))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzz_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, owner_key
) -> Iterator[tuple[Flask, str]]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.sqlite"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()
    app = make_app(url, MAX_UPLOAD_BYTES=256 * 1024)
    admin = add_user(app, "fuzz-admin", foundation=True)
    add_user(app, "fuzz-owner", key=owner_key)
    client = app.test_client()
    body = v1_body(["tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"])
    client.post("/v1/results", data=body)
    run = client.post("/v1/results", data=body, headers=sign(body, owner_key)).get_json()["test_id"]
    client.post(f"/v1/results/{run}/meta/shared", data="true", headers=admin.headers)
    interop = Path(os.environ.get("TCUP_INTEROP_DIR", Path(__file__).resolve().parents[3] / "shared" / "interop"))
    if (interop / "2020.06.json").is_file():
        directory = tmp_path_factory.mktemp("fuzz-guidelines")
        (directory / "2020.06.json").symlink_to(interop / "2020.06.json")
        import_into(app, directory)
    yield app, str(admin.token)
    database(app).engine.dispose()


OPERATIONS = [(path, method.upper()) for path, item in build_document()["paths"].items() for method in item]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_no_server_errors(fuzz_app: tuple[Flask, str], path: str, method: str) -> None:
    # NOTE: schemathesis' pytest plugin (from_fixture) breaks on pytest 9, so the cases of each
    # operation are drawn with Hypothesis directly; the checks are the same.
    app, token = fuzz_app
    operation = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def check(case) -> None:  # type: ignore[no-untyped-def]
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = case.call(headers=headers)
            assert response.status_code < 500, (method, case.formatted_path, response.status_code, response.text[:300])
            if response.status_code >= 400 and "json" in response.headers.get("Content-Type", [""])[0]:
                assert {"code", "title", "detail", "errors"} <= set(response.json())

    check()


def test_document_covers_every_route(sqlite_app: Flask) -> None:
    documented = set(build_document()["paths"])
    for rule in sqlite_app.url_map.iter_rules():
        if re.match(r"/v\d+/", rule.rule):  # the API (/v1, /v2); pages such as /vendors are not in it
            path = rule.rule.replace("<", "{").replace(">", "}")
            assert path in documented, path
    assert sqlite_app.test_client().get("/api/v1/openapi.json").get_json()["openapi"].startswith("3.")
