"""Under gunicorn with 4 workers on PostgreSQL, concurrent uploaders lose and duplicate nothing."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.pg_fixtures import PostgresServer
from tests.webapp.conftest import add_user, make_app
from tests.webapp.served import serve
from tests.webapp.signing import sign, v1_body
from webapp.sessions import database
from webapp.store import runs as store
from webapp.store.tables import Run, TestCase

UPLOADERS, UPLOADS_EACH = 32, 20
SHARED_POOL = [f"tempest.api.shared.test_mod_{i % 7}.SharedTest.test_{i:03d}" for i in range(120)]
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]


@pytest.fixture
def served(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    url = postgres_server.create_database()
    log = tmp_path / "gunicorn.log"
    with serve({"DATABASE_URL": url}, log, ["--workers", "4"]) as server:
        yield url, server.port, str(log)


def _names(uploader: int, n: int) -> list[tuple[str, str | None]]:
    own = [(f"tempest.api.u{uploader:02d}.test_upload_{n:02d}.T.test_{k}", None) for k in range(5)]
    shared = [(SHARED_POOL[(uploader * 7 + n * 3 + k) % len(SHARED_POOL)], None) for k in range(30)]
    return own + shared


def _post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/v1/results/", body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_concurrent_uploads_lose_and_duplicate_nothing(served: tuple[str, int, str], owner_key) -> None:  # type: ignore[no-untyped-def]
    url, port, log = served
    app = make_app(url, AUTO_MIGRATE=False)
    try:
        add_user(app, "signer", key=owner_key)
        repeated = v1_body([("tempest.api.repeated.T.test_once", None)], cpid="repeat-cloud")
        repeated_headers = sign(repeated, owner_key)

        def uploader(u: int) -> list[tuple[str, list[tuple[str, str | None]], str]]:
            sent = []
            for n in range(UPLOADS_EACH):
                names = _names(u, n)
                body = v1_body(names, cpid=f"cloud-{u:02d}", duration=n)
                headers = sign(body, owner_key) if n % 4 == 0 else {}
                status, answer = _post(port, body, headers)
                assert status == 201, (status, answer)
                sent.append((answer["test_id"], names, f"cloud-{u:02d}"))
            if u % 8 == 0:  # the same signed body from several uploaders at once
                status, answer = _post(port, repeated, repeated_headers)
                assert status == 201, answer
            return sent

        started = time.monotonic()
        with ThreadPoolExecutor(UPLOADERS) as pool:
            batches = list(pool.map(uploader, range(UPLOADERS)))
        elapsed = time.monotonic() - started
        uploads = [u for batch in batches for u in batch]
        assert len(uploads) == UPLOADERS * UPLOADS_EACH
        assert len({u[0] for u in uploads}) == len(uploads)  # every upload got its own id
        with database(app).sessions() as sess:
            total = sess.scalar(select(func.count()).select_from(Run))
            assert total == len(uploads) + 1  # plus exactly one row for the repeated signed body
            distinct_cases = sess.scalar(select(func.count()).select_from(TestCase))
            assert distinct_cases == UPLOADERS * UPLOADS_EACH * 5 + len(SHARED_POOL) + 1
            for test_id, names, cpid in uploads:
                record = store.get_run(sess, test_id)
                assert record is not None and record.cpid == cpid
                assert sorted(n for n, _ in store.passed_cases(sess, test_id)) == sorted({n for n, _ in names})
        assert "Traceback" not in Path(log).read_text()
        print(f"{len(uploads)} uploads from {UPLOADERS} uploaders in {elapsed:.1f} s")
    finally:
        database(app).engine.dispose()


def test_one_idempotency_key_is_one_run_across_workers(served: tuple[str, int, str]) -> None:
    """The same anonymous upload, sent 16 times at once with one Idempotency-Key to 4 gunicorn
    workers (as a client's retries after read timeouts would), is stored once."""
    url, port, log = served
    body = v1_body([("tempest.api.retried.T.test_once", None)], cpid="retried-cloud")
    headers = {"Idempotency-Key": "9" * 64}
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: _post(port, body, headers), range(16)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({answer["test_id"] for _, answer in answers}) == 1
    app = make_app(url, AUTO_MIGRATE=False)
    try:
        with database(app).sessions() as sess:
            assert sess.scalar(select(func.count()).select_from(Run).where(Run.cpid == "retried-cloud")) == 1
    finally:
        database(app).engine.dispose()
    assert "Traceback" not in Path(log).read_text()
