"""The processes of a devcloud, how to prepare their state, and how to tell they are healthy."""

from __future__ import annotations

import base64
import os
import socket
import sqlite3
import subprocess
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import requests

from tcup.devcloud import swift
from tcup.devcloud.configs import (
    REGION,
    CloudContext,
    CloudPaths,
    write_glance_conf,
    write_keystone_conf,
    write_placement_conf,
    write_private,
)
from tcup.devcloud.layout import HOST
from tcup.devcloud.processes import ProcessRecord
from tcup.errors import DevcloudError

__all__ = [
    "UWSGI_OPTIONS",
    "Service",
    "accepts",
    "answers",
    "prepare_state",
    "run_steps",
    "service_plan",
    "tail",
    "wait_healthy",
]

# shared by every uwsgi-served API. "Connection: close" because keystoneauth otherwise reuses
# connections uwsgi has closed (random ConnectionResetError); one process with one thread each
# because SQLite allows one writer and Keystone's in-memory cache must stay coherent.
# fmt: off
UWSGI_OPTIONS = (
    "--module", "tcup_wsgi:application",  # loads $TCUP_WSGI_APP; see tcup/devcloud/data/tcup_wsgi.py
    "--master", "--die-on-term", "--need-app", "--lazy-apps", "--enable-threads",
    "--processes", "1", "--threads", "1",
    "--worker-reload-mercy", "1",  # a worker still busy 1 s after the stop signal is killed
    "--buffer-size", "65535", "--add-header", "Connection: close",
    "--vacuum", "--disable-logging", "--log-4xx", "--log-5xx",
)
# fmt: on


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """One long-running process of the devcloud."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    health_url: str | None = None  # answers with HTTP < 500 once ready
    health_tcp: int | None = None  # without a health URL: accepts TCP connections once ready
    stop_signal: str = "TERM"

    def is_healthy(self) -> bool | None:
        """Tell whether the service answers; None when it has no way to tell (a daemon)."""
        if self.health_url is not None:
            return answers(self.health_url)
        if self.health_tcp is not None:
            return accepts(self.health_tcp)
        return None


# Glance reads chunked uploads (glanceclient's, as Nova's snapshots and Cinder's volume uploads
# send them) with uwsgi's chunked reader, which refuses any chunk of 1 MB or more by default: that
# answered HTTP 500 to a 1 MiB snapshot. 64 MiB is a bound on one chunk, not a buffer.
_GLANCE_OPTIONS = ("--chunked-input-limit", str(64 * 1024 * 1024), "--socket-timeout", "60")


def _uwsgi(ctx: CloudPaths, name: str, port: int, app: str, health_url: str) -> Service:
    extra = _GLANCE_OPTIONS if name == "glance" else ()
    return Service(
        name=name,
        argv=[str(ctx.venv / "bin" / "uwsgi"), "--http-socket", f"{HOST}:{port}", *UWSGI_OPTIONS, *extra],
        # each service reads <name>.conf (glance: glance-api.conf) from this directory
        env={
            f"OS_{name.upper()}_CONFIG_DIR": str(ctx.layout.service_dir(name)),
            "TCUP_WSGI_APP": app,
            "PYTHONPATH": str(ctx.layout.python_dir),
        },
        port=port,
        health_url=health_url,
        # with --die-on-term uwsgi stops gracefully on SIGTERM (2-3 s); SIGINT stops it at once
        stop_signal="INT",
    )


def service_plan(ctx: CloudPaths) -> list[Service]:
    """Return every process of the devcloud in start order, with its health URL."""
    ports = ctx.ports
    plan = [
        _uwsgi(ctx, "keystone", ports.keystone, "keystone.wsgi.api:application", f"{ctx.keystone_url}/v3"),
        _uwsgi(ctx, "glance", ports.glance, "glance.wsgi.api:application", f"{ctx.glance_url}/healthcheck"),
        _uwsgi(ctx, "placement", ports.placement, "placement.wsgi.api:application", f"{ctx.placement_url}/"),
    ]
    swift_env = {"PYTHONPATH": str(ctx.layout.python_dir)}
    for proc in swift.swift_processes(ctx):
        plan.append(
            Service(
                name=proc.name,
                argv=swift.serve_command(ctx, proc),
                env=swift_env,
                port=proc.health_port,
                health_url=f"http://{HOST}:{proc.health_port}/healthcheck" if proc.health_port else None,
            )
        )
    return plan


def tail(path: Path | str, lines: int = 12) -> str:
    """Return the last lines of a log file, indented, for an error message."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "    (no log written)"
    return "\n".join("    " + line for line in text[-lines:])


def run_steps(
    ctx: CloudContext, log_name: str, steps: Sequence[Sequence[str]], extra_env: Mapping[str, str] | None = None
) -> None:
    """Run one-shot commands in order, output appended to ``logs/<log_name>.log``.

    :raises DevcloudError: when one fails, with the end of its log.
    """
    log_file = ctx.layout.logs / f"{log_name}.log"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(extra_env or {})}
    if log_name == "keystone-manage":  # bootstrap reads the admin password from here
        env["OS_BOOTSTRAP_PASSWORD"] = ctx.secrets.admin_password
    with open(log_file, "ab") as log:
        for step in steps:
            log.write(f"+ {' '.join(step)}\n".encode())
            log.flush()
            proc = subprocess.run(list(step), stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
            if proc.returncode != 0:
                raise DevcloudError(
                    f"'{Path(step[0]).name} {' '.join(step[1:4])}' failed (exit {proc.returncode}); "
                    f"read {log_file}:\n{tail(log_file)}"
                )


def _install_helpers(ctx: CloudContext) -> None:
    """Copy the helper modules the services run (tcup_wsgi, tcup_swift_helper) into state/python."""
    ctx.layout.python_dir.mkdir(parents=True, exist_ok=True)
    for name in ("tcup_wsgi.py", swift.HELPER):
        source = resources.files("tcup.devcloud").joinpath("data", name)
        (ctx.layout.python_dir / name).write_text(source.read_text())


def _use_wal(database: Path) -> None:
    # WAL: readers never block the single writer (Glance runs import tasks in a thread)
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def _write_key_repository(path: Path) -> None:
    """Create a Fernet key repository as ``keystone-manage fernet_setup`` does, without its 5 s start.

    Keys are 32 random bytes, urlsafe-base64; file ``0`` is the staged key, the highest number
    the primary one.
    """
    path.mkdir(mode=0o700, exist_ok=True)
    for index in ("0", "1"):
        write_private(path / index, base64.urlsafe_b64encode(os.urandom(32)).decode())


def _needs_sync(ctx: CloudContext, service: str, fresh: bool) -> bool:
    marker = ctx.layout.service_dir(service) / "synced-with"
    return fresh or not marker.is_file() or marker.read_text() != str(ctx.venv)


def prepare_state(ctx: CloudContext, *, fresh: bool) -> None:
    """Write every configuration file, then create or upgrade the databases, keys and rings.

    The one-shot commands of the four services run in parallel (each service in order). On a
    kept state they are skipped, unless the services venv changed since (schema upgrades).

    :param fresh: True the first time (keys, metadefs, rings and the bootstrap are created once).
    :raises DevcloudError: when a command fails; the message names its log.
    """
    bin_dir = ctx.venv / "bin"
    confs = {
        "keystone": write_keystone_conf(ctx),
        "glance": write_glance_conf(ctx),
        "placement": write_placement_conf(ctx),
    }
    swift.write_swift_configs(ctx)
    _install_helpers(ctx)
    keystone_dir = ctx.layout.service_dir("keystone")
    if fresh:
        _write_key_repository(keystone_dir / "fernet-keys")
        _write_key_repository(keystone_dir / "credential-keys")
    steps: dict[str, list[list[str]]] = {}
    if _needs_sync(ctx, "keystone", fresh):
        manage = [str(bin_dir / "keystone-manage"), "--config-file", str(confs["keystone"])]
        url = f"{ctx.keystone_url}/v3"
        # the admin password comes from $OS_BOOTSTRAP_PASSWORD, never the command line
        bootstrap = [
            "bootstrap",
            "--bootstrap-region-id",
            REGION,
            "--bootstrap-admin-url",
            url,
            "--bootstrap-public-url",
            url,
            "--bootstrap-internal-url",
            url,
        ]
        steps["keystone"] = [[*manage, "db_sync"], [*manage, *bootstrap]]
    if _needs_sync(ctx, "glance", fresh):
        manage = [str(bin_dir / "glance-manage"), "--config-file", str(confs["glance"])]
        steps["glance"] = [[*manage, "db_sync"]]
        if fresh:  # metadata definitions (resource types, namespaces) for the metadefs API tests
            steps["glance"].append([*manage, "db_load_metadefs", str(ctx.venv / "etc/glance/metadefs")])
    if _needs_sync(ctx, "placement", fresh):
        steps["placement"] = [
            [str(bin_dir / "placement-manage"), "--config-file", str(confs["placement"]), "db", "sync"]
        ]
    if fresh or not (ctx.layout.service_dir("swift") / "object.ring.gz").is_file():
        steps["swift"] = [swift.rings_command(ctx)]
    with ThreadPoolExecutor(max_workers=max(len(steps), 1)) as pool:
        futures = [pool.submit(run_steps, ctx, f"{name}-manage", commands) for name, commands in steps.items()]
        for future in futures:
            future.result()
    for service in confs:
        _use_wal(ctx.layout.service_dir(service) / f"{service}.db")
        if service in steps:
            (ctx.layout.service_dir(service) / "synced-with").write_text(str(ctx.venv))


def accepts(port: int) -> bool:
    """Tell whether something accepts TCP connections on the loopback ``port``."""
    try:
        with socket.create_connection((HOST, port), timeout=2):
            return True
    except OSError:
        return False


def answers(url: str) -> bool:
    """Tell whether ``url`` answers with an HTTP status below 500."""
    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.RequestException:
        return False


def wait_healthy(pending: list[tuple[Service, ProcessRecord]], *, timeout: float = 180.0) -> None:
    """Wait until every service answers its health URL; fail fast when one dies.

    :raises DevcloudError: naming the service and its log when it exits or never answers.
    """
    deadline = time.monotonic() + timeout
    waiting = list(pending)
    while waiting:
        for service, record in list(waiting):
            if not record.is_alive():
                raise DevcloudError(
                    f"{service.name} exited while starting; read {record.log_file} "
                    f"(and {service.name}-app.log beside it):\n{tail(record.log_file)}"
                )
            if service.is_healthy() is not False:
                waiting.remove((service, record))
        if waiting and time.monotonic() > deadline:
            service, record = waiting[0]
            where = service.health_url or f"port {service.health_tcp}"
            raise DevcloudError(
                f"{service.name} did not answer {where} within {timeout:.0f} s; "
                f"read {record.log_file}:\n{tail(record.log_file)}"
            )
        if waiting:
            time.sleep(0.25)
