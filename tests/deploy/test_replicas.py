"""Separate service replicas over one PostgreSQL behind haproxy: nothing lost or duplicated, the
public counters right on every replica, and every change visible on every replica at once (no
replica-local cache goes stale: they hold facts that never change, or are keyed by a change
counter read from the database)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import pg_fixtures
from tests.replicas import HAPROXY, REPLICA_HEADER, Replicas, request, serve_replicas, upload_body

REPLICAS, UPLOADERS, UPLOADS_EACH = 3, 32, 20
PER_PAGE = 20
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(900)]
postgres_server = pg_fixtures.postgres_server


@pytest.fixture
def replicas(postgres_server: pg_fixtures.PostgresServer, tmp_path: Path) -> Iterator[Replicas]:
    if not Path(HAPROXY).exists() and shutil.which("haproxy") is None:
        pg_fixtures._skip_or_fail("haproxy is not installed (apt-get install haproxy; scripts/apt-packages.txt)")
    url = postgres_server.create_database()
    with serve_replicas(url, REPLICAS, tmp_path / "replicas") as running:
        yield running
    for log in sorted((tmp_path / "replicas").glob("replica-*.log")):
        assert "Traceback" not in log.read_text(), f"{log.name}: {log.read_text()[-2000:]}"


def test_uploads_through_the_balancer_are_all_kept_once_and_seen_by_every_replica(replicas: Replicas) -> None:
    def uploader(u: int) -> list[tuple[str, str]]:
        sent = []
        for n in range(UPLOADS_EACH):
            status, headers, body = request(replicas.port, "POST", "/v1/results/", upload_body(u, n))
            assert status == 201, body
            sent.append((json.loads(body)["test_id"], headers[REPLICA_HEADER]))
        return sent

    with ThreadPoolExecutor(UPLOADERS) as pool:
        uploads = [item for batch in pool.map(uploader, range(UPLOADERS)) for item in batch]

    ids = [test_id for test_id, _ in uploads]
    assert len(ids) == UPLOADERS * UPLOADS_EACH
    assert len(set(ids)) == len(ids), "an upload id was given twice"
    served_by = Counter(replica for _, replica in uploads)
    assert sorted(served_by) == [f"r{i}" for i in range(REPLICAS)], f"not spread over the replicas: {served_by}"

    # every replica lists exactly the uploaded runs, and its counter gives the right page count
    for port in replicas.replica_ports:
        listed, total_pages = replicas.list_all(port)
        assert total_pages == math.ceil(len(ids) / PER_PAGE)
        assert len(listed) == len(set(listed)) == len(ids)
        assert set(listed) == set(ids)

    # every run reads back, through the balancer (so from every replica in turn)
    for test_id in ids:
        status, _, body = request(replicas.port, "GET", f"/v1/results/{test_id}")
        assert status == 200, body
        assert len(json.loads(body)["results"]) == 25

    # an upload to one replica is at once the newest run on every other one (no stale replica cache)
    for i, port in enumerate(replicas.replica_ports):
        status, _, body = request(port, "POST", "/v1/results/", upload_body(90 + i, 0))
        assert status == 201, body
        new_id = json.loads(body)["test_id"]
        for other in replicas.replica_ports:
            status, _, body = request(other, "GET", "/v1/results")
            assert json.loads(body)["results"][0]["id"] == new_id
            assert request(other, "GET", f"/v1/results/{new_id}")[0] == 200


def test_no_replica_shows_a_stale_scoring_board(replicas: Replicas, interop_dir: Path, tmp_path: Path) -> None:
    """The scoring page (cached per replica) changes on every replica as soon as one takes an upload."""
    folder = tmp_path / "guidelines"
    folder.mkdir()
    for name in ("next.json", "2020.06.json", "2019.11.json", "working_materials/scoring.txt"):
        (folder / Path(name).name).symlink_to(interop_dir / name)
    env = {**os.environ, "DATABASE_URL": replicas.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "webapp", "import-guidelines", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pages = {port: request(port, "GET", "/scoring") for port in replicas.replica_ports}
    for port, (status, _, body) in pages.items():
        assert status == 200, body[:500]
        assert request(port, "GET", "/scoring")[2] == body, "the page changes with nothing changed"
    guideline = json.loads((interop_dir / "next.json").read_text())
    names = sorted(
        test for cap in guideline["capabilities"].values() for test in cap.get("tests", {}) if "identity" in test
    )
    run = json.dumps({"cpid": "a-new-cloud", "duration_seconds": 5, "results": [{"name": n} for n in names]})
    first, *others = replicas.replica_ports
    assert request(first, "POST", "/v1/results/", run.encode())[0] == 201
    for port in replicas.replica_ports:
        assert request(port, "GET", "/scoring")[2] != pages[port][2], f"replica on {port} shows a stale board"
