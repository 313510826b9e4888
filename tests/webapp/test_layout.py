"""The service's layout holds at run time: starting the API loads no pandas, and the domain
errors of the store and the signature checks reach callers with their HTTP status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import REPO
from tests.webapp.envelope import assert_error
from webapp.api import scoring as scoring_api
from webapp.sessions import database
from webapp.signatures import BadSignature
from webapp.store import runs
from webapp.store.errors import AlreadyExists, NotFound

START_API = """
import sys
import webapp
app = webapp.create_app({"DATABASE_URL": "sqlite:///" + sys.argv[1], "TESTING": True})
client = app.test_client()
for path in ("/v1/results", "/v1/guidelines", "/v1/openapi.json", "/results", "/guidelines"):
    assert client.get(path).status_code == 200, path
print("pandas" in sys.modules, "scoring.api" in sys.modules)
client.get("/v1/scoring/pass-rates")
print("pandas" in sys.modules)
"""


def test_starting_the_api_loads_no_pandas(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", START_API, str(tmp_path / "tcup.sqlite")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # NOTE: the last line proves the probe can see pandas once scoring is used.
    assert done.stdout.split() == ["False", "False", "True"], done.stderr


def test_the_scoring_api_default_threshold_is_the_engines() -> None:
    from scoring.evidence import DEFAULT_THRESHOLD

    assert scoring_api.DEFAULT_THRESHOLD == DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("Test result 42 not found"), 404),
        (AlreadyExists("Public key already exists."), 409),
        (BadSignature("Malformed signature", ["Malformed signature: X-Signature is empty"]), 400),
    ],
)
def test_domain_errors_get_their_status_once(app: Flask, error: Exception, status: int) -> None:
    with app.test_request_context("/v1/results"):
        response = app.handle_user_exception(error)
    assert_error(response, status, getattr(error, "title", str(error)))
    with app.test_request_context("/results"):  # a page: the same status, as HTML
        page = app.make_response(app.handle_user_exception(error))
    assert page.status_code == status and page.mimetype == "text/html"


def test_a_run_gone_mid_request_is_a_404(app: Flask) -> None:
    with app.app_context(), database(app).sessions() as sess:
        with pytest.raises(NotFound, match="not found"):
            runs.set_meta(sess, "00000000-0000-0000-0000-000000000000", "shared", "true")


def test_the_migrations_build_the_schema_the_tables_declare(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from webapp.store.database import head_revision, make_engine, upgrade_database
    from webapp.store.tables import Base

    engine = make_engine(f"sqlite:///{tmp_path}/schema.sqlite")
    try:
        assert upgrade_database(engine) == head_revision()
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        engine.dispose()
