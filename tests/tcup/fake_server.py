"""A real HTTP server on 127.0.0.1, port 0, answering from a script and recording every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """The answers to give, in order (the last one repeats), and the requests received."""

    answers: list[tuple[int, object]] = field(default_factory=lambda: [(201, {"test_id": "abc", "url": "u"})])
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    delays: list[float] = field(default_factory=list)  # seconds to wait before answering request i
    trickle: float | None = None  # send the answer one byte every this many seconds


@contextmanager
def serve(script: Script) -> Iterator[Script]:
    """Serve ``script`` until the block ends; ``script.url`` is the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            script.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
            index = min(len(script.requests) - 1, len(script.answers) - 1)
            status, payload = script.answers[index]
            data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
            if len(script.requests) <= len(script.delays):
                time.sleep(script.delays[len(script.requests) - 1])
            head = (
                f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode()
            try:
                if script.trickle is None:
                    self.wfile.write(head + data)
                    return
                for i in range(len(head + data)):
                    self.wfile.write((head + data)[i : i + 1])
                    self.wfile.flush()
                    time.sleep(script.trickle)
            except OSError:
                pass  # the client gave up

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    """The URL of a port nobody listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
