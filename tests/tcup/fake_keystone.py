"""A tiny Keystone on loopback: version discovery, password login with a catalog, and a few service GETs.

Only for the error paths and the shape of discovery; the cloud tests run against the real devcloud.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "gAAAAAB-fake-token-value-0123456789"
PASSWORD = "right-password"


@dataclass
class FakeKeystone:
    """Settings and the base URL of a running fake."""

    url: str = ""
    roles: list[str] = field(default_factory=lambda: ["member", "reader"])
    identity_id: str | None = "0123456789abcdef0123456789abcdef"
    gets: list[str] = field(default_factory=list)

    def catalog(self) -> list[dict[str, Any]]:
        def service(kind: str, name: str, url: str, sid: str | None) -> dict[str, Any]:
            entry: dict[str, Any] = {
                "type": kind,
                "name": name,
                "endpoints": [
                    {"interface": i, "region_id": "R1", "region": "R1", "url": url, "id": f"ep-{kind}-{i}"}
                    for i in ("public", "internal")
                ],
            }
            if sid:
                entry["id"] = sid
            return entry

        return [
            service("identity", "keystone", f"{self.url}/v3", self.identity_id),
            service("image", "glance", f"{self.url}/image", "img"),
            service("object-store", "swift", f"{self.url}/swift/v1/AUTH_p1", "obj"),
        ]


@contextmanager
def fake_keystone(fake: FakeKeystone | None = None) -> Iterator[FakeKeystone]:
    """Run a fake Keystone until the block ends."""
    fake = fake or FakeKeystone()

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            fake.gets.append(self.path)
            answers: dict[str, object] = {
                "/v3": {
                    "version": {
                        "id": "v3.14",
                        "status": "stable",
                        "links": [{"rel": "self", "href": f"{fake.url}/v3/"}],
                    }
                },
                "/": {
                    "versions": {
                        "values": [
                            {"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": f"{fake.url}/v3/"}]}
                        ]
                    }
                },
                "/image/": {"versions": [{"id": "v2.15", "status": "CURRENT"}, {"id": "v2.9", "status": "SUPPORTED"}]},
                "/image/v2/info/import": {"import-methods": {"value": ["glance-direct", "web-download"]}},
                "/image/v2/schemas/image": {
                    "properties": {
                        "disk_format": {"enum": [None, "raw", "qcow2", "vhd", "ami"]},
                        "container_format": {"enum": [None, "ami", "bare", "ovf"]},
                    }
                },
                "/swift/info": {"swift": {"version": "2.38"}, "tempurl": {}, "object_versioning": {}},
            }
            path = self.path.rstrip("/") if self.path not in ("/", "/image/") else self.path
            if path in answers:
                self._send(200, answers[path])
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            password = body["auth"]["identity"]["password"]["user"]["password"]
            if self.path.rstrip("/") != "/v3/auth/tokens" or password != PASSWORD:
                message = "The request you have made requires authentication."
                self._send(401, {"error": {"code": 401, "message": message}})
                return
            token = {
                "methods": ["password"],
                "expires_at": "2099-01-01T00:00:00.000000Z",
                "user": {"id": "u1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
                "project": {"id": "p1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
                "roles": [{"id": f"r{i}", "name": r} for i, r in enumerate(fake.roles)],
                "catalog": fake.catalog(),
            }
            self._send(201, {"token": token}, {"X-Subject-Token": TOKEN})

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
