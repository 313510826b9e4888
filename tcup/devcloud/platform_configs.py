"""Configuration files of Nova, Neutron and Cinder (``--services platform``).

Written like :mod:`tcup.devcloud.configs`: plain dictionaries, one section per key, each
deliberate setting beside the reason for it. All three use the devcloud's MariaDB and RabbitMQ
(:mod:`tcup.devcloud.backing`); their APIs run under uwsgi like Keystone's, their daemons
(Nova's conductor, scheduler and compute, Cinder's scheduler and volume service) as plain
processes with one worker each, which keeps the whole platform within about 2.5 GiB.
"""

from __future__ import annotations

from pathlib import Path

from tcup.devcloud.backing import database_url, transport_url
from tcup.devcloud.configs import REGION, CloudContext, Sections, authtoken_section, render_ini, write_private
from tcup.devcloud.layout import HOST

__all__ = [
    "COMPUTE_HOST",
    "EXTERNAL_PHYSNET",
    "write_cinder_conf",
    "write_neutron_conf",
    "write_nova_conf",
]

COMPUTE_HOST = "devcloud"  # the host name of Nova's compute service and Cinder's volume service
EXTERNAL_PHYSNET = "public"  # the flat physical network of the shared external network


def _service_auth(ctx: CloudContext, user: str) -> dict[str, str | int | bool]:
    """keystoneauth settings for a service talking to another service as ``user``."""
    return {
        "auth_type": "password",
        "auth_url": ctx.keystone_url,
        "project_domain_name": "Default",
        "user_domain_name": "Default",
        "project_name": "service",
        "username": user,
        "password": ctx.secrets.service_password,
        "region_name": REGION,
    }


def _common(ctx: CloudContext, service: str) -> Sections:
    home = ctx.layout.service_dir(service)
    return {
        "keystone_authtoken": authtoken_section(ctx, service),
        "oslo_concurrency": {"lock_path": str(home / "locks")},
        "oslo_messaging_rabbit": {"heartbeat_timeout_threshold": 0},
        "oslo_policy": {"enforce_new_defaults": True},
    }


def write_nova_conf(ctx: CloudContext) -> Path:
    """Write ``state/nova/nova.conf`` and ``api-paste.ini``; return the conf's path."""
    home = ctx.layout.service_dir("nova")
    for sub in ("instances", "locks"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "api-paste.ini").write_text((ctx.venv / "etc" / "nova" / "api-paste.ini").read_text())
    sections: Sections = {
        "DEFAULT": {
            "log_file": ctx.app_log("nova-api"),  # each daemon overrides it with --log-file
            "host": COMPUTE_HOST,
            "my_ip": HOST,
            "state_path": str(home),
            "instances_path": str(home / "instances"),
            "transport_url": transport_url(ctx),
            # Nova's fake hypervisor: instances are bookkeeping only (vcpus, RAM and disk are
            # plentiful); its snapshots upload a small blank disk (data/tcup_nova_driver.py)
            "compute_driver": "tcup_nova_driver.LoopbackFakeDriver",
            "enabled_apis": "osapi_compute",
            "osapi_compute_workers": 1,
            # no agent plugs anything: Neutron's port events may never come
            "vif_plugging_is_fatal": False,
            "vif_plugging_timeout": 0,
            "instance_usage_audit": False,
            # one compute host: resizes stay on it (the interop resize tests need that)
            "allow_resize_to_same_host": True,
            "heal_instance_info_cache_interval": -1,
        },
        "api": {"auth_strategy": "keystone"},
        "wsgi": {"api_paste_config": str(home / "api-paste.ini")},
        "api_database": {"connection": database_url(ctx, "nova_api")},
        "database": {"connection": database_url(ctx, "nova")},
        "conductor": {"workers": 1},
        # hosts are mapped by `nova-manage cell_v2 discover_hosts` at start-up, not by polling
        "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": -1},
        "placement": _service_auth(ctx, "nova"),
        "glance": {"region_name": REGION, "valid_interfaces": "public"},
        "neutron": {**_service_auth(ctx, "nova"), "default_floating_pool": "public", "valid_interfaces": "public"},
        "cinder": {**_service_auth(ctx, "nova"), "os_region_name": REGION, "catalog_info": "volumev3::publicURL"},
        "service_user": {**_service_auth(ctx, "nova"), "send_service_user_token": True},
        "vnc": {"enabled": False},
        "spice": {"enabled": False},
        "serial_console": {"enabled": False},
        "oslo_messaging_notifications": {"driver": "noop"},
        "os_vif_ovs": {"ovsdb_connection": ""},
        **_common(ctx, "nova"),
    }
    path = home / "nova.conf"
    write_private(path, render_ini(sections))
    return path


def write_neutron_conf(ctx: CloudContext) -> Path:
    """Write ``state/neutron/neutron.conf`` (ML2 included) and ``api-paste.ini``; return the conf's path."""
    home = ctx.layout.service_dir("neutron")
    (home / "locks").mkdir(parents=True, exist_ok=True)
    (home / "api-paste.ini").write_text((ctx.venv / "etc" / "neutron" / "api-paste.ini").read_text())
    sections: Sections = {
        "DEFAULT": {
            "log_file": ctx.app_log("neutron"),
            "host": COMPUTE_HOST,
            "state_path": str(home),
            "api_paste_config": str(home / "api-paste.ini"),
            "transport_url": transport_url(ctx),
            "core_plugin": "ml2",
            # routers without an L3 agent: the API, the database and the gateway ports, no namespaces
            "service_plugins": "router",
            "allow_overlapping_ips": True,
            "auth_strategy": "keystone",
            "dhcp_agent_notification": False,
            "notify_nova_on_port_status_changes": True,
            "notify_nova_on_port_data_changes": True,
            "api_workers": 1,
            "rpc_workers": 0,
            "rpc_state_report_workers": 0,
        },
        "database": {"connection": database_url(ctx, "neutron")},
        "ml2": {
            "type_drivers": "flat,vxlan",
            "tenant_network_types": "vxlan",
            # our own driver (data/tcup_neutron_mech.py): binds every normal port, ACTIVE at once
            "mechanism_drivers": "tcup_loopback",
            "extension_drivers": "port_security",
        },
        "ml2_type_flat": {"flat_networks": EXTERNAL_PHYSNET},
        "ml2_type_vxlan": {"vni_ranges": "1:10000"},
        "securitygroup": {"enable_security_group": True, "firewall_driver": "noop"},
        "nova": _service_auth(ctx, "neutron"),
        "oslo_messaging_notifications": {"driver": "noop"},
        **_common(ctx, "neutron"),
    }
    path = home / "neutron.conf"
    write_private(path, render_ini(sections))
    return path


def write_cinder_conf(ctx: CloudContext) -> Path:
    """Write ``state/cinder/cinder.conf`` and ``api-paste.ini``; return the conf's path."""
    home = ctx.layout.service_dir("cinder")
    for sub in ("locks", "volumes", "conversion"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    paste = home / "api-paste.ini"
    paste.write_text((ctx.venv / "etc" / "cinder" / "api-paste.ini").read_text())
    path = home / "cinder.conf"
    sections: Sections = {
        "DEFAULT": {
            "log_file": ctx.app_log("cinder-api"),  # each daemon overrides it with --log-file
            "host": COMPUTE_HOST,
            "my_ip": HOST,
            "state_path": str(home),
            "api_paste_config": str(paste),
            "transport_url": transport_url(ctx),
            "auth_strategy": "keystone",
            "osapi_volume_workers": 1,
            "enabled_backends": "fake",
            "default_volume_type": "devcloud",
            "image_conversion_dir": str(home / "conversion"),
            # without it Cinder ignores name and status filters on lists (7 interop tests fail)
            "resource_query_filters_file": str(ctx.venv / "etc" / "cinder" / "resource_filters.json"),
            "tcup_volumes_dir": str(home / "volumes"),
            "glance_catalog_info": "image:glance:publicURL",
            # the volume service reports its capabilities at once, then every 10 s: the scheduler
            # may start after the first report, and knows no back end until the next one (by
            # default up to two minutes later, failing every volume meanwhile)
            "periodic_fuzzy_delay": 0,
            "periodic_interval": 10,
        },
        # no disks, LVM or iSCSI: Cinder's fake driver, with image copies in small files
        "fake": {"volume_driver": "tcup_cinder_driver.FileCopyFakeDriver", "volume_backend_name": "fake"},
        "database": {"connection": database_url(ctx, "cinder")},
        # privileged helpers from the venv, never sudo (the devcloud may run as root without it)
        "cinder_sys_admin": {"helper_command": f"{ctx.venv / 'bin' / 'privsep-helper'} --config-file {path}"},
        "nova": {**_service_auth(ctx, "cinder"), "interface": "public"},
        "service_user": {**_service_auth(ctx, "cinder"), "send_service_user_token": True},
        "coordination": {"backend_url": f"file://{home / 'locks'}"},
        "oslo_messaging_notifications": {"driver": "noop"},
        **_common(ctx, "cinder"),
    }
    write_private(path, render_ini(sections))
    return path
