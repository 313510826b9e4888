"""Health and readiness probes, Prometheus metrics (also summed over gunicorn's workers), and the
structured request log with its request id and no secret."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.webapp.conftest import add_user, make_app
from tests.webapp.served import serve
from tests.webapp.signing import v1_body
from webapp.store.database import upgrade_database

REPO = Path(__file__).resolve().parents[2]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def request_lines() -> Iterator[list[str]]:
    handler = _Lines()
    logger = logging.getLogger("tcup.requests")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def test_healthz_needs_no_database_and_readyz_needs_a_migrated_one(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path}/new.sqlite", AUTO_MIGRATE=False)
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["title"] == "Not ready"
    assert "run tcup-server init-db" in answer.get_json()["detail"]
    from webapp.sessions import database

    upgrade_database(database(app).engine)
    assert client.get("/readyz").status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_readyz_says_when_the_database_does_not_answer() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = make_app(f"postgresql://nobody@127.0.0.1:{port}/none", AUTO_MIGRATE=False)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["detail"].startswith("the database does not answer (")
    assert "nobody" not in answer.get_data(as_text=True)


def test_metrics_count_requests_uploads_and_connections(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    assert client.post("/v1/results/", data=v1_body(["tempest.api.a.T.test_1"])).status_code == 201
    assert client.post("/v1/results/", data=b"{not json").status_code == 400
    assert client.post("/v2/runs", data=b"{}").status_code >= 400
    for _ in range(3):
        assert client.get("/v1/results").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    page = client.get("/metrics")
    assert page.status_code == 200 and page.content_type.startswith("text/plain")
    samples = _samples(page.get_data(as_text=True))
    assert _value(samples, "tcup_uploads_total", api="v1", outcome="accepted") == 1
    assert _value(samples, "tcup_uploads_total", api="v1", outcome="refused") == 1
    assert _value(samples, "tcup_uploads_total", api="v2", outcome="refused") == 1
    requests_total = "tcup_http_requests_total"
    assert _value(samples, requests_total, endpoint="/v1/results", method="GET", status="200") == 3
    assert _value(samples, requests_total, endpoint="/v1/results", method="POST", status="201") == 1
    assert _value(samples, requests_total, endpoint="<unmatched>", method="GET", status="404") == 1
    latency = "tcup_http_request_duration_seconds_count"
    assert _value(samples, latency, endpoint="/v1/results", method="GET", status="200") == 3
    assert ("tcup_db_connections_in_use", ()) in samples
    assert _value(samples, "tcup_db_connections_in_use") == 0  # every connection went back to the pool


def test_the_request_log_has_an_id_and_never_a_secret(sqlite_app: Flask, request_lines: list[str]) -> None:
    client = sqlite_app.test_client()
    user = add_user(sqlite_app, "alice")
    assert user.token
    answer = client.get(
        "/v1/profile?token=query-secret",
        headers={"Authorization": f"Bearer {user.token}", "Cookie": "session=cookie-secret", "X-Request-ID": "abc-123"},
    )
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == "abc-123"
    hostile = client.get("/v1/results", headers={"X-Request-ID": "forged line with spaces; and=more"})
    made_up = hostile.headers["X-Request-ID"]
    assert made_up != "forged line with spaces; and=more" and len(made_up) == 32
    client.post("/v1/results/", data=v1_body(["tempest.api.a.T.test_1"]), headers={"Authorization": "Bearer nope"})
    records = [json.loads(line) for line in request_lines]
    assert [r["request_id"] for r in records[:2]] == ["abc-123", made_up]
    first = records[0]
    assert first["path"] == "/v1/profile" and first["status"] == 200 and first["method"] == "GET"
    assert first["endpoint"] == "/v1/profile" and first["duration_ms"] >= 0
    text = "\n".join(request_lines)
    for secret in (user.token, "query-secret", "cookie-secret", "Bearer", "nope", "forged"):
        assert secret not in text


def test_probes_are_not_logged(sqlite_app: Flask, request_lines: list[str]) -> None:
    client = sqlite_app.test_client()
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200
    assert request_lines == []


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``python -m webapp serve`` configured by the environment alone (TCUP_WORKERS, TCUP_BIND)."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite", "TCUP_WORKERS": "3"}
    with serve(env, tmp_path / "serve.log", module="webapp") as server:
        yield server.url, server.log


def test_serve_sums_the_metrics_of_every_gunicorn_worker(gunicorn: tuple[str, Path]) -> None:
    url, log = gunicorn
    n = 40
    for i in range(n):
        answer = requests.get(f"{url}/v1/results", headers={"X-Request-ID": f"req-{i}"}, timeout=10)
        assert answer.status_code == 200 and answer.headers["X-Request-ID"] == f"req-{i}"
    samples = _samples(requests.get(f"{url}/metrics", timeout=10).text)
    assert _value(samples, "tcup_http_requests_total", endpoint="/v1/results", method="GET", status="200") == n
    time.sleep(0.5)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line["request_id"].startswith("req-")]
    assert sorted(line["request_id"] for line in mine) == sorted(f"req-{i}" for i in range(n))
    pids = {line["pid"] for line in mine}
    assert len(pids) >= 2, "the requests were all answered by one worker: the sum proves nothing"
    assert "(metrics in /tmp/tcup-metrics-" in log.read_text()
    assert "[ERROR]" not in log.read_text() and "Traceback" not in log.read_text()


def test_a_command_with_a_missing_metrics_folder_still_works(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/m.sqlite"}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "not" / "yet")
    done = subprocess.run(
        [sys.executable, "-m", "webapp", "init-db"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    assert "database at revision" in done.stdout


def test_behind_a_trusted_tls_proxy_logs_show_the_client_and_links_stay_public(
    tmp_path: Path, request_lines: list[str]
) -> None:
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "attacker.example",
        "X-Forwarded-For": "203.0.113.7",
    }
    body = v1_body(["tempest.api.a.T.test_1"])
    direct = make_app(f"sqlite:///{tmp_path}/a.sqlite").test_client().post("/v1/results/", data=body, headers=forwarded)
    assert direct.get_json()["url"].startswith("/results/")  # no PUBLIC_URL: relative, never the Host
    assert json.loads(request_lines[-1])["remote"] != "203.0.113.7"  # not trusted by default
    proxied = make_app(
        f"sqlite:///{tmp_path}/b.sqlite", TRUSTED_PROXIES=1, PUBLIC_URL="https://collector.example"
    ).test_client()
    answer = proxied.post("/v1/results/", data=body, headers=forwarded)
    # links come from PUBLIC_URL even behind a trusted proxy; the log shows the client's address
    assert answer.get_json()["url"].startswith("https://collector.example/results/")
    assert json.loads(request_lines[-1])["remote"] == "203.0.113.7"
