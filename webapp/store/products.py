"""Products, their versions, the runs attached to them, and the public registry.

A product belongs to a vendor and is a distro (``product_type`` 0), a public cloud (1) or
a hosted private cloud (2); RefStack also kept a coarse ``type``: 1 (software) for a distro,
0 (cloud) otherwise. Every product has a default version (``version`` null, or the version
given at creation) made with it, which cannot be deleted. A version may carry the cpid of
the cloud it is, so that a signed upload from that cloud is attached to it.

The registry (public products with their latest verified run) and the public product list are
cached per app, keyed by a counter that every change to vendors, products, versions,
attachments and verification bumps. The counter is read at most once a second per app: a
change shows at once in the process that made it and within a second in every other worker.
"""

from __future__ import annotations

import heapq
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.store.cache import caches_of
from webapp.store.errors import AlreadyExists, NotFound
from webapp.store.tables import Organization, Product, ProductVersion, Run, RunCount, User
from webapp.store.vendors import PUBLIC_TYPES, REGISTRY_CHANGES, InUse, InvalidState, admin_vendor_ids
from webapp.store.vendors import REGISTRY_CHECKED as _CHECKED
from webapp.store.vendors import bump_registry as _bump

DISTRO, PUBLIC_CLOUD, HOSTED_PRIVATE_CLOUD = 0, 1, 2
PRODUCT_TYPES = (DISTRO, PUBLIC_CLOUD, HOSTED_PRIVATE_CLOUD)
CLOUD, SOFTWARE = 0, 1
_BY_NAME = (Product.name, Product.created_at.desc(), Product.id)
RECHECK_SECONDS = 1.0
EMPTY_VERSION = (
    "Can not delete the empty version as it is used for basic product/test association. This version was "
    "implicitly created with the product, and so it cannot be deleted explicitly."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRecord:
    """A product as the API shows it; ``created_by`` is the creator's openid."""

    id: str
    name: str
    description: str | None
    product_ref_id: str | None
    organization_id: str
    created_by: str | None
    public: bool
    properties: str | None
    type: int
    product_type: int
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRecord:
    """A product version, with what a run's ``product_version`` shows of its product."""

    id: str
    product_id: str
    version: str | None
    cpid: str | None
    product_name: str
    organization_id: str
    public: bool

    def product_info(self) -> dict[str, Any]:
        """RefStack's ``product_info``."""
        return {
            "id": self.product_id,
            "name": self.product_name,
            "organization_id": self.organization_id,
            "public": self.public,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryEntry:
    """A public product in the registry, with its latest verified run (if any)."""

    product_id: str
    name: str
    description: str | None
    product_type: int
    vendor_id: str
    vendor_name: str
    run_id: str | None
    guideline: str | None
    target: str | None
    verified_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _select() -> Any:
    return select(Product, User.openid).outerjoin(User, User.id == Product.created_by)


def _product(row: Product, openid: str | None) -> ProductRecord:
    return ProductRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        product_ref_id=row.product_ref_id,
        organization_id=row.organization_id,
        created_by=openid,
        public=row.public,
        properties=row.properties,
        type=row.type,
        product_type=row.product_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _versions() -> Any:
    return select(ProductVersion, Product.name, Product.organization_id, Product.public).join(
        Product, Product.id == ProductVersion.product_id
    )


def _version(row: ProductVersion, name: str, organization_id: str, public: bool) -> VersionRecord:
    return VersionRecord(
        id=row.id,
        product_id=row.product_id,
        version=row.version,
        cpid=row.cpid,
        product_name=name,
        organization_id=organization_id,
        public=public,
    )


def registry_changed(session: Session) -> None:
    """Note a change the registry shows (a verification, an attachment) and commit."""
    _bump(session)
    session.commit()


def registry_changes(session: Session) -> int:
    """The counter cached registry listings are keyed by."""
    return int(session.scalar(select(RunCount.count).where(RunCount.name == REGISTRY_CHANGES)) or 0)


@dataclass(frozen=True, slots=True)
class _Cached:
    """What one value of the registry counter lists: the registry, and every public product."""

    entries: tuple[RegistryEntry, ...]
    by_id: dict[str, RegistryEntry]
    public: tuple[ProductRecord, ...]
    guidelines: tuple[str, ...]
    selections: dict[tuple[int | None, str], tuple[RegistryEntry, ...]]

    def select(self, product_type: int | None, guideline: str) -> tuple[RegistryEntry, ...]:
        """The entries of one type (None: any) whose latest verified guideline is ``guideline``
        ("": any), computed once per filter."""
        key = (product_type, guideline)
        found = self.selections.get(key)
        if found is None:
            found = tuple(
                e
                for e in self.entries
                if (product_type is None or e.product_type == product_type)
                and (not guideline or (e.guideline or "").removesuffix(".json") == guideline)
            )
            if len(self.selections) < 256:
                self.selections[key] = found
        return found


def _current_key(session: Session) -> int:
    """The registry counter, read at most every :data:`RECHECK_SECONDS` per app (changes made in this
    process are seen at once; another worker's within that time)."""
    cache = caches_of(session).registry
    checked = cache.get(_CHECKED)
    now = time.monotonic()
    if checked is not None and now - checked[0] < RECHECK_SECONDS:
        return int(checked[1])
    key = registry_changes(session)
    cache.put(_CHECKED, (now, key))
    return key


def _cached(session: Session) -> _Cached:
    key = _current_key(session)  # NOTE: read before the data, so a change never hides under an old key

    def build() -> _Cached:
        entries = _registry_entries(session)
        rows = session.execute(_select().where(Product.public.is_(True)).order_by(*_BY_NAME)).all()
        guidelines = sorted({e.guideline.removesuffix(".json") for e in entries if e.guideline}, reverse=True)
        return _Cached(
            entries,
            {e.product_id: e for e in entries},
            tuple(_product(*row) for row in rows),
            tuple(guidelines),
            {},
        )

    return caches_of(session).registry.setdefault(key, build)  # type: ignore[no-any-return]


# -- products ------------------------------------------------------------------------------


def get_product(session: Session, product_id: str) -> ProductRecord:
    """The product, or :class:`NotFound`."""
    found = session.execute(_select().where(Product.id == product_id)).first()
    if found is None:
        raise NotFound(f'Product with id "{product_id}" not found')
    return _product(*found)


def list_products(
    session: Session,
    *,
    everything: bool = False,
    vendor_ids: Collection[str] = (),
    organization_id: str | None = None,
) -> list[ProductRecord]:
    """Products by name: every one with ``everything``, else the public ones and those of ``vendor_ids``."""
    if everything:
        query = _select()
        if organization_id is not None:
            query = query.where(Product.organization_id == organization_id)
        return [_product(*row) for row in session.execute(query.order_by(*_BY_NAME)).all()]
    public = [p for p in _cached(session).public if organization_id is None or p.organization_id == organization_id]
    if not vendor_ids:
        return public
    own = private_products(session, vendor_ids, organization_id=organization_id)
    return list(heapq.merge(public, own, key=name_order))


def name_order(product: ProductRecord) -> tuple[str, float, str]:
    """The order of product lists: by name, the newest first among equal names (RefStack's)."""
    return (product.name, -product.created_at.timestamp(), product.id)


def private_products(
    session: Session, vendor_ids: Collection[str], *, organization_id: str | None = None
) -> list[ProductRecord]:
    """The private products of the vendors named, by name."""
    if not vendor_ids:
        return []
    query = _select().where(Product.organization_id.in_(sorted(vendor_ids)), Product.public.is_(False))
    if organization_id is not None:
        query = query.where(Product.organization_id == organization_id)
    return sorted((_product(*row) for row in session.execute(query).all()), key=name_order)


def default_vendor_name(openid: str) -> str:
    """The name of the private vendor made for a user who creates a product without one."""
    return f"vendor_{openid}"[:80]


def create_product(
    session: Session,
    *,
    name: str,
    product_type: int,
    organization_id: str,
    creator_id: int,
    description: str | None = None,
    version: str | None = None,
) -> ProductRecord:
    """A new private product of the vendor, with its default version."""
    if session.scalar(select(Organization.id).where(Organization.id == organization_id)) is None:
        raise NotFound(f"Organization with id {organization_id} not found")
    product_id = str(uuid.uuid4())
    kind = SOFTWARE if product_type == DISTRO else CLOUD
    session.add(
        Product(
            id=product_id,
            name=name,
            description=description,
            product_ref_id=str(uuid.uuid4()) if kind == SOFTWARE else None,
            organization_id=organization_id,
            created_by=creator_id,
            public=False,
            type=kind,
            product_type=product_type,
            created_at=_now(),
        )
    )
    session.flush()
    session.add(
        ProductVersion(
            id=str(uuid.uuid4()), product_id=product_id, version=version, created_by=creator_id, created_at=_now()
        )
    )
    _bump(session)
    session.commit()
    return get_product(session, product_id)


def update_product(session: Session, product_id: str, changes: dict[str, Any]) -> ProductRecord:
    """Change ``name``, ``description``, ``product_ref_id``, ``public`` or ``properties`` (JSON text)."""
    allowed = {"name", "description", "product_ref_id", "public", "properties"}
    values = {key: value for key, value in changes.items() if key in allowed}
    values["updated_at"] = _now()
    done = session.execute(update(Product).where(Product.id == product_id).values(**values))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        raise NotFound(f'Product with id "{product_id}" not found')
    _bump(session)
    session.commit()
    return get_product(session, product_id)


def delete_product(session: Session, product_id: str) -> None:
    """Delete the product and its versions; :class:`InUse` while runs are attached."""
    if session.scalar(select(Product.id).where(Product.id == product_id)) is None:
        raise NotFound(f'Product with id "{product_id}" not found')
    versions = select(ProductVersion.id).where(ProductVersion.product_id == product_id)
    in_use = "Unable to delete. There are still tests associated to versions of this product."
    if session.scalar(select(exists().where(Run.product_version_id.in_(versions)))):
        raise InUse(in_use)
    try:
        session.execute(delete(ProductVersion).where(ProductVersion.product_id == product_id))
        session.execute(delete(Product).where(Product.id == product_id))
        _bump(session)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise InUse(in_use) from None


# -- versions ------------------------------------------------------------------------------


def list_versions(session: Session, product_id: str) -> list[VersionRecord]:
    """The product's versions, the default one first, then by creation."""
    rows = session.execute(
        _versions()
        .where(ProductVersion.product_id == product_id)
        .order_by(ProductVersion.version.is_not(None), ProductVersion.created_at, ProductVersion.id)
    ).all()
    return [_version(*row) for row in rows]


def get_version(session: Session, version_id: str, *, product_id: str | None = None) -> VersionRecord:
    """The version (of ``product_id``, when given), or :class:`NotFound`."""
    query = _versions().where(ProductVersion.id == version_id)
    if product_id is not None:
        query = query.where(ProductVersion.product_id == product_id)
    row = session.execute(query).first()
    if row is None:
        raise NotFound(f'Version with id "{version_id}" not found')
    return _version(*row)


def versions_by_id(session: Session, version_ids: Collection[str]) -> dict[str, VersionRecord]:
    """The versions named (one query), by id."""
    if not version_ids:
        return {}
    rows = session.execute(_versions().where(ProductVersion.id.in_(list(version_ids)))).all()
    return {row[0].id: _version(*row) for row in rows}


def create_version(
    session: Session, product_id: str, *, version: str, cpid: str | None, creator_id: int
) -> VersionRecord:
    """A new version of the product; :class:`AlreadyExists` when the product has it already."""
    if session.scalar(select(Product.id).where(Product.id == product_id)) is None:
        raise NotFound(f'Product with id "{product_id}" not found')
    version_id = str(uuid.uuid4())
    session.add(
        ProductVersion(
            id=version_id, product_id=product_id, version=version, cpid=cpid, created_by=creator_id, created_at=_now()
        )
    )
    try:
        _bump(session)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyExists(f"Version {version!r} of product {product_id} already exists") from None
    return get_version(session, version_id)


def update_version(session: Session, version_id: str, *, product_id: str, cpid: str | None) -> VersionRecord:
    """Change the version's cpid (the only field that changes)."""
    done = session.execute(
        update(ProductVersion)
        .where(ProductVersion.id == version_id, ProductVersion.product_id == product_id)
        .values(cpid=cpid)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        raise NotFound(f'Version with id "{version_id}" not found')
    _bump(session)
    session.commit()
    return get_version(session, version_id)


def delete_version(session: Session, version_id: str, *, product_id: str) -> None:
    """Delete a version; never the default one (:class:`InvalidState`), nor one with runs (:class:`InUse`)."""
    version = get_version(session, version_id, product_id=product_id)
    if not version.version:
        raise InvalidState(EMPTY_VERSION)
    in_use = "Unable to delete. There are still tests associated to this product version."
    if session.scalar(select(exists().where(Run.product_version_id == version_id))):
        raise InUse(in_use)
    try:
        session.execute(delete(ProductVersion).where(ProductVersion.id == version_id))
        _bump(session)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise InUse(in_use) from None


def version_for_upload(session: Session, cpid: str, *, user_id: int, foundation: bool) -> VersionRecord | None:
    """The version a signed upload from ``cpid`` is attached to: the only version with that cpid,
    when the uploader administers its vendor or is the Foundation; else None."""
    found = session.execute(_versions().where(ProductVersion.cpid == cpid).limit(2)).all()
    if len(found) != 1:
        return None
    version = _version(*found[0])
    if foundation or version.organization_id in admin_vendor_ids(session, user_id):
        return version
    return None


def attach_run(session: Session, run_id: str, version: VersionRecord | None) -> None:
    """Attach the run to a product version (or detach it with None); verified runs are frozen."""
    done = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.verification_status == 0)
        .values(
            product_version_id=version.id if version else None,
            vendor_id=version.organization_id if version else None,
        )
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        raise InvalidState("Can not update product_version_id for a verified test run.")
    _bump(session)
    session.commit()


# -- the registry --------------------------------------------------------------------------


def _registry_entries(session: Session) -> tuple[RegistryEntry, ...]:
    verified = (
        select(
            ProductVersion.product_id.label("product_id"),
            Run.id.label("run_id"),
            Run.meta.label("meta"),
            Run.created_at.label("created_at"),
            func.row_number()
            .over(partition_by=ProductVersion.product_id, order_by=(Run.created_at.desc(), Run.pk.desc()))
            .label("rank"),
        )
        .join(Product, Product.id == ProductVersion.product_id)
        .join(Organization, Organization.id == Product.organization_id)
        .join(Run, Run.product_version_id == ProductVersion.id)
        # NOTE: from the public products down (their versions, then each version's runs by index),
        # not from every verified run up: far fewer rows to read
        .where(Run.verification_status == 1, Product.public.is_(True), Organization.type.in_(PUBLIC_TYPES))
        .subquery()
    )
    latest = select(verified).where(verified.c.rank == 1).subquery()
    rows = session.execute(
        select(
            Product.id,
            Product.name,
            Product.description,
            Product.product_type,
            Organization.id,
            Organization.name,
            latest.c.run_id,
            latest.c.meta,
            latest.c.created_at,
        )
        .join(Organization, Organization.id == Product.organization_id)
        .outerjoin(latest, latest.c.product_id == Product.id)
        .where(Product.public.is_(True), Organization.type.in_(PUBLIC_TYPES))
        .order_by(Product.name, Product.id)
    ).all()
    entries = []
    for pid, name, description, ptype, vid, vname, run_id, meta, verified_at in rows:
        meta = meta or {}
        entries.append(
            RegistryEntry(
                product_id=pid,
                name=name,
                description=description,
                product_type=ptype,
                vendor_id=vid,
                vendor_name=vname,
                run_id=run_id,
                guideline=meta.get("guideline") if run_id else None,
                target=meta.get("target") if run_id else None,
                verified_at=verified_at,
            )
        )
    return tuple(entries)


def registry(session: Session) -> tuple[RegistryEntry, ...]:
    """Every public product of a public vendor, by name, with its latest verified run (cached)."""
    return _cached(session).entries


def registry_selection(
    session: Session, *, product_type: int | None = None, guideline: str = ""
) -> tuple[tuple[RegistryEntry, ...], tuple[str, ...]]:
    """The registry filtered by product type and latest verified guideline (``2020.06``), and every
    guideline the registry names, newest first (both cached)."""
    cached = _cached(session)
    return cached.select(product_type, guideline.removesuffix(".json")), cached.guidelines


def public_products(session: Session) -> tuple[ProductRecord, ...]:
    """Every public product, by name (cached; the same tuple until something changes)."""
    return _cached(session).public


def latest_verified(session: Session, product_id: str) -> RegistryEntry | None:
    """The product's registry entry (None when it is not in the registry)."""
    return _cached(session).by_id.get(product_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachedRun:
    """A run attached to a product version, as the product and review pages list it."""

    id: str
    version_id: str
    created_at: datetime
    verification_status: int
    guideline: str | None
    target: str | None
    shared: bool
    product_id: str = ""
    product_name: str = ""
    version: str | None = None


def _attached(row: Any) -> AttachedRun:
    meta = dict(row.meta or {})
    return AttachedRun(
        id=row.id,
        version_id=row.product_version_id,
        created_at=row.created_at,
        verification_status=row.verification_status,
        guideline=meta.get("guideline"),
        target=meta.get("target"),
        shared=bool(meta.get("shared")),
        product_id=row.product_id,
        product_name=row.name,
        version=row.version,
    )


def _attached_query() -> Any:
    return (
        select(
            Run.id,
            Run.product_version_id,
            Run.created_at,
            Run.verification_status,
            Run.meta,
            Product.id.label("product_id"),
            Product.name,
            ProductVersion.version,
        )
        .join(ProductVersion, ProductVersion.id == Run.product_version_id)
        .join(Product, Product.id == ProductVersion.product_id)
    )


def product_runs(session: Session, product_id: str, *, public_only: bool, limit: int = 200) -> list[AttachedRun]:
    """The runs attached to the product's versions, newest first (only public runs with ``public_only``)."""
    query = _attached_query().where(ProductVersion.product_id == product_id)
    if public_only:
        query = query.where(Run.public.is_(True))
    rows = session.execute(query.order_by(Run.created_at.desc(), Run.pk.desc()).limit(limit)).all()
    return [_attached(row) for row in rows]


def unverified_runs(session: Session, *, limit: int = 200) -> list[AttachedRun]:
    """Runs attached to a product but not verified yet, newest first (the Foundation's queue)."""
    query = _attached_query().where(Run.verification_status == 0)
    rows = session.execute(query.order_by(Run.created_at.desc(), Run.pk.desc()).limit(limit)).all()
    return [_attached(row) for row in rows]


__all__ = [
    "CLOUD",
    "AttachedRun",
    "DISTRO",
    "EMPTY_VERSION",
    "HOSTED_PRIVATE_CLOUD",
    "PRODUCT_TYPES",
    "PUBLIC_CLOUD",
    "SOFTWARE",
    "ProductRecord",
    "RegistryEntry",
    "VersionRecord",
    "attach_run",
    "create_product",
    "create_version",
    "default_vendor_name",
    "delete_product",
    "delete_version",
    "get_product",
    "get_version",
    "latest_verified",
    "list_products",
    "list_versions",
    "product_runs",
    "registry",
    "registry_changed",
    "name_order",
    "private_products",
    "public_products",
    "registry_changes",
    "registry_selection",
    "update_product",
    "unverified_runs",
    "update_version",
    "version_for_upload",
    "versions_by_id",
]
