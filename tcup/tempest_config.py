"""Write tempest.conf and accounts.yaml for non-admin, pre-provisioned accounts, from the catalog.

Our own generator, replacing python-tempestconf (LOCAL-CLOUD.md, pitfall 9), which created
users and uploaded images without being asked, set ``operator_role = admin`` and left image-format
enforcement on. This one:

* never creates anything: every value comes from the login and read-only GETs
  (:mod:`tcup.discovery`);
* needs no admin: ``use_dynamic_credentials = false`` and a pre-provisioned ``accounts.yaml``;
* marks services available only when the catalog has them, and sets features from what the
  services announce (identity and image versions, Glance import methods and formats, Swift ``/info``);
* lets the user override any value (``--tempest-option section.key=value``).

The accounts file holds passwords: it is written with mode 0600 into a private directory and never
into the output folder. tempest.conf itself holds no secret (it points at the accounts file).
"""

from __future__ import annotations

import configparser
import io
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from tcup.credentials import CloudCredentials, TestAccount
from tcup.discovery import VOLUME_TYPES, CloudFacts, ServiceInfo
from tcup.errors import CredentialsError

__all__ = [
    "PERSONAS",
    "TempestFiles",
    "persona_roles",
    "plan_accounts",
    "render_tempest_conf",
    "tempest_settings",
    "write_tempest_files",
]

LOG = logging.getLogger(__name__)
PERSONAS = ("admin", "manager", "member", "reader")
# [service_available] option -> catalog types that provide it
SERVICE_TYPES: Mapping[str, tuple[str, ...]] = {
    "glance": ("image",),
    "swift": ("object-store",),
    "nova": ("compute",),
    "neutron": ("network",),
    "cinder": ("block-storage", "volumev3", "volume"),
    "horizon": ("dashboard",),
    "heat": ("orchestration",),
    "designate": ("dns",),
    "barbican": ("key-manager",),
    "manila": ("shared-file-system", "sharev2"),
    "octavia": ("load-balancer",),
}
# The order Glance lists formats in the reference configuration that ran all 83 interop tests.
_DISK_ORDER = ("ami", "ari", "aki", "vhd", "vmdk", "raw", "qcow2", "vdi", "iso", "vhdx", "ploop")
_CONTAINER_ORDER = ("bare", "ami", "ari", "aki", "ovf", "ova", "docker", "compressed")


@dataclass(frozen=True, slots=True)
class TempestFiles:
    """The files of one Tempest configuration."""

    conf: Path
    accounts: Path
    lock_dir: Path
    log_dir: Path


def persona_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """The roles to list for an account in accounts.yaml, from the roles its token carries.

    Keystone's implied roles put ``reader`` in every member's token; Tempest must see each account
    as one persona, so only the strongest of manager > member > reader is listed. ``ResellerAdmin``
    accounts are listed with that role only, so Tempest never hands them out as plain members.
    """
    have = set(roles)
    if "ResellerAdmin" in have:
        return ("ResellerAdmin",)
    for persona in ("manager", "member", "reader"):
        if persona in have:
            return (persona,)
    return tuple(sorted(have))


def plan_accounts(primary: CloudCredentials, facts: CloudFacts, extra: Sequence[TestAccount] = ()) -> list[TestAccount]:
    """The accounts Tempest may use: the primary user first (as ``member``), then ``extra``.

    :raises CredentialsError: when the primary account has the admin role (tcup runs non-admin
        and will not hand admin credentials to Tempest), or no project name is known.
    """
    if "admin" in facts.roles:
        raise CredentialsError(
            f"{primary.describe()} has the admin role; interop runs use a non-admin account. Use a member "
            "of a test project (admin credentials are never needed)"
        )
    project = primary.project_name or facts.project_name
    if not project or not primary.username:
        raise CredentialsError(
            "Tempest's accounts file needs the user and project by name; set OS_USERNAME "
            "and OS_PROJECT_NAME (ids alone are not enough)"
        )
    domain = primary.user_domain_name or "Default"
    same = next((a for a in extra if a.key == (domain, project, primary.username)), None)
    first = TestAccount(
        username=primary.username,
        password=primary.password,
        project_name=project,
        domain_name=domain,
        roles=persona_roles(facts.roles) or ("member",),
        extra=_account_resources(same, facts),
    )
    accounts = [first]
    for account in extra:
        if account.key == first.key:
            continue
        if "admin" in account.roles:
            LOG.warning("leaving out account %s: it has the admin role", account.username)
            continue
        accounts.append(account)
    return accounts


def _account_resources(listed: TestAccount | None, facts: CloudFacts) -> dict[str, object]:
    """The primary account's ``resources`` (its network): from the accounts file, else discovered.

    Tempest boots each account's servers on the network its ``resources`` names; without one it
    falls back to ``compute.fixed_network_name``, which needs admin to be useful.
    """
    if listed is not None and listed.extra:
        return dict(listed.extra)
    network = facts.service("network")
    if network is None or facts.service("compute") is None:
        return {}
    own = network.facts.get("project_networks") or []
    if len(own) == 1:
        return {"resources": {"network": own[0]}}
    LOG.warning(
        "cannot tell which network the servers of %s should use (%d networks in its project); list it "
        "as resources.network in an --accounts-file, or pass --tempest-option compute.fixed_network_name=NAME",
        facts.project_name,
        len(own),
    )
    return {}


def count_members(accounts: Iterable[TestAccount]) -> int:
    """How many accounts can serve as a test class's primary user."""
    return sum(1 for a in accounts if "member" in a.roles)


def tempest_settings(
    facts: CloudFacts,
    creds: CloudCredentials,
    *,
    accounts_file: Path,
    lock_dir: Path,
    log_dir: Path,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Every tempest.conf value, section by section.

    :param overrides: ``section.key`` -> value, applied last.
    """
    region = facts.region or ""
    conf: dict[str, dict[str, str]] = {
        "DEFAULT": {"debug": "false", "use_stderr": "false", "log_dir": str(log_dir), "log_file": "tempest.log"},
        "oslo_concurrency": {"lock_path": str(lock_dir)},
        "auth": {
            "use_dynamic_credentials": "false",
            "test_accounts_file": str(accounts_file),
            "default_credentials_domain_name": creds.user_domain_name or "Default",
            "create_isolated_networks": "false",
            "tempest_roles": "member",
        },
    }
    conf["identity"] = _identity(facts, creds)
    conf["identity-feature-enabled"] = _identity_features(facts)
    conf["service_available"] = {
        option: _bool(any(facts.service(t) is not None for t in types)) for option, types in SERVICE_TYPES.items()
    }
    image = facts.service("image")
    if image is not None:
        conf["image"], conf["image-feature-enabled"] = _image(image.facts, image.versions, region)
    swift = facts.service("object-store")
    if swift is not None:
        conf["object-storage"] = {
            "region": region,
            "endpoint_type": creds.interface,
            "operator_role": _operator_role(facts.roles),
            "reseller_admin_role": "ResellerAdmin",
        }
        conf["object-storage-feature-enabled"] = _swift_features(swift.facts.get("info"))
    for section, service_type in (("compute", "compute"), ("network", "network")):
        if facts.service(service_type) is not None:
            conf.setdefault(section, {}).update({"region": region, "endpoint_type": f"{creds.interface}URL"})
    compute = facts.service("compute")
    if compute is not None:
        conf["compute"].update(_compute_refs(facts))
        conf["compute"].update(_microversion_range(compute, "compute"))
        conf["compute-feature-enabled"] = _compute_features()
    network = facts.service("network")
    if network is not None:
        external = network.facts.get("external_networks") or []
        if len(external) == 1:
            conf["network"]["public_network_id"] = external[0]
        extensions = network.facts.get("extensions") or []
        if extensions:
            conf["network-feature-enabled"] = {"api_extensions": ",".join(extensions)}
    volume = next((facts.service(t) for t in VOLUME_TYPES if facts.service(t) is not None), None)
    if volume is not None:
        conf["volume"] = {
            "region": region,
            "endpoint_type": f"{creds.interface}URL",
            "catalog_type": volume.type,
            **_microversion_range(volume, "volume"),
            **_volume_settings(volume),
        }
        conf["volume-feature-enabled"] = _volume_features(volume)
    # NOTE: enforce_scope makes Tempest use the project reader for GETs; the member works under old
    # and new policy defaults alike, so false is the setting that fails least on an unknown cloud.
    conf["enforce_scope"] = {
        "keystone": "false",
        "glance": "false",
        "placement": "false",
        "nova": "false",
        "neutron": "false",
        "cinder": "false",
    }
    conf["validation"] = {"run_validation": "false"}
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.rpartition(".")
        conf.setdefault(section or "DEFAULT", {})[key] = value
    return conf


def _identity(facts: CloudFacts, creds: CloudCredentials) -> dict[str, str]:
    service = facts.service("identity")
    uri = (service.url if service and service.url else creds.auth_url).rstrip("/")
    if not uri.endswith("/v3"):
        uri = uri.removesuffix("/v2.0") + "/v3"
    section = {
        "uri_v3": uri,
        "auth_version": "v3",
        "region": facts.region or "",
        "v3_endpoint_type": creds.interface,
        "default_domain_id": facts.user_domain_id or "default",
        "admin_role": "admin",
        "disable_ssl_certificate_validation": _bool(creds.insecure),
    }
    if creds.cacert:
        section["ca_certificates_file"] = creds.cacert
    return section


def _identity_features(facts: CloudFacts) -> dict[str, str]:
    identity = facts.service("identity")
    versions = identity.versions if identity is not None else ()
    minor = max((_minor(v) for v in versions if v.startswith("v3")), default=0)
    return {
        "api_v2": _bool(any(v.startswith("v2") for v in versions)),
        "api_v3": "true",
        "trust": "true",
        "access_rules": _bool(minor >= 13),
        "security_compliance": "false",
        "domain_specific_drivers": "false",
        "api_extensions": "all",
    }


def _image(facts: Mapping[str, object], versions: Sequence[str], region: str) -> tuple[dict[str, str], dict[str, str]]:
    disk = _ordered(facts.get("disk_formats"), _DISK_ORDER)
    container = _ordered(facts.get("container_formats"), _CONTAINER_ORDER)
    methods = facts.get("import_methods") or []
    minor = max((_minor(v) for v in versions if v.startswith("v2")), default=0)
    section = {"region": region, "endpoint_type": "publicURL"}
    if disk:
        section["disk_formats"] = ",".join(disk)
    if container:
        section["container_formats"] = ",".join(container)
    features = {
        "api_v2": _bool(any(v.startswith("v2") for v in versions) or not versions),
        "import_image": _bool("glance-direct" in methods if isinstance(methods, list) else False),
        "os_glance_reserved": _bool(minor >= 11),
        # NOTE: the interop tests upload random bytes; Tempest skips ten of them when it believes the
        # cloud inspects formats. Whether it does cannot be seen without uploading, and a rejected
        # upload fails visibly, so the tests run (python-tempestconf left this on: 73 of 83 ran).
        "image_format_enforcement": "false",
        "manage_locations": "false",
        "image_conversion": "false",
        "http_store_enabled": "false",
    }
    return section, features


def _swift_features(info: object) -> dict[str, str]:
    if not isinstance(info, dict):
        return {"discoverability": "false"}
    return {
        "discoverability": "true",
        "container_sync": _bool("container_sync" in info),
        "object_versioning": _bool("object_versioning" in info or "versioned_writes" in info),
    }


def _operator_role(roles: Sequence[str]) -> str:
    """The role Swift's tests ask for: the member role (never admin)."""
    return "member" if "member" in roles or not roles else next((r for r in roles if r != "reader"), "member")


def _microversion_range(service: ServiceInfo, section: str) -> dict[str, str]:
    """``min_microversion``/``max_microversion`` from the service's version document.

    Without them Tempest runs no microversioned test ("out of the configuration range").
    """
    found = service.facts.get("microversions") or {}
    if not found.get("max"):
        LOG.warning(
            "the %s API announces no microversion range; microversioned tests will be skipped unless "
            "you pass --tempest-option %s.min_microversion=X.Y --tempest-option %s.max_microversion=X.Y",
            service.type,
            section,
            section,
        )
        return {}
    return {"min_microversion": found.get("min") or found["max"], "max_microversion": found["max"]}


def _compute_features() -> dict[str, str]:
    """Compute features no API tells a non-admin user: the interop guideline's requirements.

    NOTE: resize is off in Tempest's defaults, but the guideline requires the resize tests; a
    cloud that cannot resize then fails them visibly instead of skipping them. Snapshots, console
    output, pause, suspend, shelve and interface attach stay at Tempest's defaults (on).
    """
    return {"resize": "true"}


def _volume_settings(volume: ServiceInfo) -> dict[str, str]:
    settings: dict[str, str] = {}
    zones = volume.facts.get("availability_zones") or []
    if zones:
        settings["availability_zone"] = str(zones[0])
    else:
        LOG.warning("no volume availability zone found; pass --tempest-option volume.availability_zone=NAME")
    default_type = volume.facts.get("default_type")
    if default_type:
        settings["volume_type"] = str(default_type)
    # NOTE: back-end names are admin-only (scheduler stats, type extra specs); only multi-back-end
    # admin tests read them: --tempest-option volume.backend_names=NAME sets them.
    return settings


def _volume_features(volume: ServiceInfo) -> dict[str, str]:
    features = {
        "api_v3": "true",
        # the backup service cannot be seen without admin; no interop test backs up a volume
        # (--tempest-option volume-feature-enabled.backup=true turns the tests on)
        "backup": "false",
    }
    extensions = volume.facts.get("extensions") or []
    if extensions:
        features["api_extensions"] = ",".join(extensions)
    return features


def _compute_refs(facts: CloudFacts) -> dict[str, str]:
    """An existing public image and the two smallest flavors, for compute tests (never uploaded)."""
    refs: dict[str, str] = {}
    compute = facts.service("compute")
    image = facts.service("image")
    if compute is None:
        return refs
    flavors = sorted(compute.facts.get("flavors") or [], key=lambda f: (f["ram"], f["disk"], str(f["id"])))
    if flavors:
        refs["flavor_ref"] = str(flavors[0]["id"])
        refs["flavor_ref_alt"] = str(flavors[1 if len(flavors) > 1 else 0]["id"])
    else:
        LOG.warning(
            "no flavor found for compute tests; pass --tempest-option compute.flavor_ref=ID "
            "and --tempest-option compute.flavor_ref_alt=ID"
        )
    images = sorted(
        image.facts.get("public_images") or [] if image else [],
        key=lambda i: (0 if "cirros" in str(i.get("name", "")).lower() else 1, i["size"]),
    )
    if images:
        refs["image_ref"] = str(images[0]["id"])
        refs["image_ref_alt"] = str(images[1 if len(images) > 1 else 0]["id"])
    else:
        LOG.warning("no public image found for compute tests; pass --tempest-option compute.image_ref=ID")
    return refs


def render_tempest_conf(settings: Mapping[str, Mapping[str, str]]) -> str:
    """The ini text of ``settings``."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    for section, values in settings.items():
        if section != "DEFAULT":
            parser.add_section(section)
        for key, value in values.items():
            parser.set(section, key, value)
    out = io.StringIO()
    out.write("# tempest.conf written by tcup from the cloud's catalog (non-admin, pre-provisioned accounts)\n")
    parser.write(out)
    return out.getvalue()


def write_tempest_files(
    directory: Path,
    facts: CloudFacts,
    creds: CloudCredentials,
    accounts: Sequence[TestAccount],
    *,
    overrides: Mapping[str, str] | None = None,
) -> TempestFiles:
    """Write ``etc/tempest.conf`` and ``etc/accounts.yaml`` (0600) under a private ``directory``."""
    etc = directory / "etc"
    files = TempestFiles(
        conf=etc / "tempest.conf",
        accounts=etc / "accounts.yaml",
        lock_dir=directory / "locks",
        log_dir=directory / "logs",
    )
    for path in (etc, files.lock_dir, files.log_dir):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = yaml.safe_dump([a.to_yaml_dict() for a in accounts], sort_keys=False)
    fd = os.open(files.accounts, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    settings = tempest_settings(
        facts, creds, accounts_file=files.accounts, lock_dir=files.lock_dir, log_dir=files.log_dir, overrides=overrides
    )
    files.conf.write_text(render_tempest_conf(settings))
    return files


def _ordered(values: object, order: Sequence[str]) -> list[str]:
    if not isinstance(values, list):
        return []
    known = [v for v in order if v in values]
    return known + sorted(v for v in values if v not in known and isinstance(v, str))


def _minor(version: str) -> int:
    try:
        return int(version.lstrip("v").split(".")[1])
    except (IndexError, ValueError):
        return 0


def _bool(value: bool) -> str:
    return "true" if value else "false"
