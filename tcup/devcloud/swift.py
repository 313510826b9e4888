"""Swift all-in-one: configuration, rings and the processes to start.

One device, one replica, two storage policies (``Policy-0`` and ``silver``, as Tempest's
defaults expect), a proxy with Keystone auth and the middleware the interop object-storage tests
use, plus the container-updater (account listings show container stats) and container-sync
daemons. Every server runs with ``workers = 0`` (one process). The rings have 8 partitions and the
updater sweeps every 15 s with one process: it forks once per partition and opens every container
database, deleted ones included, so more partitions or sweeps cost CPU the tests need. No memcached: Swift works
without it, and one fewer daemon and package keeps the devcloud simple.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tcup.devcloud.configs import CloudContext, CloudPaths, Sections, authtoken_section, current_user, render_ini
from tcup.devcloud.configs import write_private as _write
from tcup.devcloud.layout import HOST

__all__ = ["HELPER", "SwiftProcess", "rings_command", "serve_command", "swift_processes", "write_swift_configs"]

HELPER = "tcup_swift_helper.py"
_LOG_HOOK = "tcup_swift_helper.drop_syslog"

# the proxy's WSGI pipeline, outermost first (order matters: auth before the quota filters)
_PROXY_PIPELINE = (
    "catch_errors gatekeeper healthcheck proxy-logging listing_formats container_sync bulk "
    "tempurl crossdomain authtoken keystoneauth formpost staticweb copy container-quotas "
    "account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server"
)
# pipeline members configured beyond ``use = egg:swift#<name with _ for ->``
_SPECIAL = frozenset({"authtoken", "keystoneauth", "versioned_writes", "proxy-server"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SwiftProcess:
    """One Swift server or daemon: its devcloud name, Python module and configuration file."""

    name: str
    module: str
    conf: Path
    health_port: int | None  # answers /healthcheck on this port, if a server


def _common(ctx: CloudContext, log_name: str) -> dict[str, str | int | bool]:
    return {
        "swift_dir": str(ctx.layout.service_dir("swift")),
        "user": current_user(),
        "log_name": log_name,
        "log_level": "INFO",
        "log_custom_handlers": _LOG_HOOK,
    }


def _storage_server(ctx: CloudContext, kind: str, port: int) -> Sections:
    home = ctx.layout.service_dir("swift")
    sections: dict[str, dict[str, str | int | bool]] = {
        "DEFAULT": {
            "bind_ip": HOST,
            "bind_port": port,
            "workers": 0,
            "mount_check": False,
            "disable_fallocate": True,
            "devices": str(home / "node"),
            "recon_cache_path": str(home / "cache"),  # the daemons read it from here
            **_common(ctx, f"{kind}-server"),
        },
        "pipeline:main": {"pipeline": f"healthcheck recon {kind}-server"},
        f"app:{kind}-server": {"use": f"egg:swift#{kind}"},
        "filter:healthcheck": {"use": "egg:swift#healthcheck"},
        "filter:recon": {"use": "egg:swift#recon", "recon_cache_path": str(home / "cache")},
        f"{kind}-replicator": {},
        f"{kind}-auditor": {},
    }
    if kind == "container":
        sections["container-updater"] = {"interval": 15, "concurrency": 1}
        sections["container-sync"] = {
            "interval": 5,
            "internal_client_conf_path": str(home / "internal-client.conf"),
        }
        sections["container-sharder"] = {}
    elif kind == "object":
        sections["object-updater"] = {"interval": 5}
        sections["object-expirer"] = {}
    else:
        sections["account-reaper"] = {}
    return sections


def _proxy(ctx: CloudContext) -> Sections:
    filters: dict[str, dict[str, str | int | bool]] = {
        f"filter:{name}": {"use": f"egg:swift#{name.replace('-', '_')}"}
        for name in _PROXY_PIPELINE.split()
        if name not in _SPECIAL
    }
    return {
        "DEFAULT": {"bind_ip": HOST, "bind_port": ctx.ports.swift_proxy, "workers": 0, **_common(ctx, "proxy-server")},
        "pipeline:main": {"pipeline": _PROXY_PIPELINE},
        "app:proxy-server": {
            "use": "egg:swift#proxy",
            "account_autocreate": True,
            "allow_account_management": True,
        },
        "filter:authtoken": {
            "paste.filter_factory": "keystonemiddleware.auth_token:filter_factory",
            "delay_auth_decision": True,
            **authtoken_section(ctx, "swift"),
        },
        "filter:keystoneauth": {
            "use": "egg:swift#keystoneauth",
            "operator_roles": "admin, member",
            "reseller_admin_role": "ResellerAdmin",
        },
        "filter:versioned_writes": {
            "use": "egg:swift#versioned_writes",
            "allow_versioned_writes": True,
            "allow_object_versioning": True,
        },
        **filters,
    }


def _internal_client(ctx: CloudContext) -> Sections:
    # container-sync's own client; its built-in default reads /etc/swift and wants memcached
    return {
        "DEFAULT": {
            "swift_dir": str(ctx.layout.service_dir("swift")),
            "user": current_user(),
            "log_custom_handlers": _LOG_HOOK,
        },
        "pipeline:main": {"pipeline": "catch_errors proxy-logging symlink proxy-server"},
        "app:proxy-server": {
            "use": "egg:swift#proxy",
            "account_autocreate": True,
            "allow_account_management": True,
        },
        "filter:symlink": {"use": "egg:swift#symlink"},
        "filter:proxy-logging": {"use": "egg:swift#proxy_logging"},
        "filter:catch_errors": {"use": "egg:swift#catch_errors"},
    }


def write_swift_configs(ctx: CloudContext) -> Path:
    """Write every Swift configuration file and the helper script; return the Swift directory."""
    home = ctx.layout.service_dir("swift")
    for sub in (home / "node" / "sdb1", home / "cache"):
        sub.mkdir(parents=True, exist_ok=True)
    swift_conf: Sections = {
        "swift-hash": {
            "swift_hash_path_prefix": ctx.secrets.swift_hash_prefix,
            "swift_hash_path_suffix": ctx.secrets.swift_hash_suffix,
        },
        "storage-policy:0": {"name": "Policy-0", "default": "yes"},
        "storage-policy:1": {"name": "silver"},
        "swift-constraints": {},
    }
    # container sync within this one cluster, under Tempest's default realm and cluster names
    realms: Sections = {
        "DEFAULT": {"mtime_check_interval": 60},
        "realm1": {"key": ctx.secrets.sync_realm_key, "cluster_name1": f"{ctx.swift_url}/v1/"},
    }
    ports = ctx.ports
    files: dict[str, Sections] = {
        "swift.conf": swift_conf,
        "container-sync-realms.conf": realms,
        "account-server.conf": _storage_server(ctx, "account", ports.swift_account),
        "container-server.conf": _storage_server(ctx, "container", ports.swift_container),
        "object-server.conf": _storage_server(ctx, "object", ports.swift_object),
        "proxy-server.conf": _proxy(ctx),
        "internal-client.conf": _internal_client(ctx),
    }
    for name, sections in files.items():
        _write(home / name, render_ini(sections))
    return home


def rings_command(ctx: CloudPaths) -> list[str]:
    """Return the command that builds the rings (run once, on a fresh state)."""
    home = ctx.layout.service_dir("swift")
    ports = ctx.ports
    return [
        str(ctx.venv / "bin" / "python"),
        str(ctx.layout.python_dir / HELPER),
        "rings",
        str(home),
        HOST,
        str(ports.swift_account),
        str(ports.swift_container),
        str(ports.swift_object),
    ]


def swift_processes(ctx: CloudPaths) -> list[SwiftProcess]:
    """Return the Swift servers and daemons, storage servers first."""
    home = ctx.layout.service_dir("swift")
    ports = ctx.ports
    return [
        SwiftProcess(
            name="swift-account",
            module="swift.account.server",
            conf=home / "account-server.conf",
            health_port=ports.swift_account,
        ),
        SwiftProcess(
            name="swift-container",
            module="swift.container.server",
            conf=home / "container-server.conf",
            health_port=ports.swift_container,
        ),
        SwiftProcess(
            name="swift-object",
            module="swift.obj.server",
            conf=home / "object-server.conf",
            health_port=ports.swift_object,
        ),
        SwiftProcess(
            name="swift-proxy",
            module="swift.proxy.server",
            conf=home / "proxy-server.conf",
            health_port=ports.swift_proxy,
        ),
        SwiftProcess(
            name="swift-container-updater",
            module="swift.container.updater",
            conf=home / "container-server.conf",
            health_port=None,
        ),
        SwiftProcess(
            name="swift-container-sync",
            module="swift.container.sync",
            conf=home / "container-server.conf",
            health_port=None,
        ),
    ]


def serve_command(ctx: CloudPaths, process: SwiftProcess) -> list[str]:
    """Return the command line that runs one Swift server or daemon."""
    home = ctx.layout.service_dir("swift")
    return [
        str(ctx.venv / "bin" / "python"),
        str(ctx.layout.python_dir / HELPER),
        "serve",
        str(home),
        process.module,
        str(process.conf),
    ]
