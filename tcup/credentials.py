"""Cloud credentials from ``OS_*`` variables, a clouds.yaml entry or flags, and Tempest test accounts.

Every password lives in a :class:`Secret`, whose ``repr`` and ``str`` are ``'***'``, so a
credential object can be logged, printed or put in an exception message without leaking.
The few places that need the value call :meth:`Secret.reveal`; :func:`redact_text` blanks
known secrets out of anything written to disk.

Precedence (as the ``openstack`` CLI does it): a cloud named with ``--os-cloud``/``$OS_CLOUD``
is read from clouds.yaml with openstacksdk's loader, and command-line flags override its fields;
without a cloud, ``OS_*`` variables and flags are used.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from tcup.errors import CredentialsError

__all__ = [
    "CloudCredentials",
    "Secret",
    "TestAccount",
    "credentials_from_cloud",
    "credentials_from_env",
    "read_accounts_file",
    "redact_text",
    "resolve_credentials",
]

REDACTED = "***"

# OS_* variable -> CloudCredentials field (the names python-openstackclient reads)
_ENV_FIELDS = {
    "OS_AUTH_URL": "auth_url",
    "OS_USERNAME": "username",
    "OS_USER_ID": "user_id",
    "OS_PASSWORD": "password",
    "OS_PROJECT_NAME": "project_name",
    "OS_TENANT_NAME": "project_name",
    "OS_PROJECT_ID": "project_id",
    "OS_TENANT_ID": "project_id",
    "OS_USER_DOMAIN_NAME": "user_domain_name",
    "OS_USER_DOMAIN_ID": "user_domain_id",
    "OS_PROJECT_DOMAIN_NAME": "project_domain_name",
    "OS_PROJECT_DOMAIN_ID": "project_domain_id",
    "OS_REGION_NAME": "region_name",
    "OS_INTERFACE": "interface",
    "OS_CACERT": "cacert",
}


class Secret:
    """A secret text whose ``repr`` and ``str`` are ``'***'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: only for the request or file that needs it."""
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudCredentials:
    """How to authenticate to a cloud as one (non-admin) user, with a password."""

    auth_url: str
    password: Secret
    username: str | None = None
    user_id: str | None = None
    project_name: str | None = None
    project_id: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    region_name: str | None = None
    interface: str = "public"
    cacert: str | None = None
    insecure: bool = False
    source: str = "flags"  # where they came from, for messages: "OS_* variables", "cloud 'x' in ..."

    def describe(self) -> str:
        """``user demo in project demo at http://...`` (never the password)."""
        return f"{self.who()} at {self.auth_url}"

    def who(self) -> str:
        """``user demo in project demo``."""
        return f"user {self.username or self.user_id} in project {self.project_name or self.project_id}"

    def secrets(self) -> list[str]:
        """The secret values to keep out of every output."""
        return [self.password.reveal()] if self.password else []

    def keystone_auth_args(self) -> dict[str, Any]:
        """Arguments of keystoneauth1's ``generic.Password`` (the only place the password is revealed)."""
        args: dict[str, Any] = {"auth_url": self.auth_url, "password": self.password.reveal()}
        for name in (
            "username",
            "user_id",
            "project_name",
            "project_id",
            "user_domain_name",
            "user_domain_id",
            "project_domain_name",
            "project_domain_id",
        ):
            value = getattr(self, name)
            if value:
                args[name] = value
        if not (self.user_domain_name or self.user_domain_id) and self.username:
            args["user_domain_id"] = "default"
        if not (self.project_domain_name or self.project_domain_id) and self.project_name:
            args["project_domain_id"] = "default"
        return args


@dataclass(frozen=True, slots=True, kw_only=True)
class TestAccount:
    """One pre-provisioned account of Tempest's ``accounts.yaml``."""

    __test__ = False

    username: str
    password: Secret
    project_name: str
    domain_name: str = "Default"
    roles: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # other keys (types, resources, ...)

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity of the account: (domain, project, user)."""
        return (self.domain_name, self.project_name, self.username)

    def to_yaml_dict(self) -> dict[str, Any]:
        """The accounts.yaml entry (reveals the password: only for Tempest's private copy)."""
        entry: dict[str, Any] = {
            "username": self.username,
            "project_name": self.project_name,
            "password": self.password.reveal(),
            "domain_name": self.domain_name,
        }
        if self.roles:
            entry["roles"] = list(self.roles)
        entry.update(self.extra)
        return entry


def _check_complete(creds: CloudCredentials, how_to_fix: str) -> CloudCredentials:
    problems = []
    if not creds.auth_url:
        problems.append("no auth URL (OS_AUTH_URL / --os-auth-url)")
    elif not creds.auth_url.startswith(("http://", "https://")):
        problems.append(f"the auth URL {creds.auth_url!r} does not start with http:// or https://")
    if not (creds.username or creds.user_id):
        problems.append("no user (OS_USERNAME / --os-username)")
    if not creds.password:
        problems.append(
            "no password (OS_PASSWORD / --os-password); tokens and application credentials "
            "cannot be used, since Tempest logs in itself with a username and password"
        )
    if not (creds.project_name or creds.project_id):
        problems.append("no project (OS_PROJECT_NAME / --os-project-name)")
    if problems:
        raise CredentialsError(f"incomplete credentials from {creds.source}: {'; '.join(problems)}. {how_to_fix}")
    return creds


def credentials_from_env(environ: Mapping[str, str] | None = None) -> CloudCredentials:
    """Read ``OS_*`` variables (without checking they are complete)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for var, name in _ENV_FIELDS.items():
        if environ.get(var) and name not in values:
            values[name] = environ[var]
    values["password"] = Secret(values.get("password", ""))
    values.setdefault("auth_url", "")
    values.setdefault("interface", "public")
    values["interface"] = _interface(values["interface"])
    values["insecure"] = environ.get("OS_INSECURE", "").lower() in ("1", "true", "yes")
    return CloudCredentials(source="OS_* variables", **values)


def credentials_from_cloud(name: str, *, config_file: str | Path | None = None) -> CloudCredentials:
    """Read the cloud ``name`` from clouds.yaml with openstacksdk's loader.

    :param config_file: a clouds.yaml to read instead of the standard locations
        (``$OS_CLIENT_CONFIG_FILE``, ``./clouds.yaml``, ``~/.config/openstack/clouds.yaml``, ...).
    :raises CredentialsError: when the cloud is not found or the file cannot be read.
    """
    from openstack import exceptions as sdk_exceptions
    from openstack.config import loader

    files = [str(config_file)] if config_file else None
    if config_file and not Path(config_file).is_file():
        raise CredentialsError(f"clouds.yaml file {config_file} does not exist")
    where = str(config_file) if config_file else "the standard clouds.yaml locations"
    try:
        config = loader.OpenStackConfig(config_files=files, load_envvars=False)
        with warnings.catch_warnings():
            # NOTE: openstacksdk warns about its own deprecated metrics options on every load
            warnings.simplefilter("ignore")
            region = config.get_one(cloud=name)
    except sdk_exceptions.ConfigException as exc:
        raise CredentialsError(
            f"cloud {name!r} not found in {where} ({str(exc).rstrip('.')}); check the name "
            "or pass the file with --os-client-config-file"
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        raise CredentialsError(f"cannot read clouds.yaml ({where}): {exc}") from None
    auth = dict(region.config.get("auth") or {})
    auth_type = region.config.get("auth_type") or "password"
    if auth_type not in ("password", "v3password", "v2password"):
        raise CredentialsError(
            f"cloud {name!r} uses auth_type {auth_type!r}; tcup needs a username and "
            "password (auth_type: password), since Tempest logs in itself"
        )
    verify = region.config.get("verify", True)
    return CloudCredentials(
        auth_url=auth.get("auth_url") or "",
        password=Secret(str(auth.get("password") or "")),
        username=auth.get("username"),
        user_id=auth.get("user_id"),
        project_name=auth.get("project_name") or auth.get("tenant_name"),
        project_id=auth.get("project_id") or auth.get("tenant_id"),
        user_domain_name=auth.get("user_domain_name"),
        user_domain_id=auth.get("user_domain_id"),
        project_domain_name=auth.get("project_domain_name"),
        project_domain_id=auth.get("project_domain_id"),
        region_name=region.region_name or None,
        interface=_interface(region.config.get("interface") or "public"),
        cacert=region.config.get("cacert"),
        insecure=verify is False,
        source=f"cloud {name!r} in {where}",
    )


def resolve_credentials(
    *,
    cloud: str | None = None,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> CloudCredentials:
    """The credentials to run with: a clouds.yaml cloud or ``OS_*`` variables, then flag overrides.

    :param overrides: CloudCredentials field -> value given on the command line (None = not given);
        ``password`` may be a plain string.
    :raises CredentialsError: when the result is incomplete or the cloud cannot be read.
    """
    environ = os.environ if environ is None else environ
    base = credentials_from_cloud(cloud, config_file=config_file) if cloud else credentials_from_env(environ)
    given = {k: v for k, v in (overrides or {}).items() if v not in (None, "", False)}
    if "password" in given and not isinstance(given["password"], Secret):
        given["password"] = Secret(str(given["password"]))
    if "interface" in given:
        given["interface"] = _interface(given["interface"])
    creds = replace(base, **given) if given else base
    fix = (
        "Use --os-cloud NAME with a clouds.yaml entry, or set OS_AUTH_URL, OS_USERNAME, OS_PASSWORD "
        "and OS_PROJECT_NAME (for instance by sourcing an openrc file)."
    )
    return _check_complete(creds, fix)


def read_accounts_file(path: str | Path) -> list[TestAccount]:
    """Read a Tempest ``accounts.yaml`` (username, password, project_name, domain_name, roles, ...).

    :raises CredentialsError: when the file is missing or an entry lacks a required key.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CredentialsError(f"cannot read the accounts file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CredentialsError(f"the accounts file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, list):
        raise CredentialsError(f"the accounts file {path} must be a YAML list of accounts, as Tempest's accounts.yaml")
    accounts, problems = [], []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            problems.append(f"entry {i + 1} is not a mapping")
            continue
        missing = [k for k in ("username", "password") if not entry.get(k)]
        project = entry.get("project_name") or entry.get("tenant_name")
        if not project:
            missing.append("project_name")
        if missing:
            problems.append(f"entry {i + 1} ({entry.get('username', '?')}) lacks {', '.join(missing)}")
            continue
        extra = {
            k: v
            for k, v in entry.items()
            if k not in ("username", "password", "project_name", "tenant_name", "domain_name", "roles")
        }
        accounts.append(
            TestAccount(
                username=str(entry["username"]),
                password=Secret(str(entry["password"])),
                project_name=str(project),
                domain_name=str(entry.get("domain_name") or "Default"),
                roles=tuple(str(r) for r in entry.get("roles") or ()),
                extra=extra,
            )
        )
    if problems:
        raise CredentialsError(f"the accounts file {path} has problems: {'; '.join(problems)}")
    return accounts


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value in ``text`` by ``***`` (longest first)."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _interface(value: str) -> str:
    value = value.lower()
    return value[: -len("url")] if value.endswith("url") else value
