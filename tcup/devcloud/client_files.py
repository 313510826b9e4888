"""The files a devcloud hands to its clients, all in ``DIR/etc``.

* ``clouds.yaml``: clouds ``devcloud-admin``, ``devcloud`` (the non-admin member ``demo``) and
  ``devcloud-alt`` (``alt_demo``), for openstacksdk and the openstack CLI;
* ``admin-openrc``, ``demo-openrc``: the same as ``OS_*`` variables, to ``source``;
* ``accounts.yaml``: Tempest's pre-provisioned accounts, non-admin only; on a platform cloud each
  lists its project's network and router under ``resources``;
* ``devcloud.json``: ports, URLs, names and the paths of the files above; no passwords.

Every file but ``devcloud.json`` holds a password and is written with mode 0600.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tcup.devcloud.configs import REGION, CloudContext, write_private
from tcup.devcloud.platform import ProjectNetwork
from tcup.devcloud.provision import Account

__all__ = ["CLOUD_NAMES", "ClientUser", "write_client_files"]

INFO_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientUser:
    """A user with a cloud entry in clouds.yaml."""

    cloud: str
    username: str
    project: str
    admin: bool = False


ADMIN = ClientUser(cloud="devcloud-admin", username="admin", project="admin", admin=True)
MEMBER = ClientUser(cloud="devcloud", username="demo", project="demo")
ALT = ClientUser(cloud="devcloud-alt", username="alt_demo", project="alt_demo")
CLOUD_NAMES = (ADMIN.cloud, MEMBER.cloud, ALT.cloud)


def _password(ctx: CloudContext, user: ClientUser) -> str:
    return ctx.secrets.admin_password if user.admin else ctx.secrets.user_password


def _openrc(ctx: CloudContext, user: ClientUser) -> str:
    values = {
        "OS_AUTH_URL": f"{ctx.keystone_url}/v3",
        "OS_AUTH_TYPE": "password",
        "OS_USERNAME": user.username,
        "OS_PASSWORD": _password(ctx, user),
        "OS_PROJECT_NAME": user.project,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
        "OS_REGION_NAME": REGION,
        "OS_INTERFACE": "public",
    }
    lines = [f"# tcup devcloud: {user.username} in project {user.project}; source this file"]
    lines += [f"export {key}='{value}'" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _clouds(ctx: CloudContext) -> dict[str, Any]:
    clouds = {}
    for user in (ADMIN, MEMBER, ALT):
        clouds[user.cloud] = {
            "auth": {
                "auth_url": f"{ctx.keystone_url}/v3",
                "username": user.username,
                "password": _password(ctx, user),
                "project_name": user.project,
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": REGION,
            "identity_api_version": 3,
            "interface": "public",
        }
    return {"clouds": clouds}


def _accounts(
    ctx: CloudContext, accounts: list[Account], networks: Mapping[str, ProjectNetwork]
) -> list[dict[str, Any]]:
    entries = []
    for account in accounts:
        entry: dict[str, Any] = {
            "username": account.username,
            "project_name": account.project,
            "password": ctx.secrets.user_password,
            "domain_name": "Default",
            "roles": list(account.listed_roles),
        }
        network = networks.get(account.project)
        if network is not None:  # Tempest boots this account's servers on its own network
            entry["resources"] = {"network": network.network, "router": network.router}
        entries.append(entry)
    return entries


def _info(
    ctx: CloudContext,
    accounts: list[Account],
    files: dict[str, str],
    networks: Mapping[str, ProjectNetwork],
    resources: Mapping[str, Any],
) -> dict[str, Any]:
    urls = {
        "identity": f"{ctx.keystone_url}/v3",
        "image": ctx.glance_url,
        "placement": ctx.placement_url,
        "object_store": f"{ctx.swift_url}/v1/AUTH_%(project_id)s",
        "swift": ctx.swift_url,
    }
    databases = {"keystone": "sqlite", "glance": "sqlite", "placement": "sqlite", "swift": "sqlite"}
    if ctx.platform:
        urls |= {"compute": f"{ctx.nova_url}/v2.1", "network": ctx.neutron_url, "block_storage": f"{ctx.cinder_url}/v3"}
        databases |= {"nova": "mariadb", "neutron": "mariadb", "cinder": "mariadb"}
    return {
        "version": INFO_VERSION,
        "dir": str(ctx.layout.root),
        "host": "127.0.0.1",
        "region": REGION,
        "services": ctx.services,
        "database": "sqlite",
        "databases": databases,
        "port_base": ctx.ports.base,
        "ports": ctx.ports.as_dict(ctx.services),
        "urls": urls,
        "resources": dict(resources),
        "domain": "Default",
        "clouds": {
            "admin": {"cloud": ADMIN.cloud, "username": ADMIN.username, "project": ADMIN.project},
            "member": {"cloud": MEMBER.cloud, "username": MEMBER.username, "project": MEMBER.project},
            "alt": {"cloud": ALT.cloud, "username": ALT.username, "project": ALT.project},
        },
        "accounts": [
            {
                "username": a.username,
                "project": a.project,
                "roles": list(a.roles),
                **({"network": networks[a.project].network} if a.project in networks else {}),
            }
            for a in accounts
        ],
        "files": files,
        "logs": str(ctx.layout.logs),
        "services_venv": str(ctx.venv),
    }


def write_client_files(
    ctx: CloudContext,
    accounts: list[Account],
    *,
    networks: list[ProjectNetwork] | None = None,
    resources: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the client files and ``devcloud.json``; return what devcloud.json holds.

    :param networks: the test projects' networks (platform clouds), listed in accounts.yaml.
    :param resources: the provisioned image, flavors, volume type and external network.
    """
    by_project = {network.project: network for network in networks or []}
    etc = ctx.layout.etc
    files = {
        "clouds_yaml": etc / "clouds.yaml",
        "admin_openrc": etc / "admin-openrc",
        "demo_openrc": etc / "demo-openrc",
        "accounts_yaml": etc / "accounts.yaml",
    }
    write_private(files["clouds_yaml"], yaml.safe_dump(_clouds(ctx), sort_keys=False))
    write_private(files["admin_openrc"], _openrc(ctx, ADMIN))
    write_private(files["demo_openrc"], _openrc(ctx, MEMBER))
    write_private(files["accounts_yaml"], yaml.safe_dump(_accounts(ctx, accounts, by_project), sort_keys=False))
    info = _info(ctx, accounts, {name: str(path) for name, path in files.items()}, by_project, resources or {})
    info_file: Path = ctx.layout.info_file
    info_file.write_text(json.dumps(info, indent=2) + "\n")
    return info
