"""The real ``tcup-server serve`` (gunicorn) for a test: started on a free port, waited for, stopped."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO


@dataclass(frozen=True, slots=True)
class Served:
    """A running server: its port, process and the log of its stdout and stderr."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    """One GET on a connection of its own (the threaded workers keep connections alive)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def serve(
    env: Mapping[str, str], log: Path, args: Sequence[str] = (), *, port: int | None = None, module: str = "webapp.cli"
) -> Iterator[Served]:
    """``python -m <module> serve [args]`` with ``env`` over this process's environment, bound to
    ``port`` (a free one by default, through ``TCUP_BIND``), until ``/readyz`` answers 200 (90 s
    at most); stopped with SIGTERM on exit. ``args`` may hold ``--workers`` and the like."""
    port = port or free_port()
    full = {**os.environ, "TCUP_BIND": f"127.0.0.1:{port}", **env}
    full.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "serve", *args], env=full, stdout=out, stderr=subprocess.STDOUT, cwd=REPO
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if http_get(port, "/readyz", timeout=5)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("tcup-server serve did not start: " + log.read_text(errors="replace")[-2000:])
                time.sleep(0.2)
            yield Served(port, process, log)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
