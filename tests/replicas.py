"""Service replicas behind a load balancer: N separate ``tcup-server serve`` processes over one
database, behind Debian's haproxy (round robin). Used by tests/deploy/test_replicas.py and
bench/bench_replicas.py.

Each replica is its own process tree (its own gunicorn master and workers), as separate
containers or hosts would be; they share nothing but the database.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from interop_model.wire import dumps_v1

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
REPLICA_HEADER = "x-replica"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, body: bytes | None = None, *, timeout: float = 60
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request on a new connection: status, headers (names in lower case), body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def upload_body(uploader: int, n: int) -> bytes:
    """A small distinct v1 upload (as refstack-client sends it): 5 own tests and 20 shared ones."""
    own = [f"tempest.api.replica.u{uploader:02d}.test_{n:02d}.T.test_{k}" for k in range(5)]
    shared = [f"tempest.api.shared.test_mod_{(uploader + n + k) % 9}.S.test_{k:02d}" for k in range(20)]
    results = [{"name": name} for name in own + shared]
    return dumps_v1({"cpid": f"replica-cloud-{uploader:02d}", "duration_seconds": n + 1, "results": results})


def _wait_http(port: int, path: str, process: subprocess.Popen[bytes] | None, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if request(port, "GET", path, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or (process is not None and process.poll() is not None):
            raise RuntimeError(f"nothing answers {path} on port {port}: {log.read_text()[-2000:]}")
        time.sleep(0.2)


@dataclass
class Replicas:
    """A running set: the balancer's port, each replica's port, the logs."""

    port: int
    replica_ports: list[int]
    logs: Path
    database_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def list_all(self, port: int | None = None) -> tuple[list[str], int]:
        """Every run id of ``GET /v1/results`` (all pages) through ``port``, and the total pages it reports."""
        port = port or self.port
        ids: list[str] = []
        page, total_pages = 1, 1
        while page <= total_pages:
            status, _, body = request(port, "GET", f"/v1/results?page={page}")
            assert status == 200, body
            listing: dict[str, Any] = json.loads(body)
            total_pages = listing["pagination"]["total_pages"]
            ids.extend(item["id"] for item in listing["results"])
            page += 1
        return ids, total_pages


def _start(command: list[str], env: dict[str, str], log: Path, stack: ExitStack) -> subprocess.Popen[bytes]:
    out: IO[bytes] = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    stack.callback(stop)
    return process


def haproxy_config(port: int, replica_ports: list[int]) -> str:
    servers = "\n".join(f"    server r{i} 127.0.0.1:{p} check inter 1s" for i, p in enumerate(replica_ports))
    return f"""global
    maxconn 2048

defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    option http-server-close

frontend collector
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-response set-header {REPLICA_HEADER} %s
{servers}
"""


@contextmanager
def serve_replicas(database_url: str, count: int, workdir: Path, *, workers: int = 1) -> Iterator[Replicas]:
    """Migrate the database once, start ``count`` replicas and haproxy in front of them."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": database_url, "TCUP_AUTO_MIGRATE": "false"}
    server = [sys.executable, "-m", "webapp.cli"]
    migrated = subprocess.run([*server, "init-db"], env=env, capture_output=True, text=True, timeout=300, check=False)
    if migrated.returncode != 0:
        raise RuntimeError(f"tcup-server init-db failed: {migrated.stdout}{migrated.stderr}")
    with ExitStack() as stack:
        replicas = Replicas(
            port=free_port(), replica_ports=[free_port() for _ in range(count)], logs=workdir, database_url=database_url
        )
        for i, port in enumerate(replicas.replica_ports):
            command = [*server, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
            replicas.processes.append(_start(command, env, workdir / f"replica-{i}.log", stack))
        for i, (port, process) in enumerate(zip(replicas.replica_ports, replicas.processes, strict=True)):
            _wait_http(port, "/readyz", process, workdir / f"replica-{i}.log")
        config = workdir / "haproxy.cfg"
        config.write_text(haproxy_config(replicas.port, replicas.replica_ports))
        balancer = _start([HAPROXY, "-f", str(config), "-db"], env, workdir / "haproxy.log", stack)
        _wait_http(replicas.port, "/v1/results", balancer, workdir / "haproxy.log")
        yield replicas
