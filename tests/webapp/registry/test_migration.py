"""Migration 0005 (the registry) on a 0002 database holding runs and a Foundation, on SQLite and PostgreSQL:
runs keep their tests (on SQLite ``runs`` must never be copied, which would cascade into
``run_tests``), the Foundation gets its vendor, and runs start unattached."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from webapp import create_app
from webapp.sessions import database
from webapp.store import testsets
from webapp.store.database import _alembic_config, make_engine

RUN_ID = "0b0c3c2e-4a57-4d1b-9d3e-2a6c1f0e9a11"
NAME = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no schema at all)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/old.sqlite"
    return str(request.getfixturevalue("postgres_url"))


def test_upgrade_from_0002_through_0005_keeps_runs_and_gives_the_foundation_its_vendor(empty_url: str) -> None:
    engine = make_engine(empty_url)
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0002")
    now = datetime(2024, 1, 1)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO groups (name, kind) VALUES ('Foundation', 'foundation')"))
        connection.execute(
            text("INSERT INTO test_cases (id, key_sha1, name) VALUES (1, :k, :n)"), {"k": "a" * 40, "n": NAME}
        )
        connection.execute(
            text(
                "INSERT INTO runs (pk, id, cpid, created_at, duration_seconds, verification_status, signed, shared, "
                "public, meta, test_count, has_extended) VALUES (1, :id, 'cloud-1', :now, 60, 0, false, false, true, "
                "'{}', 1, false)"
            ),
            {"id": RUN_ID, "now": now},
        )
        connection.execute(text("INSERT INTO run_tests (run_pk, packed) VALUES (1, :p)"), {"p": testsets.pack_ids([1])})
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM run_tests")).scalar() == 1
        assert connection.execute(text("SELECT product_version_id, vendor_id FROM runs")).all() == [(None, None)]
        vendors = connection.execute(text("SELECT type, name FROM organizations")).all()
        assert vendors == [(0, "OpenStack Foundation")]
    engine.dispose()
    app = create_app({"DATABASE_URL": empty_url, "TESTING": True})
    try:
        detail = app.test_client().get(f"/v1/results/{RUN_ID}").get_json()
        assert detail["results"] == [NAME] and detail["product_version"] is None
        vendors_listed = app.test_client().get("/v1/vendors").get_json()["vendors"]
        assert [v["type"] for v in vendors_listed] == [0]
    finally:
        database(app).engine.dispose()
