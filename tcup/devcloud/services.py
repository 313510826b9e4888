"""The processes of a devcloud, how to prepare their state, and how to tell they are healthy."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tcup.devcloud import swift
from tcup.devcloud.configs import (
    REGION,
    CloudContext,
    CloudPaths,
    current_user,
    write_glance_conf,
    write_keystone_conf,
    write_placement_conf,
)
from tcup.devcloud.layout import HOST
from tcup.devcloud.processes import ProcessRecord
from tcup.errors import DevcloudError

__all__ = ["STOP_ORDER", "Service", "answers", "prepare_state", "service_plan", "tail", "wait_healthy"]

# shared by every uwsgi-served API. "Connection: close" because keystoneauth otherwise reuses
# connections uwsgi has closed (random ConnectionResetError); one process with one thread each
# because SQLite allows one writer and Keystone's in-memory cache must stay coherent.
_UWSGI_OPTIONS = (
    "--master",
    "--die-on-term",
    "--need-app",
    "--lazy-apps",
    "--enable-threads",
    "--processes",
    "1",
    "--threads",
    "1",
    "--buffer-size",
    "65535",
    "--add-header",
    "Connection: close",
    "--vacuum",
    "--disable-logging",
    "--log-4xx",
    "--log-5xx",
)

# stop order: front ends first, identity last
STOP_ORDER = (
    "swift-proxy",
    "glance",
    "placement",
    "swift-container-sync",
    "swift-container-updater",
    "swift-object",
    "swift-container",
    "swift-account",
    "keystone",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    """One long-running process of the devcloud."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    health_url: str | None = None  # answers with HTTP < 500 once ready


def _uwsgi(ctx: CloudPaths, name: str, port: int, module: str, health_url: str) -> Service:
    return Service(
        name=name,
        argv=[str(ctx.venv / "bin" / "uwsgi"), "--http-socket", f"{HOST}:{port}", "--module", module, *_UWSGI_OPTIONS],
        # each service reads <name>.conf (glance: glance-api.conf) from this directory
        env={f"OS_{name.upper()}_CONFIG_DIR": str(ctx.layout.service_dir(name))},
        port=port,
        health_url=health_url,
    )


def service_plan(ctx: CloudPaths) -> list[Service]:
    """Return every process of the devcloud in start order, with its health URL."""
    ports = ctx.ports
    plan = [
        _uwsgi(ctx, "keystone", ports.keystone, "keystone.wsgi.api:application", f"{ctx.keystone_url}/v3"),
        _uwsgi(ctx, "glance", ports.glance, "glance.wsgi.api:application", f"{ctx.glance_url}/healthcheck"),
        _uwsgi(ctx, "placement", ports.placement, "placement.wsgi.api:application", f"{ctx.placement_url}/"),
    ]
    swift_env = {"PYTHONPATH": str(ctx.layout.service_dir("swift"))}
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


def _run_steps(ctx: CloudContext, log_name: str, steps: Sequence[Sequence[str]]) -> None:
    log_file = ctx.layout.logs / f"{log_name}.log"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OS_BOOTSTRAP_PASSWORD": ctx.secrets.admin_password}
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


def _use_wal(database: Path) -> None:
    # WAL: readers never block the single writer (Glance runs import tasks in a thread)
    with closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def prepare_state(ctx: CloudContext, *, fresh: bool) -> None:
    """Write every configuration file, then create or upgrade the databases, keys and rings.

    The one-shot commands of the four services run in parallel (each service in order).

    :param fresh: True the first time (keys, metadefs, rings and the bootstrap are created once).
    :raises DevcloudError: when a command fails; the message names its log.
    """
    bin_dir = ctx.venv / "bin"
    keystone_conf = write_keystone_conf(ctx)
    glance_conf = write_glance_conf(ctx)
    placement_conf = write_placement_conf(ctx)
    swift.write_swift_configs(ctx)
    keystone_dir = ctx.layout.service_dir("keystone")
    for sub in ("fernet-keys", "credential-keys"):
        (keystone_dir / sub).mkdir(mode=0o700, exist_ok=True)
    user = ["--keystone-user", current_user(), "--keystone-group", current_user()]
    manage = [str(bin_dir / "keystone-manage"), "--config-file", str(keystone_conf)]
    keystone_steps = [[*manage, "db_sync"]]
    if fresh:
        url = f"{ctx.keystone_url}/v3"
        keystone_steps += [
            [*manage, "fernet_setup", *user],
            [*manage, "credential_setup", *user],
            [
                *manage,
                "bootstrap",
                "--bootstrap-admin-url",
                url,
                "--bootstrap-public-url",
                url,
                "--bootstrap-internal-url",
                url,
                "--bootstrap-region-id",
                REGION,
            ],
        ]
    glance_manage = [str(bin_dir / "glance-manage"), "--config-file", str(glance_conf)]
    glance_steps = [[*glance_manage, "db_sync"]]
    if fresh:
        # metadata definitions (resource types, namespaces) for the metadefs API tests
        glance_steps.append([*glance_manage, "db_load_metadefs", str(ctx.venv / "etc/glance/metadefs")])
    placement_steps = [[str(bin_dir / "placement-manage"), "--config-file", str(placement_conf), "db", "sync"]]
    jobs: list[tuple[str, list[list[str]]]] = [
        ("keystone-manage", keystone_steps),
        ("glance-manage", glance_steps),
        ("placement-manage", placement_steps),
    ]
    if fresh or not (ctx.layout.service_dir("swift") / "object.ring.gz").is_file():
        jobs.append(("swift-rings", [swift.rings_command(ctx)]))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(_run_steps, ctx, name, steps) for name, steps in jobs]
        for future in futures:
            future.result()
    for service in ("keystone", "glance", "placement"):
        _use_wal(ctx.layout.service_dir(service) / f"{service}.db")


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
            if service.health_url is None or answers(service.health_url):
                waiting.remove((service, record))
        if waiting and time.monotonic() > deadline:
            service, record = waiting[0]
            raise DevcloudError(
                f"{service.name} did not answer {service.health_url} within {timeout:.0f} s; "
                f"read {record.log_file}:\n{tail(record.log_file)}"
            )
        if waiting:
            time.sleep(0.25)
