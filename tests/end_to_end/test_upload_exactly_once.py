"""Exactly-once uploads end to end: the real collector on a loopback port, the real uploader, and a
first answer that arrives only after the client's read timeout, so the client resends the same POST.

Nothing is mocked. The one addition is a WSGI middleware around the real app that, for the first
upload only, lets the app store the run and then holds the finished answer back for longer than the
client's read timeout: a delay on the wire, as a slow proxy or a loaded server would cause.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from tcup.uploader import RetryPolicy, upload_run
from tests.webapp.signing import v1_body

READ_TIMEOUT = 1.0  # the client's; the first answer is held back for longer than this
HOLD_BACK = READ_TIMEOUT * 4
NAMES = ["tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass
class SlowFirstAnswer:
    """Around the real app: record every upload's Idempotency-Key, and answer the first upload late.

    The app has fully handled the first request (the run is committed) before the delay starts;
    only the answer's delivery is late. It is a delay, not a mock.
    """

    app: WsgiApp
    keys: list[str | None] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        upload = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].rstrip("/") == "/v1/results"
        if not upload:
            return self.app(environ, start_response)
        with self.lock:
            self.keys.append(environ.get("HTTP_IDEMPOTENCY_KEY"))
            first = len(self.keys) == 1
        answer = self.app(environ, start_response)
        if not first:
            return answer
        try:
            body = b"".join(answer)  # the app has run to the end: the run is stored
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        self.released.wait(HOLD_BACK)  # longer than the client waits for a byte
        return [body]


@dataclass
class Served:
    url: str
    app: Any
    wire: SlowFirstAnswer

    def runs_listed(self) -> list[str]:
        """The ids GET /v1/results lists (one page is enough for the few runs of these tests)."""
        response = requests.get(f"{self.url}/v1/results", timeout=10)
        response.raise_for_status()
        return [item["id"] for item in response.json()["results"]]

    def runs_in_db(self) -> int:
        from webapp.sessions import database
        from webapp.store.tables import Run

        with database(self.app).sessions() as sess:
            return sess.scalar(select(func.count()).select_from(Run)) or 0


@pytest.fixture
def served(tmp_path: Any) -> Iterator[Served]:
    """The collector (``create_app`` over SQLite) served by werkzeug in a thread, behind the delay."""
    webapp = pytest.importorskip("webapp", reason="the collector service (webapp) is not installed")
    from werkzeug.serving import make_server

    from webapp.sessions import database

    app = webapp.create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/tcup.sqlite", "TESTING": True})
    wire = SlowFirstAnswer(app.wsgi_app)
    app.wsgi_app = wire
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", app, wire)
    finally:
        wire.released.set()
        server.shutdown()
        thread.join(10)
        server.server_close()
        database(app).engine.dispose()


def test_a_retried_upload_after_a_read_timeout_is_stored_once(served: Served) -> None:
    policy = RetryPolicy(deadline=60, connect_timeout=5, read_timeout=READ_TIMEOUT, retries=3, backoff=0.1)
    receipt = upload_run(v1_body(NAMES), server=served.url, policy=policy)

    assert receipt.attempts >= 2 and len(served.wire.keys) >= 2  # the client did time out and resend
    assert served.wire.keys[0] and len(set(served.wire.keys)) == 1  # every copy carried the same key
    assert served.runs_listed() == [receipt.test_id]  # one run, and it is the one the client reports
    assert served.runs_in_db() == 1


def test_without_the_key_each_copy_is_a_new_run(served: Served) -> None:
    """The check above can fail: the same body POSTed twice without Idempotency-Key makes two runs."""
    body, url = v1_body(NAMES), f"{served.url}/v1/results"
    served.wire.released.set()  # no delay needed here
    first = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    second = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert first.status_code == second.status_code == 201
    assert served.wire.keys == [None, None]
    assert sorted(served.runs_listed()) == sorted({first.json()["test_id"], second.json()["test_id"]})
    assert served.runs_in_db() == 2
