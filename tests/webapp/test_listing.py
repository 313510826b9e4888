"""GET /v1/results: 20 a page, newest first, RefStack's filters and page errors; no test data read."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update

from tests.webapp.conftest import Parties
from tests.webapp.envelope import assert_error
from tests.webapp.signing import v1_body
from webapp.sessions import database
from webapp.store import runs
from webapp.store.accounts import ANONYMOUS
from webapp.store.tables import Run

BASE = datetime(2020, 1, 1, 12, 0, 0)


def seed(app: Flask, count: int, cpid: str = "cloud-a") -> list[str]:
    """``count`` anonymous runs, one minute apart (oldest first); returns their ids."""
    client = app.test_client()
    ids = [
        client.post("/v1/results", data=v1_body([f"tempest.t{i}"], cpid=cpid)).get_json()["test_id"]
        for i in range(count)
    ]
    with database(app).sessions() as sess:
        for i, run_id in enumerate(ids):
            sess.execute(update(Run).where(Run.id == run_id).values(created_at=BASE + timedelta(minutes=i)))
        sess.commit()
    return ids


def test_pages_of_twenty_newest_first(app: Flask) -> None:
    ids = seed(app, 45)
    client = app.test_client()
    first = client.get("/v1/results").get_json()
    assert first["pagination"] == {"current_page": 1, "total_pages": 3}
    assert [r["id"] for r in first["results"]] == ids[::-1][:20]
    item = first["results"][0]
    assert set(item) == {
        "id",
        "created_at",
        "duration_seconds",
        "verification_status",
        "meta",
        "product_version",
        "url",
    }
    assert item["created_at"] == "2020-01-01 12:44:00"
    last = client.get("/v1/results/?page=3").get_json()
    assert [r["id"] for r in last["results"]] == ids[::-1][40:]
    seen = [r["id"] for p in (1, 2, 3) for r in client.get(f"/v1/results?page={p}").get_json()["results"]]
    assert sorted(seen) == sorted(ids) and len(seen) == 45


def test_page_one_is_always_valid(app: Flask) -> None:
    body = app.test_client().get("/v1/results?page=1").get_json()
    assert body == {"results": [], "pagination": {"current_page": 1, "total_pages": 0}}


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("0", "Invalid page number: The page number less or equal zero."),
        ("-3", "Invalid page number: The page number less or equal zero."),
        ("abc", "Invalid page number: The page number can not be converted to an integer"),
        ("2", "Invalid page number: The page number is greater than the total number of pages."),
    ],
)
def test_page_errors(sqlite_app: Flask, page: str, message: str) -> None:
    seed(sqlite_app, 3)
    assert_error(sqlite_app.test_client().get(f"/v1/results?page={page}"), 400, message)


def test_date_filters_are_inclusive(app: Flask) -> None:
    ids = seed(app, 10)
    client = app.test_client()
    query = "/v1/results?start_date=2020-01-01 12:02:00&end_date=2020-01-01 12:05:00"
    assert [r["id"] for r in client.get(query).get_json()["results"]] == ids[2:6][::-1]
    # a created_at from the list feeds straight back into the filters
    stamp = client.get("/v1/results").get_json()["results"][3]["created_at"]
    got = client.get(f"/v1/results?start_date={stamp}&end_date={stamp}").get_json()["results"]
    assert [r["created_at"] for r in got] == [stamp]
    assert_error(client.get("/v1/results?start_date=2020-01-01"), 400)
    assert_error(
        client.get("/v1/results?start_date=2020-01-02 00:00:00&end_date=2020-01-01 00:00:00"),
        400,
        "Invalid dates: start_date more than end_date",
    )


def test_cpid_and_verification_filters(app: Flask, parties: Parties) -> None:
    a = seed(app, 3, cpid="cloud-a")
    seed(app, 2, cpid="cloud-b")
    client = app.test_client()
    assert {r["id"] for r in client.get("/v1/results?cpid=cloud-a").get_json()["results"]} == set(a)
    assert client.get("/v1/results?cpid=nope").get_json()["results"] == []
    for key, value in (("shared", "true"), ("guideline", "2020.06.json"), ("target", "platform")):
        client.post(f"/v1/results/{a[0]}/meta/{key}", data=value, headers=parties.foundation.headers)
    assert (
        client.put(
            f"/v1/results/{a[0]}", json={"verification_status": 1}, headers=parties.foundation.headers
        ).status_code
        == 201
    )
    assert [r["id"] for r in client.get("/v1/results?verification_status=1").get_json()["results"]] == [a[0]]
    assert len(client.get("/v1/results?verification_status=0").get_json()["results"]) == 4


def test_the_list_reads_no_test_data(app: Flask) -> None:
    seed(app, 25)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert app.test_client().get("/v1/results?page=2").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements and not any("run_tests" in s or "test_cases" in s for s in statements)
    assert len(statements) <= 3  # count + page (+ nothing per run)


def test_maintained_count_follows_every_change(app: Flask, parties: Parties, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import func, select

    from webapp.store import runs as store
    from webapp.store.accounts import ANONYMOUS

    ids = seed(app, 6)
    client = app.test_client()
    assert parties.owner.key is not None
    from tests.webapp.signing import sign

    body = v1_body(["tempest.private"])
    private = client.post("/v1/results", data=body, headers=sign(body, parties.owner.key)).get_json()["test_id"]
    owner, foundation = parties.owner.headers, parties.foundation.headers
    client.post(f"/v1/results/{private}/meta/shared", data="true", headers=owner)
    client.post(f"/v1/results/{private}/meta/shared", data="again", headers=owner)  # no double count
    client.delete(f"/v1/results/{private}/meta/shared", headers=owner)
    client.delete(f"/v1/results/{ids[0]}", headers=foundation)
    client.post(f"/v1/results/{private}/meta/shared", data="true", headers=owner)
    client.delete(f"/v1/results/{private}", headers=owner)
    with database(app).sessions() as sess:
        real = sess.scalar(select(func.count()).select_from(Run).where(Run.public.is_(True)))
        from webapp.store.tables import RunCount

        assert sess.get(RunCount, "public").count == real == 5  # type: ignore[union-attr]
        assert store.count_runs(sess, ANONYMOUS, store.RunFilters()) == 5
        assert store.recount(sess) == 5
    monkeypatch.setattr(store, "_DEFERRED_JOIN_FROM", 0)  # deep pages read keys first: same answer
    deep = [r["id"] for r in client.get("/v1/results").get_json()["results"]]
    assert deep == ids[1:][::-1]


def _old_rule(meta: dict[str, str], key: str, value: str) -> bool:
    """The filter as it read ``meta`` before the columns: any spelling with or without ``.json``."""
    return meta.get(key) in {value, value.removesuffix(".json"), value.removesuffix(".json") + ".json"}


def test_guideline_and_target_filters_read_the_columns_with_the_old_results(app: Flask) -> None:
    ids = seed(app, 7)
    metas = [
        {"guideline": "2020.06.json", "target": "platform"},
        {"guideline": "2020.06", "target": "compute"},
        {"guideline": "2019.11.json"},
        {"target": "platform"},
        {},
        {"guideline": "2020.06.json", "target": "platform"},
        {"guideline": "x" * 255},
    ]
    with database(app).sessions() as sess:
        for run_id, meta in zip(ids, metas, strict=True):
            for key, value in meta.items():
                runs.set_meta(sess, run_id, key, value)
        runs.delete_meta(sess, ids[5], "target")  # a removed key leaves its column too
        metas[5].pop("target")
        cases = [
            ("2020.06.json", None),
            ("2020.06", None),
            ("2019.11", None),
            (None, "platform"),
            ("2020.06", "platform"),
            ("nothing", None),
            ("x" * 300, None),
            ("x" * 255, None),
        ]
        for guideline, target in cases:
            got = runs.list_runs(
                sess, ANONYMOUS, runs.RunFilters(guideline=guideline, target=target), offset=0, limit=20
            )
            expected = [
                run_id
                for run_id, meta in zip(ids, metas, strict=True)
                if (guideline is None or _old_rule(meta, "guideline", guideline))
                and (target is None or _old_rule(meta, "target", target))
            ]
            assert [r.id for r in got] == expected[::-1], (guideline, target)
            filters = runs.RunFilters(guideline=guideline, target=target)
            assert runs.count_runs(sess, ANONYMOUS, filters) == len(expected)
        assert runs.count_runs(sess, ANONYMOUS, runs.RunFilters(guideline="2020.06")) == 3


def test_migration_0006_fills_the_filter_columns_of_existing_runs(tmp_path: Path) -> None:
    from alembic import command

    from webapp.store.database import _alembic_config, make_engine, upgrade_database

    engine = make_engine(f"sqlite:///{tmp_path}/old.sqlite")
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0005")
            for pk, meta in enumerate(
                ['{"guideline": "2020.06.json", "target": "platform"}', '{"guideline": "next"}', "{}", "null"], 1
            ):
                connection.execute(
                    text(
                        "INSERT INTO runs (pk, id, cpid, created_at, duration_seconds, verification_status,"
                        " signed, shared, public, meta, test_count, has_extended)"
                        " VALUES (:pk, :id, 'c', '2020-01-01 00:00:00', 1, 0, 0, 0, 1, :meta, 0, 0)"
                    ),
                    {"pk": pk, "id": f"run-{pk}", "meta": meta},
                )
        upgrade_database(engine)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT pk, meta_guideline, meta_target FROM runs ORDER BY pk")).all()
        assert [tuple(r) for r in rows] == [
            (1, "2020.06", "platform"),
            (2, "next", None),
            (3, None, None),
            (4, None, None),
        ]
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0005")
        with engine.connect() as connection:
            columns = [r[1] for r in connection.execute(text("PRAGMA table_info(runs)"))]
        assert "meta_guideline" not in columns and "meta" in columns
    finally:
        engine.dispose()


@pytest.mark.parametrize("signed_only", [False, True])
def test_each_clouds_newest_public_run_is_the_scoring_evidence(app: Flask, signed_only: bool) -> None:
    ids = seed(app, 4, cpid="cloud-a") + seed(app, 3, cpid="cloud-b") + seed(app, 2, cpid="cloud-c")
    with database(app).sessions() as sess:
        # cloud-a: its newest run private; cloud-b: two newest at the same second (the larger pk wins)
        sess.execute(update(Run).where(Run.id == ids[3]).values(signed=True, public=False))
        sess.execute(update(Run).where(Run.id == ids[1]).values(signed=True, shared=True))
        sess.execute(update(Run).where(Run.id.in_(ids[5:7])).values(created_at=BASE + timedelta(days=1)))
        sess.execute(update(Run).where(Run.id == ids[5]).values(signed=True, shared=True))
        sess.execute(update(Run).where(Run.id.in_(ids[7:9])).values(public=False, signed=True))
        sess.commit()
        rows = sess.execute(select(Run.id, Run.cpid, Run.created_at, Run.pk, Run.public, Run.signed)).all()
        newest: dict[str, tuple[datetime, int, str]] = {}
        for run_id, cpid, created, pk, public, signed in rows:
            if public and (signed or not signed_only) and (created, pk, run_id) > newest.get(cpid, (BASE, 0, "")):
                newest[cpid] = (created, pk, run_id)
        expected = [newest[c][2] for c in sorted(newest)]
        assert [r.id for r in runs.latest_public_runs(sess, signed_only=signed_only)] == expected
    assert expected == ([ids[1], ids[5]] if signed_only else [ids[2], ids[6]])
