"""Keystone contents of a devcloud: roles, service users, the catalog and the test accounts.

Talks to Keystone's REST API with an admin token, find-or-create throughout, so provisioning can
run again against a kept database. ``keystone-manage bootstrap`` has already created the admin
user, the admin project and the identity endpoint.

Test accounts (all in domain Default, one password): each test project ``P`` has a member ``P``,
a reader ``P_reader`` and a manager ``P_manager`` (Tempest 47's pre-provisioned credentials look
for a project reader and manager beside the primary user), and two projects hold a user with
``member`` + ``ResellerAdmin`` for Swift's account-quota tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests

from tcup.devcloud.configs import REGION
from tcup.errors import DevcloudError

__all__ = [
    "Account",
    "KeystoneAdmin",
    "ServiceEndpoint",
    "get_token",
    "provision_keystone",
    "default_accounts",
]

ROLES = ("admin", "member", "reader", "manager", "service", "ResellerAdmin")
SERVICE_USERS = ("glance", "placement", "swift")
_TIMEOUT = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A non-admin test user and the roles it holds in its project."""

    username: str
    project: str
    roles: tuple[str, ...]
    listed_roles: tuple[str, ...]  # the roles accounts.yaml shows Tempest


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceEndpoint:
    """A catalog entry: service name and type, and its URL (same for every interface)."""

    name: str
    type: str
    url: str


def default_accounts(projects: int = 12) -> list[Account]:
    """Return the test accounts: ``projects`` test projects, then two reseller admins.

    The first two projects are ``demo`` and ``alt_demo``; spares (``demo3`` ...) let Tempest
    run classes in parallel with pre-provisioned accounts.
    """
    names = ["demo", "alt_demo", *(f"demo{i}" for i in range(3, projects + 1))]
    accounts = []
    for project in names:
        accounts.append(Account(username=project, project=project, roles=("member",), listed_roles=("member",)))
        for role in ("reader", "manager"):
            accounts.append(Account(username=f"{project}_{role}", project=project, roles=(role,), listed_roles=(role,)))
    # NOTE: listed with ResellerAdmin only, so Tempest never hands them out as a plain member:
    # a reseller may change its own account quota, which a negative quota test forbids
    for name in ("swiftop", "swiftop2"):
        accounts.append(
            Account(
                username=name,
                project=name,
                roles=("member", "ResellerAdmin"),
                listed_roles=("ResellerAdmin",),
            )
        )
    return accounts


def _fail(what: str, detail: str, log_hint: str) -> DevcloudError:
    return DevcloudError(f"Keystone provisioning failed: {what}: {detail}; read {log_hint}")


def get_token(
    keystone_url: str, *, username: str, password: str, project: str, log_hint: str = "the Keystone log"
) -> tuple[str, dict[str, Any]]:
    """Authenticate with a password, project-scoped; return (token, token body).

    :raises DevcloudError: when Keystone cannot be reached or refuses the credentials.
    """
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": username, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    try:
        resp = requests.post(f"{keystone_url}/v3/auth/tokens", json=body, timeout=_TIMEOUT)
    except requests.RequestException as exc:
        raise _fail(f"authenticating {username}", str(exc), log_hint) from exc
    if resp.status_code != 201:
        raise _fail(f"authenticating {username}", f"HTTP {resp.status_code}", log_hint)
    return resp.headers["X-Subject-Token"], resp.json()["token"]


class KeystoneAdmin:
    """A minimal admin client of the Keystone v3 API (just what provisioning needs)."""

    def __init__(self, keystone_url: str, *, admin_password: str, log_hint: str) -> None:
        self.url = f"{keystone_url}/v3"
        self.log_hint = log_hint
        token, _ = get_token(
            keystone_url, username="admin", password=admin_password, project="admin", log_hint=log_hint
        )
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and return its JSON body ({} when there is none)."""
        try:
            resp = self.session.request(method, f"{self.url}{path}", json=body, timeout=_TIMEOUT)
        except requests.RequestException as exc:
            raise _fail(f"{method} {path}", str(exc), self.log_hint) from exc
        if resp.status_code >= 300:
            raise _fail(f"{method} {path}", f"HTTP {resp.status_code} {resp.text[:300]}", self.log_hint)
        return resp.json() if resp.content else {}

    def ids_by_name(self, collection: str) -> dict[str, str]:
        """Return ``{name: id}`` of every member of ``collection`` (roles, projects, users...)."""
        return {item["name"]: item["id"] for item in self.call("GET", f"/{collection}")[collection]}

    def ensure(self, collection: str, known: dict[str, str], name: str, fields: dict[str, Any]) -> str:
        """Return the id of ``name`` in ``collection``, creating it with ``fields`` if missing."""
        if name not in known:
            single = collection[:-1]
            created = self.call("POST", f"/{collection}", {single: {"name": name, **fields}})
            known[name] = created[single]["id"]
        return known[name]

    def grant(self, project_id: str, user_id: str, role_id: str) -> None:
        """Give a user a role on a project (a no-op when it already has it)."""
        self.call("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")

    def ensure_service(self, endpoint: ServiceEndpoint) -> None:
        """Register a service and its public, internal and admin endpoints in RegionOne."""
        services = self.call("GET", f"/services?type={endpoint.type}")["services"]
        if services:
            service_id = services[0]["id"]
        else:
            body = {"service": {"name": endpoint.name, "type": endpoint.type, "enabled": True}}
            service_id = self.call("POST", "/services", body)["service"]["id"]
        existing = {
            (item["interface"], item["url"])
            for item in self.call("GET", f"/endpoints?service_id={service_id}")["endpoints"]
        }
        for interface in ("public", "internal", "admin"):
            if (interface, endpoint.url) not in existing:
                fields = {"interface": interface, "url": endpoint.url, "region_id": REGION}
                self.call("POST", "/endpoints", {"endpoint": {"service_id": service_id, **fields}})


def provision_keystone(
    admin: KeystoneAdmin,
    *,
    service_password: str,
    user_password: str,
    endpoints: Iterable[ServiceEndpoint],
    accounts: Iterable[Account],
    service_users: Iterable[str] = SERVICE_USERS,
) -> dict[str, str]:
    """Create the roles, service users, catalog entries and test accounts that are missing.

    :returns: every project's id by name.
    :raises DevcloudError: when Keystone refuses a request.
    """
    roles = admin.ids_by_name("roles")
    for role in ROLES:
        admin.ensure("roles", roles, role, {})
    projects = admin.ids_by_name("projects")
    users = admin.ids_by_name("users")

    def ensure_user(name: str, password: str, project_id: str) -> str:
        fields = {"password": password, "domain_id": "default", "default_project_id": project_id}
        return admin.ensure("users", users, name, fields)

    service_project = admin.ensure(
        "projects", projects, "service", {"domain_id": "default", "description": "devcloud services"}
    )
    for name in service_users:
        user_id = ensure_user(name, service_password, service_project)
        for role in ("admin", "service"):
            admin.grant(service_project, user_id, roles[role])
    for endpoint in endpoints:
        admin.ensure_service(endpoint)
    for account in accounts:
        project_id = admin.ensure(
            "projects", projects, account.project, {"domain_id": "default", "description": "devcloud test"}
        )
        user_id = ensure_user(account.username, user_password, project_id)
        for role in account.roles:
            admin.grant(project_id, user_id, roles[role])
    return projects
