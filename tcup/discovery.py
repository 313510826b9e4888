"""Discover a cloud through Keystone: the catalog, each service's API versions and features, the cpid.

One project-scoped password login (keystoneauth1, with a timeout) gives the catalog; then a few
read-only GETs, run in parallel, tell which API versions and features each service offers:

* identity: the version document (``v3.14``), and whether ``/v2.0`` is still served;
* image: the versions, the import methods (``/v2/info/import``) and the disk and container
  formats the image schema allows (``/v2/schemas/image``);
* object-store: Swift's ``/info`` (discoverability, container sync, versioning, ...);
* compute: the microversion range (version document), the flavors, the availability zones;
  the public images come from the image service;
* network: the external networks, the networks of the user's project, the API extensions;
* block-storage: the microversion range, the availability zones, the default volume type,
  the API extensions;
* any other service: its version document, when it answers.

Nothing is created. The cpid follows refstack-client's rule: the catalog id of the
identity service, else the md5 of the auth URL's hostname. A fingerprint of the auth URL and the
region is recorded beside it, so a redeployed cloud can still be recognised.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import generic

from tcup.credentials import CloudCredentials, Secret
from tcup.errors import CredentialsError, DiscoveryError

__all__ = ["CloudFacts", "ServiceInfo", "auth_fingerprint", "cpid_from_catalog", "cpid_from_url", "discover_cloud"]

LOG = logging.getLogger(__name__)
TIMEOUT = 20.0
VOLUME_TYPES = ("block-storage", "volumev3", "volume")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceInfo:
    """One catalog service, as seen from the chosen region and interface."""

    type: str
    name: str | None
    id: str | None
    url: str | None  # the endpoint for our region and interface
    versions: tuple[str, ...] = ()  # API versions the service announces ("v2.15", "v3.14", ...)
    facts: Mapping[str, Any] = field(default_factory=dict)  # service-specific probes (see module doc)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudFacts:
    """What tcup knows about a cloud after logging in once."""

    cpid: str
    cpid_source: str  # "identity service id" or "md5 of the auth URL hostname"
    auth_url: str
    region: str | None
    fingerprint: str
    identity_version: str  # "v3" or "v2.0"
    user_id: str
    user_domain_id: str | None
    project_id: str
    project_name: str | None
    roles: tuple[str, ...]
    services: Mapping[str, ServiceInfo]
    token: Secret = field(repr=False)
    seconds: float = 0.0
    notes: tuple[str, ...] = ()  # probes that failed (not fatal)

    def service(self, service_type: str) -> ServiceInfo | None:
        """The service of this type (aliases: volume types, object-store)."""
        return self.services.get(service_type)


def cpid_from_url(auth_url: str) -> str:
    """RefStack's fallback cpid: the md5 hex of the auth URL's hostname (no scheme, no port).

    :raises DiscoveryError: for a URL that is not http(s), as refstack-client refused it.
    """
    parts = urlsplit(auth_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DiscoveryError(
            f"{auth_url!r} is not an http(s) URL; give the Keystone endpoint, e.g. https://keystone.example.com:5000/v3"
        )
    return hashlib.md5(parts.hostname.encode("utf-8"), usedforsecurity=False).hexdigest()


def cpid_from_catalog(catalog: list[dict[str, Any]]) -> str | None:
    """The identity service's id (v3), or its first endpoint's id (v2), as refstack-client took it."""
    for service in catalog:
        if service.get("type") != "identity":
            continue
        if service.get("id"):
            return str(service["id"])
        endpoints = service.get("endpoints") or []
        if endpoints and "publicURL" in endpoints[0] and endpoints[0].get("id"):
            return str(endpoints[0]["id"])
    return None


def auth_fingerprint(auth_url: str, region: str | None) -> str:
    """A stable id of the cloud: sha256 of the normalised auth URL (scheme, host, port, path) and region."""
    parts = urlsplit(auth_url.strip())
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path.rstrip("/")
    text = f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}{path}|{region or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def connection_problem(exc: Exception) -> str:
    """What went wrong with a connection, in a few words (not urllib3's pool text)."""
    text = str(exc)
    for needle, words in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("No route to host", "no route to host"),
        ("timed out", "timed out"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verification failed"),
    ):
        if needle in text:
            return words
    return type(exc).__name__


def discover_cloud(creds: CloudCredentials, *, timeout: float = TIMEOUT, probe: bool = True) -> CloudFacts:
    """Log in once and probe the services (read-only).

    :param probe: also ask each service for its versions and features.
    :raises CredentialsError: when Keystone refuses the credentials.
    :raises DiscoveryError: when Keystone cannot be reached or answers nonsense.
    """
    started = time.monotonic()
    verify: bool | str = creds.cacert or not creds.insecure
    auth = generic.Password(**creds.keystone_auth_args())
    session = ks_session.Session(auth=auth, verify=verify, timeout=timeout)
    where = creds.auth_url
    try:
        access = auth.get_access(session)
    except ks_exc.Unauthorized:
        raise CredentialsError(
            f"Keystone at {where} refused the credentials of {creds.who()} "
            f"(from {creds.source}); check the password, user and project names and "
            "their domains"
        ) from None
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.SSLError) as exc:
        hint = "; pass --os-cacert FILE or --insecure" if isinstance(exc, ks_exc.SSLError) else ""
        raise DiscoveryError(f"cannot reach Keystone at {where}: {connection_problem(exc)}{hint}") from None
    except ks_exc.DiscoveryFailure as exc:
        raise DiscoveryError(
            f"{where} does not look like a Keystone endpoint ({exc}); give the identity URL, usually ending in /v3"
        ) from None
    except ks_exc.ClientException as exc:
        raise DiscoveryError(f"logging in to Keystone at {where} failed: {exc}") from None

    catalog: list[dict[str, Any]] = list(access.service_catalog.catalog or [])
    cpid = cpid_from_catalog(catalog)
    cpid_source = "identity service id"
    if cpid is None:
        cpid, cpid_source = cpid_from_url(creds.auth_url), "md5 of the auth URL hostname"
    region = creds.region_name or _identity_region(catalog)
    services = {s["type"]: _service(s, region, creds.interface) for s in catalog if s.get("type")}
    notes: list[str] = []
    if probe:
        services, notes = _probe_all(session, services, creds.auth_url, timeout, access.project_id or "")
    return CloudFacts(
        cpid=cpid,
        cpid_source=cpid_source,
        auth_url=creds.auth_url,
        region=region,
        fingerprint=auth_fingerprint(creds.auth_url, region),
        identity_version="v2.0" if getattr(access, "version", "v3") == "v2.0" else "v3",
        user_id=access.user_id or "",
        user_domain_id=getattr(access, "user_domain_id", None),
        project_id=access.project_id or "",
        project_name=access.project_name,
        roles=tuple(access.role_names or ()),
        services=services,
        token=Secret(access.auth_token or ""),
        seconds=round(time.monotonic() - started, 3),
        notes=tuple(notes),
    )


def _identity_region(catalog: list[dict[str, Any]]) -> str | None:
    for service in catalog:
        if service.get("type") == "identity":
            for endpoint in service.get("endpoints") or []:
                region = endpoint.get("region_id") or endpoint.get("region")
                if region:
                    return str(region)
    return None


def _service(entry: dict[str, Any], region: str | None, interface: str) -> ServiceInfo:
    url = None
    for endpoint in entry.get("endpoints") or []:
        ep_region = endpoint.get("region_id") or endpoint.get("region")
        if region and ep_region and ep_region != region:
            continue
        if "interface" in endpoint:  # v3
            if endpoint["interface"] == interface:
                url = endpoint.get("url")
                break
        elif f"{interface}URL" in endpoint:  # v2
            url = endpoint[f"{interface}URL"]
            break
    return ServiceInfo(type=entry["type"], name=entry.get("name"), id=entry.get("id"), url=url)


def _probe_all(
    session: ks_session.Session, services: dict[str, ServiceInfo], auth_url: str, timeout: float, project_id: str
) -> tuple[dict[str, ServiceInfo], list[str]]:
    notes: list[str] = []

    def get(url: str) -> Any:
        try:
            response = session.get(
                url, authenticated=True, raise_exc=False, timeout=timeout, headers={"Accept": "application/json"}
            )
        except ks_exc.ClientException as exc:
            notes.append(f"GET {url}: {exc}")
            return None
        if response.status_code >= 400 or response.status_code < 200:
            notes.append(f"GET {url}: HTTP {response.status_code}")
            return None
        try:
            return response.json()
        except ValueError:
            notes.append(f"GET {url}: not JSON")
            return None

    def probe(info: ServiceInfo) -> ServiceInfo:
        if not info.url:
            return info
        if info.type == "object-store":
            root = info.url.split("/v1", 1)[0]
            swift = get(f"{root}/info")
            return _with(info, ("v1",), {"info": swift} if isinstance(swift, dict) else {})
        root_doc = get(_root(info.url))
        versions = _versions(root_doc)
        if info.type == "identity":
            root_versions = _versions(get(_root(auth_url)))
            versions = tuple(sorted(set(versions) | set(root_versions)))
            return _with(info, versions, {})
        if info.type == "image":
            base = info.url.rstrip("/")
            imports = get(f"{base}/v2/info/import")
            schema = get(f"{base}/v2/schemas/image")
            methods = ((imports or {}).get("import-methods") or {}).get("value") or []
            props = (schema or {}).get("properties") or {}
            return _with(
                info,
                versions,
                {
                    "import_methods": list(methods),
                    "disk_formats": [f for f in (props.get("disk_format") or {}).get("enum") or [] if f],
                    "container_formats": [f for f in (props.get("container_format") or {}).get("enum") or [] if f],
                    **(
                        {
                            "public_images": _public_images(
                                get(f"{base}/v2/images?visibility=public&status=active&limit=100")
                            )
                        }
                        if "compute" in services
                        else {}
                    ),
                },
            )
        if info.type == "compute":
            base = info.url.rstrip("/")
            flavors = get(f"{base}/flavors/detail")
            zones = get(f"{base}/os-availability-zone")
            return _with(
                info,
                versions,
                {
                    "flavors": _flavors(flavors),
                    "microversions": _microversions(root_doc, "v2.1"),
                    "availability_zones": _zones(zones),
                },
            )
        if info.type == "network":
            base = info.url.rstrip("/")
            nets = get(f"{base}/v2.0/networks?router:external=True")
            external = [n["id"] for n in (nets or {}).get("networks") or [] if isinstance(n, dict) and n.get("id")]
            own = get(f"{base}/v2.0/networks?project_id={project_id}")
            extensions = get(f"{base}/v2.0/extensions")
            return _with(
                info,
                versions,
                {
                    "external_networks": external,
                    "project_networks": [
                        str(n["name"])
                        for n in (own or {}).get("networks") or []
                        if isinstance(n, dict) and n.get("name") and not n.get("router:external")
                    ],
                    "extensions": _aliases(extensions),
                },
            )
        if info.type in VOLUME_TYPES:
            base = info.url.rstrip("/")
            zones = get(f"{base}/os-availability-zone")
            default_type = get(f"{base}/types/default")
            extensions = get(f"{base}/extensions")
            return _with(
                info,
                versions,
                {
                    "microversions": _microversions(root_doc, "v3.0"),
                    "availability_zones": _zones(zones),
                    "default_type": ((default_type or {}).get("volume_type") or {}).get("name")
                    if isinstance(default_type, dict)
                    else None,
                    "extensions": _aliases(extensions),
                },
            )
        return _with(info, versions, {})

    with ThreadPoolExecutor(max_workers=6) as pool:
        probed = list(pool.map(probe, services.values()))
    for note in notes:
        LOG.info("discovery: %s", note)
    return {s.type: s for s in probed}, notes


def _microversions(doc: Any, version_id: str) -> dict[str, str]:
    """The ``min_version``/``version`` range of one entry of a version document ({} without one)."""
    raw = doc.get("versions") if isinstance(doc, dict) else None
    if isinstance(raw, dict):
        raw = raw.get("values")
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, dict) and entry.get("id") == version_id and entry.get("version"):
            return {"min": str(entry.get("min_version") or ""), "max": str(entry["version"])}
    return {}


def _zones(doc: Any) -> list[str]:
    """Available zone names from a Nova or Cinder ``os-availability-zone`` document."""
    zones = (doc or {}).get("availabilityZoneInfo") if isinstance(doc, dict) else None
    return [
        str(z["zoneName"])
        for z in zones or []
        if isinstance(z, dict) and z.get("zoneName") and (z.get("zoneState") or {}).get("available", True)
    ]


def _aliases(doc: Any) -> list[str]:
    """Extension aliases from an ``extensions`` document."""
    extensions = (doc or {}).get("extensions") if isinstance(doc, dict) else None
    return sorted({str(e["alias"]) for e in extensions or [] if isinstance(e, dict) and e.get("alias")})


def _public_images(doc: Any) -> list[dict[str, Any]]:
    images = (doc or {}).get("images") if isinstance(doc, dict) else None
    return [
        {"id": i["id"], "name": i.get("name"), "size": i.get("size") or 0, "disk_format": i.get("disk_format")}
        for i in images or []
        if isinstance(i, dict) and i.get("id")
    ]


def _flavors(doc: Any) -> list[dict[str, Any]]:
    flavors = (doc or {}).get("flavors") if isinstance(doc, dict) else None
    return [
        {"id": f["id"], "name": f.get("name"), "ram": f.get("ram") or 0, "disk": f.get("disk") or 0}
        for f in flavors or []
        if isinstance(f, dict) and f.get("id")
    ]


def _with(info: ServiceInfo, versions: tuple[str, ...], facts: dict[str, Any]) -> ServiceInfo:
    return ServiceInfo(type=info.type, name=info.name, id=info.id, url=info.url, versions=versions, facts=facts)


def _root(url: str) -> str:
    """The version-discovery document of an endpoint: ``http://h:9292/v2/`` -> ``http://h:9292/``."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    while segments and (
        segments[-1].startswith(("v1", "v2", "v3", "AUTH_")) or "%(" in segments[-1] or len(segments[-1]) == 32
    ):
        segments.pop()
    return f"{parts.scheme}://{parts.netloc}/{'/'.join(segments)}{'/' if segments else ''}"


def _versions(doc: Any) -> tuple[str, ...]:
    """Version ids from a discovery document (``{"versions": [...]}``, ``{"versions": {"values": [...]}}``
    or ``{"version": {...}}``)."""
    if not isinstance(doc, dict):
        return ()
    raw = doc.get("versions", doc.get("version"))
    if isinstance(raw, dict):
        raw = raw.get("values", [raw])
    if not isinstance(raw, list):
        return ()
    return tuple(sorted({str(v["id"]) for v in raw if isinstance(v, dict) and v.get("id")}))
