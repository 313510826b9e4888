"""Bring a devcloud up, take it down, and report how it is: the functions behind the CLI."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from tcup.devcloud.client_files import MEMBER, write_client_files
from tcup.devcloud.configs import CloudContext, CloudPaths, Secrets, write_private
from tcup.devcloud.install import ensure_services_venv
from tcup.devcloud.layout import DEFAULT_PORT_BASE, HOST, Layout, Ports
from tcup.devcloud.processes import ProcessRecord, load_records, session_rss_kib, start_process, stop_process
from tcup.devcloud.provision import KeystoneAdmin, ServiceEndpoint, default_accounts, get_token, provision_keystone
from tcup.devcloud.services import Service, answers, prepare_state, service_plan, wait_healthy
from tcup.errors import DevcloudError

__all__ = ["DevcloudStatus", "ServiceStatus", "UpResult", "devcloud_status", "start_devcloud", "stop_devcloud"]

Echo = Callable[[str], None]
_SERVICE_DIRS = ("keystone", "glance", "placement", "swift")
_READY_MARK = "ready"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpResult:
    """What ``up`` did: the contents of devcloud.json, timing and memory."""

    already_running: bool
    info: dict[str, Any]
    seconds: float
    rss_mib: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceStatus:
    """One process: is the recorded pid alive, does its port answer."""

    name: str
    pid: int | None
    alive: bool
    port: int | None
    answering: bool | None  # None: no health URL (a daemon)
    rss_kib: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DevcloudStatus:
    """Every process of one devcloud."""

    dir: str
    running: bool  # every process alive and every port answering
    services: list[ServiceStatus]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def _read_port_base(layout: Layout, requested: int | None) -> int:
    """Return the port base: the one the state was made with, else ``requested`` or the default."""
    recorded = _recorded_port_base(layout)
    if recorded is not None:
        if requested is not None and requested != recorded:
            raise DevcloudError(
                f"the devcloud in {layout.root} was created with port base {recorded}, not {requested} "
                f"(its Swift rings and catalog hold the ports); run `tcup devcloud up --port-base "
                f"{recorded}`, or `tcup devcloud down --purge` first to start afresh"
            )
        return recorded
    return requested if requested is not None else DEFAULT_PORT_BASE


def _recorded_port_base(layout: Layout) -> int | None:
    """Return the port base ``state/settings.json`` records, None when there is no state yet."""
    if not layout.settings_file.is_file():
        return None
    try:
        return int(json.loads(layout.settings_file.read_text())["port_base"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DevcloudError(
            f"cannot read {layout.settings_file} ({exc}); repair it, or run `tcup devcloud down --purge "
            f"--dir {layout.root}` to start afresh"
        ) from exc


def _ports(base: int) -> Ports:
    try:
        return Ports(base)
    except ValueError as exc:
        raise DevcloudError(f"{exc}; choose a --port-base with 40 free ports above it") from exc


def _check_ports_free(ports: Ports) -> None:
    busy = []
    for name, port in ports.as_dict().items():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, port))
            except OSError:
                busy.append(f"{port} ({name})")
    if busy:
        raise DevcloudError(
            f"port(s) already in use on {HOST}: {', '.join(busy)}; stop what uses them or choose other "
            "ports with --port-base (needs 40 free ports from there; state made with another base "
            "needs `tcup devcloud down --purge`)"
        )


def _context(layout: Layout, ports: Ports, venv: Path) -> CloudContext:
    return CloudContext(layout=layout, ports=ports, secrets=Secrets.load_or_create(layout.secrets_file), venv=venv)


def _smoke_check(ctx: CloudContext) -> None:
    """As the non-admin member: get a token, list images, read the Swift account."""
    hint = str(ctx.layout.logs)
    token, body = get_token(
        ctx.keystone_url,
        username=MEMBER.username,
        password=ctx.secrets.user_password,
        project=MEMBER.project,
        log_hint=f"{hint}/keystone-app.log",
    )
    project_id = body["project"]["id"]
    checks = [
        ("glance", "GET", f"{ctx.glance_url}/v2/images"),
        ("swift-proxy", "HEAD", f"{ctx.swift_url}/v1/AUTH_{project_id}"),
    ]
    for name, method, url in checks:
        try:
            resp = requests.request(method, url, headers={"X-Auth-Token": token}, timeout=30)
        except requests.RequestException as exc:
            raise DevcloudError(f"smoke check {method} {url} failed: {exc}; read {hint}/{name}.log") from exc
        if resp.status_code >= 300:
            raise DevcloudError(
                f"smoke check {method} {url} answered HTTP {resp.status_code}; read {hint}/{name}.log "
                f"and {hint}/{name.split('-')[0]}-app.log"
            )


def _running_records(layout: Layout) -> tuple[list[ProcessRecord], list[ProcessRecord]]:
    records = load_records(layout.run)
    return [r for r in records if r.is_alive()], [r for r in records if not r.is_alive()]


def start_devcloud(*, root: Path, port_base: int | None = None, echo: Echo | None = None) -> UpResult:
    """Install if needed, configure and start the devcloud in ``root``; idempotent.

    :param port_base: first of 40 loopback ports (default 25000, or the one the state was made with).
    :param echo: called with one-line progress messages (never passwords).
    :raises DevcloudError: when any step fails; what was started by this call is stopped again.
    """
    started_at = time.monotonic()

    def say(message: str) -> None:
        if echo is not None:
            echo(f"{message} [{time.monotonic() - started_at:.0f} s]")

    layout = Layout(root.expanduser().absolute())
    layout.create()
    ports = _ports(_read_port_base(layout, port_base))
    alive, dead = _running_records(layout)
    if alive and not dead and (layout.state / _READY_MARK).is_file() and layout.info_file.is_file():
        info = json.loads(layout.info_file.read_text())
        rss = sum(session_rss_kib(r) for r in alive) // 1024
        return UpResult(already_running=True, info=info, seconds=time.monotonic() - started_at, rss_mib=rss)
    if alive:
        raise DevcloudError(
            f"the devcloud in {layout.root} is partly running ({', '.join(r.name for r in alive)} alive, "
            f"{', '.join(r.name for r in dead) or 'start-up unfinished'}); run `tcup devcloud down "
            f"--dir {layout.root}` and then up again"
        )
    for record in dead:
        stop_process(record, run_dir=layout.run)  # forgets the stale record
    _check_ports_free(ports)
    venv = ensure_services_venv(echo=say)
    fresh = not (layout.state / _READY_MARK).is_file()
    if fresh:
        for name in _SERVICE_DIRS:
            shutil.rmtree(layout.service_dir(name), ignore_errors=True)
    for name in _SERVICE_DIRS:
        layout.service_dir(name).mkdir(parents=True, exist_ok=True, mode=0o700)
    layout.settings_file.write_text(json.dumps({"port_base": ports.base}) + "\n")
    ctx = _context(layout, ports, venv)
    say(f"{'creating' if fresh else 'reusing'} state in {layout.state}")
    prepare_state(ctx, fresh=fresh)
    try:
        info = _start_and_provision(ctx, say)
    except BaseException:
        stop_devcloud(root=layout.root)
        raise
    (layout.state / _READY_MARK).write_text("")
    alive, _ = _running_records(layout)
    rss = sum(session_rss_kib(r) for r in alive) // 1024
    return UpResult(already_running=False, info=info, seconds=time.monotonic() - started_at, rss_mib=rss)


def _start(ctx: CloudContext, service: Service) -> ProcessRecord:
    env = {**_base_env(), **service.env}
    return start_process(
        name=service.name,
        argv=service.argv,
        run_dir=ctx.layout.run,
        log_file=ctx.layout.logs / f"{service.name}.log",
        env=env,
        cwd=ctx.layout.state,
        stop_signal=service.stop_signal,
    )


def _base_env() -> dict[str, str]:
    # a small, predictable environment: no OS_* credentials or virtualenv of the caller leak in
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME")
    return {key: os.environ[key] for key in keep if key in os.environ} | {"PYTHONWARNINGS": "ignore"}


def _start_and_provision(ctx: CloudContext, say: Echo) -> dict[str, Any]:
    plan = service_plan(ctx)
    started = [(service, _start(ctx, service)) for service in plan]
    say("started " + ", ".join(service.name for service in plan) + "; waiting for Keystone")
    wait_healthy(started[:1])
    accounts = default_accounts()
    marker = ctx.layout.service_dir("keystone") / "provisioned"
    plan_text = json.dumps({"accounts": [asdict(a) for a in accounts], "ports": ctx.ports.as_dict()}, sort_keys=True)
    if not marker.is_file() or marker.read_text() != plan_text:
        say("provisioning Keystone: roles, service users, catalog, test accounts")
        admin = KeystoneAdmin(
            ctx.keystone_url,
            admin_password=ctx.secrets.admin_password,
            log_hint=str(ctx.layout.logs / "keystone-app.log"),
        )
        endpoints = [
            ServiceEndpoint(name="glance", type="image", url=ctx.glance_url),
            ServiceEndpoint(name="placement", type="placement", url=ctx.placement_url),
            ServiceEndpoint(name="swift", type="object-store", url=f"{ctx.swift_url}/v1/AUTH_%(project_id)s"),
        ]
        provision_keystone(
            admin,
            service_password=ctx.secrets.service_password,
            user_password=ctx.secrets.user_password,
            endpoints=endpoints,
            accounts=accounts,
        )
        write_private(marker, plan_text)
    say("waiting for Glance, Placement and Swift")
    wait_healthy(started[1:])
    _smoke_check(ctx)
    return write_client_files(ctx, accounts)


def stop_devcloud(*, root: Path, purge: bool = False) -> list[str]:
    """Stop the processes recorded in ``root/run`` (only those); optionally delete ``root``.

    :returns: the names of the processes that were running.
    """
    layout = Layout(root.expanduser().absolute())
    records = {record.name: record for record in load_records(layout.run)}
    # all at once: each takes up to ~1 s to stop, and nothing is left that could call another
    names = sorted(records)
    with ThreadPoolExecutor(max_workers=max(len(names), 1)) as pool:
        results = list(pool.map(lambda name: stop_process(records[name], run_dir=layout.run), names))
    stopped = [name for name, was_running in zip(names, results, strict=True) if was_running]
    if purge and layout.root.exists():
        if not (layout.state.is_dir() or layout.run.is_dir()):
            raise DevcloudError(f"{layout.root} does not look like a devcloud directory; not deleting it")
        shutil.rmtree(layout.root)
    return stopped


def devcloud_status(*, root: Path) -> DevcloudStatus:
    """Report every process of the devcloud in ``root``: pid alive, port answering."""
    layout = Layout(root.expanduser().absolute())
    records = {record.name: record for record in load_records(layout.run)}
    services: list[ServiceStatus] = []
    base = _recorded_port_base(layout)
    if base is not None:
        ports = _ports(base)
        paths = CloudPaths(layout=layout, ports=ports, venv=Path("/nonexistent"))  # venv not needed
        for service in service_plan(paths):
            record = records.get(service.name)
            alive = record is not None and record.is_alive()
            answering = None
            if service.health_url is not None:
                answering = answers(service.health_url)
            services.append(
                ServiceStatus(
                    name=service.name,
                    pid=record.pid if record else None,
                    alive=alive,
                    port=service.port,
                    answering=answering,
                    rss_kib=session_rss_kib(record) if record and alive else 0,
                )
            )
    running = bool(services) and all(s.alive and s.answering is not False for s in services)
    return DevcloudStatus(dir=str(layout.root), running=running, services=services)
