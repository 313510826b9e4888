"""GET /v1/results: 20 a page, newest first, RefStack's filters and page errors; no test data read."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import event, update

from tests.webapp.conftest import Parties
from tests.webapp.envelope import assert_error
from tests.webapp.signing import v1_body
from webapp.sessions import database
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
