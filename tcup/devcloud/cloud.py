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

from tcup.devcloud import backing, platform
from tcup.devcloud.client_files import MEMBER, write_client_files
from tcup.devcloud.configs import CloudContext, CloudPaths, Secrets, write_private
from tcup.devcloud.install import ensure_services_venv
from tcup.devcloud.layout import DEFAULT_PORT_BASE, HOST, PORT_BLOCK, SERVICE_SETS, Layout, Ports
from tcup.devcloud.processes import ProcessRecord, load_records, session_rss_kib, start_process, stop_process
from tcup.devcloud.provision import (
    SERVICE_USERS,
    Account,
    KeystoneAdmin,
    ServiceEndpoint,
    default_accounts,
    get_token,
    provision_keystone,
)
from tcup.devcloud.services import Service, prepare_state, service_plan, wait_healthy
from tcup.errors import DevcloudError

__all__ = [
    "DEFAULT_SERVICES",
    "DevcloudStatus",
    "ServiceStatus",
    "UpResult",
    "devcloud_status",
    "full_plan",
    "start_devcloud",
    "stop_devcloud",
]

Echo = Callable[[str], None]
_SERVICE_DIRS = ("keystone", "glance", "placement", "swift")
_PLATFORM_DIRS = ("mariadb", "rabbitmq", "nova", "neutron", "cinder")
# the light cloud by default: it needs no Debian services, starts in under a minute and uses
# about 1 GiB; the platform adds Nova, Neutron, Cinder, RabbitMQ and MariaDB (see README)
DEFAULT_SERVICES = "storage"
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
    settings = _settings(layout)
    return None if settings is None else int(settings["port_base"])


def _recorded_services(layout: Layout) -> str | None:
    """Return the service set ``state/settings.json`` records (older states: storage)."""
    settings = _settings(layout)
    return None if settings is None else str(settings.get("services", "storage"))


def _settings(layout: Layout) -> dict[str, Any] | None:
    if not layout.settings_file.is_file():
        return None
    try:
        settings = json.loads(layout.settings_file.read_text())
        int(settings["port_base"])
        if settings.get("services", "storage") not in SERVICE_SETS:
            raise ValueError(f"unknown service set {settings['services']!r}")
        return dict(settings)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DevcloudError(
            f"cannot read {layout.settings_file} ({exc}); repair it, or run `tcup devcloud down --purge "
            f"--dir {layout.root}` to start afresh"
        ) from exc


def _read_services(layout: Layout, requested: str | None) -> str:
    """Return the service set: the one the state was made with, else ``requested`` or storage."""
    recorded = _recorded_services(layout)
    if recorded is not None and (layout.state / _READY_MARK).is_file():
        if requested is not None and requested != recorded:
            raise DevcloudError(
                f"the devcloud in {layout.root} was created with --services {recorded}, not {requested}; "
                f"run `tcup devcloud up --services {recorded}`, or `tcup devcloud down --purge --dir "
                f"{layout.root}` first to start afresh"
            )
        return recorded
    return requested or recorded or DEFAULT_SERVICES


def _ports(base: int) -> Ports:
    try:
        return Ports(base)
    except ValueError as exc:
        raise DevcloudError(f"{exc}; choose a --port-base with {PORT_BLOCK} free ports above it") from exc


def _check_ports_free(ports: Ports, services: str) -> None:
    busy = []
    for name, port in ports.as_dict(services).items():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, port))
            except OSError:
                busy.append(f"{port} ({name})")
    if busy:
        raise DevcloudError(
            f"port(s) already in use on {HOST}: {', '.join(busy)}; stop what uses them or choose other "
            f"ports with --port-base (needs {PORT_BLOCK} free ports from there; state made with another base "
            "needs `tcup devcloud down --purge`)"
        )


def _context(layout: Layout, ports: Ports, venv: Path, services: str) -> CloudContext:
    secrets = Secrets.load_or_create(layout.secrets_file)
    return CloudContext(layout=layout, ports=ports, secrets=secrets, venv=venv, services=services)


def full_plan(ctx: CloudPaths) -> list[Service]:
    """Every process of the devcloud: the storage services, then MariaDB, epmd, RabbitMQ, Nova,
    Neutron and Cinder when ``ctx`` is a platform cloud."""
    plan = service_plan(ctx)
    if ctx.platform:
        plan += platform.backing_plan(ctx) + platform.platform_plan(ctx)
    return plan


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


def start_devcloud(
    *, root: Path, port_base: int | None = None, services: str | None = None, echo: Echo | None = None
) -> UpResult:
    """Install if needed, configure and start the devcloud in ``root``; idempotent.

    :param port_base: first of 60 loopback ports (default 25000, or the one the state was made with).
    :param services: "storage" or "platform" (default: what the state was made with, else storage).
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
    service_set = _read_services(layout, services)
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
    _check_ports_free(ports, service_set)
    venv = ensure_services_venv(service_set, echo=say)
    fresh = not (layout.state / _READY_MARK).is_file()
    dirs = _SERVICE_DIRS + (_PLATFORM_DIRS if service_set == "platform" else ())
    if fresh:
        for name in _SERVICE_DIRS + _PLATFORM_DIRS:
            shutil.rmtree(layout.service_dir(name), ignore_errors=True)
    for name in dirs:
        layout.service_dir(name).mkdir(parents=True, exist_ok=True, mode=0o700)
    layout.settings_file.write_text(json.dumps({"port_base": ports.base, "services": service_set}) + "\n")
    ctx = _context(layout, ports, venv, service_set)
    say(f"{'creating' if fresh else 'reusing'} state in {layout.state} ({service_set} services)")
    prepare_state(ctx, fresh=fresh)
    confs: dict[str, Path] = {}
    if ctx.platform:
        confs = platform.write_platform_configs(ctx)
        backing.init_mariadb(ctx, layout.logs / "mariadb-setup.log")
    try:
        info = _start_and_provision(ctx, say, confs, fresh=fresh)
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
    # two malloc arenas: the threaded services otherwise grow one arena per thread (RSS)
    extra = {"PYTHONWARNINGS": "ignore", "MALLOC_ARENA_MAX": "2"}
    return {key: os.environ[key] for key in keep if key in os.environ} | extra


def _provision_keystone(ctx: CloudContext, accounts: list[Account], say: Echo) -> dict[str, str]:
    """Create what Keystone lacks (skipped when the recorded plan is unchanged); return project ids."""
    marker = ctx.layout.service_dir("keystone") / "provisioned"
    plan_text = json.dumps(
        {"accounts": [asdict(a) for a in accounts], "ports": ctx.ports.as_dict(ctx.services)}, sort_keys=True
    )
    admin = KeystoneAdmin(ctx.keystone_url, admin_password=ctx.secrets.admin_password, log_hint=ctx.app_log("keystone"))
    if marker.is_file() and marker.read_text() == plan_text:
        return admin.ids_by_name("projects")
    say("provisioning Keystone: roles, service users, catalog, test accounts")
    endpoints = [
        ServiceEndpoint(name="glance", type="image", url=ctx.glance_url),
        ServiceEndpoint(name="placement", type="placement", url=ctx.placement_url),
        ServiceEndpoint(name="swift", type="object-store", url=f"{ctx.swift_url}/v1/AUTH_%(project_id)s"),
    ]
    users: tuple[str, ...] = SERVICE_USERS
    if ctx.platform:
        endpoints += platform.platform_endpoints(ctx)
        users += platform.PLATFORM_SERVICE_USERS
    projects = provision_keystone(
        admin,
        service_password=ctx.secrets.service_password,
        user_password=ctx.secrets.user_password,
        endpoints=endpoints,
        accounts=accounts,
        service_users=users,
    )
    write_private(marker, plan_text)
    return projects


def _provision_platform(
    ctx: CloudContext, projects: dict[str, str], networks: list[platform.ProjectNetwork], say: Echo
) -> dict[str, Any]:
    """Create the image, flavors, volume type and networks (skipped when the recorded plan is unchanged)."""
    marker = ctx.layout.service_dir("nova") / "provisioned.json"
    plan = {"networks": [asdict(n) for n in networks], "flavors": platform.FLAVORS, "images": platform.IMAGE_NAMES}
    if marker.is_file():
        recorded = json.loads(marker.read_text())
        if recorded.get("plan") == json.loads(json.dumps(plan)):
            return dict(recorded["resources"])
    say("provisioning the image, flavors, volume type and networks")
    resources = platform.provision_resources(
        ctx, admin_password=ctx.secrets.admin_password, project_ids=projects, networks=networks
    )
    write_private(marker, json.dumps({"plan": plan, "resources": resources}, indent=1) + "\n")
    return resources


def _start_and_provision(ctx: CloudContext, say: Echo, confs: dict[str, Path], *, fresh: bool) -> dict[str, Any]:
    storage = service_plan(ctx)
    started: dict[str, tuple[Service, ProcessRecord]] = {}
    for service in storage + (platform.backing_plan(ctx) if ctx.platform else []):
        if service.name == "rabbitmq":  # it must find its own epmd answering, not start one
            wait_healthy([started["epmd"]])
        started[service.name] = (service, _start(ctx, service))
    say("started " + ", ".join(started) + "; waiting for Keystone")
    wait_healthy([started["keystone"]])
    accounts = default_accounts()
    with ThreadPoolExecutor(max_workers=2) as pool:
        keystone_job = pool.submit(_provision_keystone, ctx, accounts, say)
        if ctx.platform:
            wait_healthy([started["mariadb"]])
            say("creating or upgrading the Nova, Neutron and Cinder databases in MariaDB")
            platform.prepare_databases(ctx, confs, fresh=fresh)
        projects = keystone_job.result()
    say("waiting for " + ", ".join(name for name in started if name != "keystone"))
    wait_healthy([pair for name, pair in started.items() if name != "keystone"])
    _smoke_check(ctx)
    resources: dict[str, Any] = {}
    networks: list[platform.ProjectNetwork] = []
    if ctx.platform:
        plan = platform.platform_plan(ctx)
        launched = [(service, _start(ctx, service)) for service in plan]
        say("started " + ", ".join(service.name for service in plan) + "; waiting for their APIs")
        wait_healthy(launched, timeout=300.0)
        admin_token, _ = get_token(
            ctx.keystone_url, username="admin", password=ctx.secrets.admin_password, project="admin"
        )
        compute = next(record for service, record in launched if service.name == "nova-compute")
        platform.discover_compute_host(ctx, admin_token, compute.is_alive)
        networks = platform.project_networks(accounts)
        resources = _provision_platform(ctx, projects, networks, say)
        token, body = get_token(
            ctx.keystone_url, username=MEMBER.username, password=ctx.secrets.user_password, project=MEMBER.project
        )
        platform.platform_smoke_check(ctx, token, body["project"]["id"])
    return write_client_files(ctx, accounts, networks=networks, resources=resources)


def stop_devcloud(*, root: Path, purge: bool = False) -> list[str]:
    """Stop the processes recorded in ``root/run`` (only those); optionally delete ``root``.

    :returns: the names of the processes that were running.
    """
    layout = Layout(root.expanduser().absolute())
    records = {record.name: record for record in load_records(layout.run)}
    # all at once (each takes up to ~1 s), but the database, the message queue and its port
    # mapper last, so that no service spends its last seconds reconnecting to them
    stopped = []
    last = set(platform.BACKING_SERVICES)
    for wave in (sorted(set(records) - last), sorted(set(records) & last)):
        with ThreadPoolExecutor(max_workers=max(len(wave), 1)) as pool:
            results = list(pool.map(lambda name: stop_process(records[name], run_dir=layout.run), wave))
        stopped += [name for name, was_running in zip(wave, results, strict=True) if was_running]
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
        services_set = _recorded_services(layout) or DEFAULT_SERVICES
        # the venv is not needed to list the processes
        paths = CloudPaths(layout=layout, ports=ports, venv=Path("/nonexistent"), services=services_set)
        for service in full_plan(paths):
            record = records.get(service.name)
            alive = record is not None and record.is_alive()
            answering = service.is_healthy()
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
