"""The platform half of a devcloud: its processes, databases, catalog entries and cloud resources.

``--services platform`` adds to the storage cloud: MariaDB, epmd and RabbitMQ
(:mod:`tcup.devcloud.backing`); Nova's API (uwsgi), conductor, scheduler and compute (fake virt
driver); Neutron's API (uwsgi; ML2 with the devcloud's own mechanism driver, no agents); and
Cinder's API (uwsgi), scheduler and volume service (fake back end). The helper modules those run
(``tcup_neutron_mech``, ``tcup_nova_driver``, ``tcup_cinder_driver``) are copied from
``tcup/devcloud/data`` into ``state/python``, with an entry-point file that registers the
mechanism driver with Neutron.

Provisioning, as admin and find-or-create (so a kept state is left as it is): two public tiny
raw images, two flavors, a volume type, a shared external network with a subnet, and for each test
project its own network, subnet and router (gateway on the external network), which
accounts.yaml lists so that Tempest needs neither admin nor dynamic credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import requests

from tcup.devcloud import backing
from tcup.devcloud.configs import CloudContext, CloudPaths
from tcup.devcloud.layout import HOST
from tcup.devcloud.platform_configs import (
    COMPUTE_HOST,
    EXTERNAL_PHYSNET,
    write_cinder_conf,
    write_neutron_conf,
    write_nova_conf,
)
from tcup.devcloud.provision import Account, ServiceEndpoint, get_token
from tcup.devcloud.services import UWSGI_OPTIONS, Service, run_steps, tail
from tcup.errors import DevcloudError

__all__ = [
    "BACKING_SERVICES",
    "FLAVORS",
    "IMAGE_NAMES",
    "PLATFORM_SERVICE_USERS",
    "VOLUME_TYPE",
    "ProjectNetwork",
    "backing_plan",
    "discover_compute_host",
    "install_platform_helpers",
    "platform_endpoints",
    "platform_plan",
    "prepare_databases",
    "project_networks",
    "provision_resources",
    "platform_smoke_check",
    "write_platform_configs",
]

BACKING_SERVICES = ("mariadb", "epmd", "rabbitmq")
PLATFORM_SERVICE_USERS = ("nova", "neutron", "cinder")
# two public images: Tempest's image_ref and image_ref_alt must differ (list-by-image tests)
IMAGE_NAMES = ("devcloud-tiny", "devcloud-tiny-alt")
IMAGE_BYTES = 1024 * 1024  # a blank 1 MiB raw disk: the fake hypervisor never reads it
# (name, vcpus, RAM MiB, disk GiB): the smallest is Tempest's flavor_ref, the other flavor_ref_alt
FLAVORS = (("devcloud.tiny", 1, 128, 1), ("devcloud.small", 1, 192, 2))
VOLUME_TYPE = "devcloud"
EXTERNAL_NETWORK = "public"
EXTERNAL_CIDR = "172.24.4.0/24"
_HELPERS = (
    "tcup_neutron_mech.py",
    "tcup_nova_driver.py",
    "tcup_nova_launcher.py",
    "tcup_cinder_driver.py",
    "tcup_cinder_launcher.py",
)
_MECH_DIST = "tcup_devcloud_neutron-1.0.dist-info"
_TIMEOUT = 60
Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectNetwork:
    """The network, subnet and router provisioned for one test project."""

    project: str
    network: str
    subnet: str
    router: str
    cidr: str


def project_networks(accounts: Iterable[Account]) -> list[ProjectNetwork]:
    """One network, subnet and router per test project, in the order the projects first appear."""
    projects = list(dict.fromkeys(account.project for account in accounts))
    return [
        ProjectNetwork(
            project=project,
            network=f"{project}-net",
            subnet=f"{project}-subnet",
            router=f"{project}-router",
            cidr=f"10.1.{index}.0/24",
        )
        for index, project in enumerate(projects, start=1)
    ]


def install_platform_helpers(ctx: CloudPaths) -> None:
    """Copy the helper modules into ``state/python`` and register the mechanism driver."""
    target = ctx.layout.python_dir
    target.mkdir(parents=True, exist_ok=True)
    for name in _HELPERS:
        (target / name).write_text(resources.files("tcup.devcloud").joinpath("data", name).read_text())
    dist = target / _MECH_DIST
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tcup-devcloud-neutron\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[neutron.ml2.mechanism_drivers]\ntcup_loopback = tcup_neutron_mech:LoopbackMechanismDriver\n"
    )


def write_platform_configs(ctx: CloudContext) -> dict[str, Path]:
    """Write the RabbitMQ, Nova, Neutron and Cinder configuration; return the services' conf paths."""
    backing.write_rabbitmq_config(ctx)
    install_platform_helpers(ctx)
    return {"nova": write_nova_conf(ctx), "neutron": write_neutron_conf(ctx), "cinder": write_cinder_conf(ctx)}


def backing_plan(ctx: CloudPaths) -> list[Service]:
    """MariaDB, epmd and RabbitMQ, in start order (epmd must answer before RabbitMQ starts)."""
    return [
        Service(name="mariadb", argv=backing.mariadb_argv(ctx), port=ctx.ports.mariadb, health_tcp=ctx.ports.mariadb),
        Service(name="epmd", argv=backing.epmd_argv(ctx), port=ctx.ports.epmd, health_tcp=ctx.ports.epmd),
        Service(
            name="rabbitmq",
            argv=backing.rabbitmq_argv(),
            env=backing.rabbitmq_env(ctx),
            port=ctx.ports.rabbitmq,
            health_tcp=ctx.ports.rabbitmq,
        ),
    ]


def _api(ctx: CloudPaths, name: str, port: int, app: str, env: dict[str, str], extra: list[str]) -> Service:
    return Service(
        name=name,
        argv=[str(ctx.venv / "bin" / "uwsgi"), "--http-socket", f"{HOST}:{port}", *UWSGI_OPTIONS, *extra],
        env={"TCUP_WSGI_APP": app, "PYTHONPATH": str(ctx.layout.python_dir), **env},
        port=port,
        health_url=f"http://{HOST}:{port}/",
        stop_signal="INT",
    )


def _daemon(ctx: CloudPaths, name: str, program: str, conf: Path) -> Service:
    command = [str(ctx.venv / "bin" / program)]
    if program.startswith("nova-"):  # in one process each; compute with the devcloud's driver
        command = [str(ctx.venv / "bin" / "python"), "-m", "tcup_nova_launcher", program.removeprefix("nova-")]
    if program == "cinder-volume":  # in one process: one back end, no forked child
        command = [str(ctx.venv / "bin" / "python"), "-m", "tcup_cinder_launcher"]
    return Service(
        name=name,
        argv=[*command, "--config-file", str(conf), "--log-file", ctx.app_log(name)],
        env={"PYTHONPATH": str(ctx.layout.python_dir)},
    )


def platform_plan(ctx: CloudPaths) -> list[Service]:
    """Nova's, Neutron's and Cinder's processes, in start order."""
    nova = ctx.layout.service_dir("nova")
    neutron = ctx.layout.service_dir("neutron")
    cinder_conf = ctx.layout.service_dir("cinder") / "cinder.conf"
    nova_conf = nova / "nova.conf"
    return [
        _api(
            ctx,
            "nova-api",
            ctx.ports.nova,
            "nova.wsgi.osapi_compute:application",
            {"OS_NOVA_CONFIG_DIR": str(nova), "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf"},
            [],
        ),
        _daemon(ctx, "nova-conductor", "nova-conductor", nova_conf),
        _daemon(ctx, "nova-scheduler", "nova-scheduler", nova_conf),
        _daemon(ctx, "nova-compute", "nova-compute", nova_conf),
        _api(
            ctx,
            "neutron",
            ctx.ports.neutron,
            "neutron.wsgi.api:application",
            {"OS_NEUTRON_CONFIG_DIR": str(neutron), "OS_NEUTRON_CONFIG_FILES": "neutron.conf"},
            [],
        ),
        # Cinder's WSGI module parses sys.argv: --pyargv hands it the configuration file
        _api(
            ctx,
            "cinder-api",
            ctx.ports.cinder,
            "cinder.wsgi.api:application",
            {},
            ["--pyargv", f"--config-file {cinder_conf}"],
        ),
        _daemon(ctx, "cinder-scheduler", "cinder-scheduler", cinder_conf),
        _daemon(ctx, "cinder-volume", "cinder-volume", cinder_conf),
    ]


def platform_endpoints(ctx: CloudPaths) -> list[ServiceEndpoint]:
    """The catalog entries of Nova, Neutron and Cinder (Cinder under both of its types)."""
    volume = f"{ctx.cinder_url}/v3/%(project_id)s"
    return [
        ServiceEndpoint(name="nova", type="compute", url=f"{ctx.nova_url}/v2.1"),
        ServiceEndpoint(name="neutron", type="network", url=ctx.neutron_url),
        ServiceEndpoint(name="cinder", type="block-storage", url=volume),
        ServiceEndpoint(name="cinderv3", type="volumev3", url=volume),
    ]


def _synced(ctx: CloudContext, service: str, fresh: bool) -> bool:
    marker = ctx.layout.service_dir(service) / "synced-with"
    return not fresh and marker.is_file() and marker.read_text() == str(ctx.venv)


def prepare_databases(ctx: CloudContext, confs: dict[str, Path], *, fresh: bool) -> None:
    """Create the MariaDB databases and bring Nova's, Neutron's and Cinder's schemas up to date.

    Runs while MariaDB answers; the three services' migrations run in parallel. On a kept state
    they are skipped unless the services venv changed since.

    :raises DevcloudError: when a step fails; the message names its log.
    """
    backing.create_databases(ctx, ctx.layout.logs / "mariadb-setup.log")
    bin_dir = ctx.venv / "bin"
    nova = [str(bin_dir / "nova-manage"), "--config-file", str(confs["nova"])]
    steps: dict[str, list[list[str]]] = {}
    if not _synced(ctx, "nova", fresh):
        steps["nova"] = [[*nova, "api_db", "sync"]]
        if not (ctx.layout.service_dir("nova") / "cells-mapped").is_file():
            # cell0's database is [database] connection's with "_cell0" appended: no password on argv
            steps["nova"] += [[*nova, "cell_v2", "map_cell0"], [*nova, "cell_v2", "create_cell", "--name", "cell1"]]
        steps["nova"].append([*nova, "db", "sync"])
    if not _synced(ctx, "neutron", fresh):
        steps["neutron"] = [
            [str(bin_dir / "neutron-db-manage"), "--config-file", str(confs["neutron"]), "upgrade", "heads"]
        ]
    if not _synced(ctx, "cinder", fresh):
        steps["cinder"] = [[str(bin_dir / "cinder-manage"), "--config-file", str(confs["cinder"]), "db", "sync"]]
    env = {"PYTHONPATH": str(ctx.layout.python_dir)}
    with ThreadPoolExecutor(max_workers=max(len(steps), 1)) as pool:
        futures = [pool.submit(run_steps, ctx, f"{name}-manage", commands, env) for name, commands in steps.items()]
        for future in futures:
            future.result()
    for name in steps:
        (ctx.layout.service_dir(name) / "synced-with").write_text(str(ctx.venv))
    (ctx.layout.service_dir("nova") / "cells-mapped").write_text("")


def discover_compute_host(
    ctx: CloudContext, admin_token: str, compute_alive: Callable[[], bool], *, timeout: float = 180.0
) -> None:
    """Wait until nova-compute has reported its resources, then map it into cell1.

    :raises DevcloudError: when the compute service never reports (its log is named).
    """
    marker = ctx.layout.service_dir("nova") / "host-mapped"
    headers = {"X-Auth-Token": admin_token, "OpenStack-API-Version": "placement 1.14"}
    deadline = time.monotonic() + timeout
    while True:
        try:
            resp = requests.get(f"{ctx.placement_url}/resource_providers", headers=headers, timeout=10)
            found = resp.ok and any(p["name"] == COMPUTE_HOST for p in resp.json()["resource_providers"])
        except (requests.RequestException, ValueError, KeyError):
            found = False
        if found:
            break
        if not compute_alive() or time.monotonic() > deadline:
            log = ctx.app_log("nova-compute")
            raise DevcloudError(
                f"nova-compute did not report to Placement (it stopped, or took over {timeout:.0f} s); "
                f"read {log}:\n{tail(log)}"
            )
        time.sleep(1)
    if marker.is_file():
        return
    nova = [str(ctx.venv / "bin" / "nova-manage"), "--config-file", str(ctx.layout.service_dir("nova") / "nova.conf")]
    run_steps(ctx, "nova-manage", [[*nova, "cell_v2", "discover_hosts"]], {})
    marker.write_text("")


class _Admin:
    """Admin calls to Nova, Neutron, Cinder and Glance with one token (find-or-create helpers)."""

    def __init__(self, ctx: CloudContext, token: str, project_id: str) -> None:
        self.ctx = ctx
        self.project_id = project_id
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = token

    def call(self, method: str, url: str, body: Any = None, *, data: bytes | None = None, **headers: str) -> Any:
        try:
            if data is not None:
                resp = self.session.request(method, url, data=data, headers=headers, timeout=_TIMEOUT)
            else:
                resp = self.session.request(method, url, json=body, headers=headers, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            raise DevcloudError(f"provisioning failed: {method} {url}: {exc}") from exc
        if resp.status_code >= 300:
            raise DevcloudError(
                f"provisioning failed: {method} {url}: HTTP {resp.status_code} {resp.text[:300]}; "
                f"read the logs in {self.ctx.layout.logs}"
            )
        return resp.json() if resp.content else {}

    def nova(self, method: str, path: str, body: Any = None) -> Any:
        return self.call(method, f"{self.ctx.nova_url}/v2.1{path}", body)

    def neutron(self, method: str, path: str, body: Any = None) -> Any:
        return self.call(method, f"{self.ctx.neutron_url}/v2.0{path}", body)

    def cinder(self, method: str, path: str, body: Any = None) -> Any:
        return self.call(method, f"{self.ctx.cinder_url}/v3/{self.project_id}{path}", body)

    def glance(self, method: str, path: str, body: Any = None) -> Any:
        return self.call(method, f"{self.ctx.glance_url}/v2{path}", body)

    def find_one(self, collection: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
        return next((item for item in collection if all(item.get(k) == v for k, v in match.items())), None)


def _ensure_image(admin: _Admin, name: str) -> str:
    images = admin.glance("GET", f"/images?name={name}")["images"]
    image = next((i for i in images if i["status"] == "active"), None)
    if image is not None:
        return str(image["id"])
    for stale in images:  # an upload interrupted by a failed start
        admin.glance("DELETE", f"/images/{stale['id']}")
    body = {"name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public"}
    image = admin.glance("POST", "/images", body)
    admin.call(
        "PUT",
        f"{admin.ctx.glance_url}/v2/images/{image['id']}/file",
        data=b"\0" * IMAGE_BYTES,
        **{"Content-Type": "application/octet-stream"},
    )
    return str(image["id"])


def _ensure_flavors(admin: _Admin) -> None:
    existing = {f["name"] for f in admin.nova("GET", "/flavors?is_public=None")["flavors"]}
    for name, vcpus, ram, disk in FLAVORS:
        if name not in existing:
            admin.nova("POST", "/flavors", {"flavor": {"name": name, "vcpus": vcpus, "ram": ram, "disk": disk}})


def _ensure_volume_type(admin: _Admin) -> None:
    types = admin.cinder("GET", "/types")["volume_types"]
    if admin.find_one(types, name=VOLUME_TYPE) is None:
        body = {
            "volume_type": {
                "name": VOLUME_TYPE,
                "os-volume-type-access:is_public": True,
                "extra_specs": {"volume_backend_name": "fake"},
            }
        }
        admin.cinder("POST", "/types", body)


def _wait_for_volume_backend(admin: _Admin, timeout: float = 120.0) -> None:
    """Until Cinder's scheduler knows the fake back end's pool (the volume service has reported
    its capabilities): before that, every volume fails to build with "No valid backend"."""
    deadline = time.monotonic() + timeout
    while True:
        pools = admin.cinder("GET", "/scheduler-stats/get_pools")["pools"]
        if any(pool.get("name", "").startswith(f"{COMPUTE_HOST}@fake") for pool in pools):
            return
        if time.monotonic() > deadline:
            raise DevcloudError(
                f"Cinder's scheduler knows no volume back end after {timeout:.0f} s: read "
                f"{admin.ctx.app_log('cinder-volume')} and {admin.ctx.app_log('cinder-scheduler')}"
            )
        time.sleep(1)


def _ensure_network(admin: _Admin, name: str, project_id: str, fields: dict[str, Any]) -> str:
    found = admin.neutron("GET", f"/networks?name={name}&project_id={project_id}")["networks"]
    if found:
        return str(found[0]["id"])
    body = {"network": {"name": name, "project_id": project_id, **fields}}
    return str(admin.neutron("POST", "/networks", body)["network"]["id"])


def _ensure_subnet(admin: _Admin, name: str, network_id: str, project_id: str, cidr: str, dhcp: bool) -> str:
    found = admin.neutron("GET", f"/subnets?name={name}&network_id={network_id}")["subnets"]
    if found:
        return str(found[0]["id"])
    body = {
        "subnet": {
            "name": name,
            "network_id": network_id,
            "project_id": project_id,
            "ip_version": 4,
            "cidr": cidr,
            "enable_dhcp": dhcp,
        }
    }
    return str(admin.neutron("POST", "/subnets", body)["subnet"]["id"])


def _ensure_router(admin: _Admin, plan: ProjectNetwork, project_id: str, subnet_id: str, external_id: str) -> None:
    found = admin.neutron("GET", f"/routers?name={plan.router}&project_id={project_id}")["routers"]
    if found:
        router_id = found[0]["id"]
    else:
        body = {
            "router": {
                "name": plan.router,
                "project_id": project_id,
                "external_gateway_info": {"network_id": external_id},
            }
        }
        router_id = admin.neutron("POST", "/routers", body)["router"]["id"]
    ports = admin.neutron("GET", f"/ports?device_id={router_id}")["ports"]
    if not any(ip["subnet_id"] == subnet_id for port in ports for ip in port.get("fixed_ips", [])):
        admin.neutron("PUT", f"/routers/{router_id}/add_router_interface", {"subnet_id": subnet_id})


def provision_resources(
    ctx: CloudContext, *, admin_password: str, project_ids: dict[str, str], networks: list[ProjectNetwork]
) -> dict[str, Any]:
    """Create what is missing of the image, flavors, volume type and networks; return their names.

    :param project_ids: test project name -> id.
    :raises DevcloudError: when a service refuses a request.
    """
    token, body = get_token(
        ctx.keystone_url, username="admin", password=admin_password, project="admin", log_hint=ctx.app_log("keystone")
    )
    admin = _Admin(ctx, token, body["project"]["id"])
    images = {name: _ensure_image(admin, name) for name in IMAGE_NAMES}
    _ensure_flavors(admin)
    _ensure_volume_type(admin)
    _wait_for_volume_backend(admin)
    external = {
        "router:external": True,
        "shared": True,
        "provider:network_type": "flat",
        "provider:physical_network": EXTERNAL_PHYSNET,
    }
    external_id = _ensure_network(admin, EXTERNAL_NETWORK, admin.project_id, external)
    _ensure_subnet(admin, f"{EXTERNAL_NETWORK}-subnet", external_id, admin.project_id, EXTERNAL_CIDR, False)
    for plan in networks:
        project_id = project_ids[plan.project]
        network_id = _ensure_network(admin, plan.network, project_id, {})
        subnet_id = _ensure_subnet(admin, plan.subnet, network_id, project_id, plan.cidr, True)
        _ensure_router(admin, plan, project_id, subnet_id, external_id)
    return {
        "images": images,
        "flavors": [name for name, *_ in FLAVORS],
        "volume_type": VOLUME_TYPE,
        "external_network": EXTERNAL_NETWORK,
    }


def platform_smoke_check(ctx: CloudContext, token: str, project_id: str) -> None:
    """As the non-admin member: list servers, networks and volumes."""
    checks = [
        ("nova-api", f"{ctx.nova_url}/v2.1/servers"),
        ("neutron", f"{ctx.neutron_url}/v2.0/networks"),
        ("cinder-api", f"{ctx.cinder_url}/v3/{project_id}/volumes"),
    ]
    for name, url in checks:
        try:
            resp = requests.get(url, headers={"X-Auth-Token": token}, timeout=30)
        except requests.RequestException as exc:
            raise DevcloudError(f"smoke check GET {url} failed: {exc}; read {ctx.app_log(name)}") from exc
        if resp.status_code >= 300:
            raise DevcloudError(f"smoke check GET {url} answered HTTP {resp.status_code}; read {ctx.app_log(name)}")
