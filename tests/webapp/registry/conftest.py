"""Fixtures of the registry tests: the collector served over real HTTP, and the four parties calling it.

``http`` serves the ``app`` fixture (SQLite and PostgreSQL) with ``make_server("127.0.0.1", 0,
app)`` in a thread; :class:`Http` sends requests as anonymous, another user, the owner (who
becomes a vendor admin in the tests) or the Foundation, and signs uploads with their keys.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from tests.webapp.conftest import Parties, Party
from tests.webapp.signing import sign, v1_body

NAMES = [
    "tempest.api.compute.servers.test_create_server.ServersTestJSON.test_host_name_is_same_as_server_name",
    "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token",
]


def check_error(response: requests.Response, status: int, title: str | None = None) -> dict[str, Any]:
    """The response is the JSON error envelope with ``status`` (and ``title``, when given)."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers["Content-Type"]
    body = response.json()
    assert set(body) == {"code", "title", "detail", "errors"}, body
    assert body["code"] == status and body["title"] and body["detail"] and body["errors"]
    if title is not None:
        assert body["title"] == title, body
    return body  # type: ignore[no-any-return]


@dataclass
class Http:
    """A served app and its callers."""

    url: str
    app: Flask
    parties: Parties

    def call(
        self,
        party: Party,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """One request as ``party``; ``body`` is sent as JSON, ``raw`` as it is."""
        sent = {**party.headers, **(headers or {})}
        if body is not None:
            raw = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        return requests.request(method, self.url + path, data=raw, headers=sent, timeout=30)

    def ok(self, party: Party, method: str, path: str, body: Any = None, *, status: int = 200) -> Any:
        """The JSON answer of a request expected to succeed with ``status``."""
        response = self.call(party, method, path, body)
        assert response.status_code == status, (method, path, response.status_code, response.text[:500])
        return response.json() if response.content else None

    def upload(self, party: Party | None, cpid: str, names: list[str] | None = None) -> str:
        """A run uploaded signed by ``party``'s key (anonymously with None); its id."""
        body = v1_body(names or NAMES, cpid=cpid)
        headers = sign(body, party.key) if party is not None and party.key is not None else {}
        headers.setdefault("Content-Type", "application/json")
        response = requests.post(f"{self.url}/v1/results", data=body, headers=headers, timeout=30)
        assert response.status_code == 201, response.text
        return str(response.json()["test_id"])

    def set_meta(self, party: Party, run_id: str, key: str, value: str) -> None:
        """POST one meta key (a raw text body, as RefStack's UI sent it)."""
        response = self.call(party, "POST", f"/v1/results/{run_id}/meta/{key}", raw=value)
        assert response.status_code == 201, response.text


@pytest.fixture
def http(app: Flask, parties: Parties) -> Iterator[Http]:
    """``app`` served on a free loopback port for the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="registry-http", daemon=True)
    thread.start()
    try:
        yield Http(f"http://127.0.0.1:{server.server_port}", app, parties)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
