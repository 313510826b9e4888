"""Vendors (RefStack's "organizations"): their lifecycle, their admins, and who may see them.

A vendor is the Foundation (type 0), private (1), pending (2) or official (3). A user
creates a private vendor; its admins (the members of its group) ask the Foundation to
register it (pending); the Foundation approves it (official) or denies it with a reason
(private again); the admins may cancel a pending request. Anyone sees the Foundation and
official vendors; the others are seen by their admins and the Foundation only.

Permissions are the API's business; this module checks the states and keeps the rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.store.cache import caches_of
from webapp.store.errors import NotFound, StoreError
from webapp.store.tables import Group, GroupMember, Organization, Product, ProductVersion, Run, RunCount, User

FOUNDATION, PRIVATE, PENDING, OFFICIAL = 0, 1, 2, 3
VENDOR_TYPES = (FOUNDATION, PRIVATE, PENDING, OFFICIAL)
PUBLIC_TYPES = (FOUNDATION, OFFICIAL)
VENDOR_GROUP = "vendor"
FOUNDATION_VENDOR_NAME = "OpenStack Foundation"
DECLINE_REASON = "registration_decline_reason"
REGISTRY_CHANGES = "registry_changes"  # the counter cached registry listings are keyed by
REGISTRY_CHECKED = "checked"  # in the registry cache: when this app last read that counter, and its value


class InvalidState(StoreError):
    """The vendor is not in the state the action starts from."""


class InUse(StoreError):
    """Runs are still attached to what was to be deleted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Vendor:
    """A vendor as the API shows it; ``created_by`` is the creator's openid."""

    id: str
    type: int
    name: str
    description: str | None
    group_id: int
    created_by: str | None
    properties: str | None  # JSON text, as RefStack returned it
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """An admin of a vendor."""

    openid: str
    email: str
    fullname: str


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def bump_registry(session: Session) -> None:
    """Count a change the registry or the product lists show (in the caller's transaction)."""
    session.execute(update(RunCount).where(RunCount.name == REGISTRY_CHANGES).values(count=RunCount.count + 1))
    caches_of(session).registry.put(REGISTRY_CHECKED, None)  # this process re-reads the counter at once


def _select() -> Any:
    return select(Organization, User.openid).outerjoin(User, User.id == Organization.created_by)


def _vendor(row: Organization, openid: str | None) -> Vendor:
    return Vendor(
        id=row.id,
        type=row.type,
        name=row.name,
        description=row.description,
        group_id=row.group_id,
        created_by=openid,
        properties=row.properties,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_vendor(session: Session, vendor_id: str) -> Vendor:
    """The vendor, or :class:`NotFound`."""
    found = session.execute(_select().where(Organization.id == vendor_id)).first()
    if found is None:
        raise NotFound(f"Organization with id {vendor_id} not found")
    return _vendor(*found)


def list_vendors(session: Session, *, types: Sequence[int] | None = None) -> list[Vendor]:
    """Every vendor (or those of ``types``), newest first."""
    query = _select()
    if types is not None:
        query = query.where(Organization.type.in_(types))
    rows = session.execute(query.order_by(Organization.created_at.desc(), Organization.id)).all()
    return [_vendor(*row) for row in rows]


def vendors_of_user(session: Session, user_id: int) -> list[Vendor]:
    """The vendors the user administers, newest first."""
    query = (
        _select()
        .join(GroupMember, GroupMember.group_id == Organization.group_id)
        .where(GroupMember.user_id == user_id)
        .order_by(Organization.created_at.desc(), Organization.id)
    )
    return [_vendor(*row) for row in session.execute(query).all()]


def admin_vendor_ids(session: Session, user_id: int) -> frozenset[str]:
    """The ids of the vendors the user administers."""
    query = (
        select(Organization.id)
        .join(GroupMember, GroupMember.group_id == Organization.group_id)
        .where(GroupMember.user_id == user_id)
    )
    return frozenset(session.scalars(query))


def create_vendor(
    session: Session, *, name: str, creator_id: int, description: str | None = None, type: int = PRIVATE
) -> Vendor:
    """A new vendor whose only admin is its creator."""
    vendor_id = str(uuid.uuid4())
    group = Group(name=f"vendor {vendor_id}", kind=VENDOR_GROUP)
    session.add(group)
    session.flush()
    session.add(GroupMember(group_id=group.id, user_id=creator_id))
    row = Organization(
        id=vendor_id,
        type=type,
        name=name,
        description=description,
        group_id=group.id,
        created_by=creator_id,
        created_at=_now(),
    )
    session.add(row)
    session.commit()
    return get_vendor(session, vendor_id)


def ensure_foundation_vendor(session: Session, group_id: int) -> None:
    """Give the Foundation group its vendor (type 0) when it has none; the caller commits."""
    if session.scalar(select(Organization.id).where(Organization.group_id == group_id)) is None:
        session.add(
            Organization(
                id=str(uuid.uuid4()),
                type=FOUNDATION,
                name=FOUNDATION_VENDOR_NAME,
                group_id=group_id,
                created_at=_now(),
            )
        )
        session.flush()


def update_vendor(
    session: Session,
    vendor_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    properties: str | None = None,
) -> Vendor:
    """Change the given fields (None leaves one as it is)."""
    changes: dict[str, Any] = {
        key: value
        for key, value in (("name", name), ("description", description), ("properties", properties))
        if value is not None
    }
    changes["updated_at"] = _now()
    done = session.execute(update(Organization).where(Organization.id == vendor_id).values(**changes))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.rollback()
        raise NotFound(f"Organization with id {vendor_id} not found")
    bump_registry(session)
    session.commit()
    return get_vendor(session, vendor_id)


def _props(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def decline_reason(vendor: Vendor) -> str | None:
    """Why the Foundation last declined the vendor's registration, if it did."""
    reason = _props(vendor.properties).get(DECLINE_REASON)
    return str(reason) if reason else None


def _move(session: Session, vendor: Vendor, start: int, end: int, properties: str | None = None) -> None:
    """One atomic state change: from ``start`` to ``end``, or :class:`InvalidState`."""
    values: dict[str, Any] = {"type": end, "updated_at": _now()}
    if properties is not None:
        values["properties"] = properties
    done = session.execute(
        update(Organization).where(Organization.id == vendor.id, Organization.type == start).values(**values)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise InvalidState("Invalid organization state for this action.")
    bump_registry(session)
    session.commit()


def register_vendor(session: Session, vendor: Vendor) -> None:
    """Ask the Foundation to make a private vendor official: private -> pending."""
    _move(session, vendor, PRIVATE, PENDING)


def cancel_registration(session: Session, vendor: Vendor) -> None:
    """Withdraw the request: pending -> private."""
    _move(session, vendor, PENDING, PRIVATE)


def approve_vendor(session: Session, vendor: Vendor) -> None:
    """The Foundation approves: pending -> official; a former denial reason is dropped."""
    props = _props(vendor.properties)
    props.pop(DECLINE_REASON, None)
    _move(session, vendor, PENDING, OFFICIAL, json.dumps(props))


def deny_vendor(session: Session, vendor: Vendor, reason: str) -> None:
    """The Foundation declines: pending -> private, with the reason kept in the properties."""
    props = _props(vendor.properties)
    props[DECLINE_REASON] = reason
    _move(session, vendor, PENDING, PRIVATE, json.dumps(props))


ACTIONS = ("register", "approve", "deny", "cancel")
_BY_FOUNDATION = ("approve", "deny")


def may_act(vendor: Vendor, action: str, *, admin: bool, foundation: bool) -> bool:
    """Whether a caller may take a registration step: a vendor's admins register it or cancel
    the request, the Foundation approves or denies it; the Foundation's own vendor never moves."""
    if action not in ACTIONS or vendor.type == FOUNDATION:
        return False
    return foundation if action in _BY_FOUNDATION else admin


def act(session: Session, vendor: Vendor, action: str, reason: str = "") -> None:
    """Take the registration step ``action`` (see :func:`may_act`); ``deny`` keeps ``reason``."""
    if action == "register":
        register_vendor(session, vendor)
    elif action == "cancel":
        cancel_registration(session, vendor)
    elif action == "approve":
        approve_vendor(session, vendor)
    elif action == "deny":
        deny_vendor(session, vendor, reason)
    else:
        raise ValueError(f"unknown vendor action {action!r}")


def _attached_runs(product_ids: Any) -> Any:
    return exists().where(
        Run.product_version_id.in_(select(ProductVersion.id).where(ProductVersion.product_id.in_(product_ids)))
    )


def delete_vendor(session: Session, vendor_id: str) -> None:
    """Delete the vendor, its products and their versions; :class:`InUse` while runs are attached."""
    group_id = session.scalar(select(Organization.group_id).where(Organization.id == vendor_id))
    if group_id is None:
        raise NotFound(f"Organization with id {vendor_id} not found")
    products = select(Product.id).where(Product.organization_id == vendor_id)
    if session.scalar(select(_attached_runs(products))):
        raise InUse("Unable to delete. There are still tests associated to products for this vendor.")
    try:
        session.execute(delete(ProductVersion).where(ProductVersion.product_id.in_(products)))
        session.execute(delete(Product).where(Product.organization_id == vendor_id))
        session.execute(delete(Organization).where(Organization.id == vendor_id))
        session.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
        session.execute(delete(Group).where(Group.id == group_id))
        bump_registry(session)
        session.commit()
    except IntegrityError:  # a run was attached meanwhile
        session.rollback()
        raise InUse("Unable to delete. There are still tests associated to products for this vendor.") from None


def list_members(session: Session, vendor: Vendor) -> list[Member]:
    """The vendor's admins, by openid."""
    rows = session.execute(
        select(User.openid, User.email, User.fullname)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == vendor.group_id)
        .order_by(User.openid)
    ).all()
    return [Member(openid=o, email=e, fullname=f) for o, e, f in rows]


def _user_id(session: Session, openid: str) -> int:
    user_id = session.scalar(select(User.id).where(User.openid == openid))
    if user_id is None:
        raise NotFound(f"User {openid!r} not found: they must sign in once before they can be added")
    return user_id


def add_member(session: Session, vendor: Vendor, openid: str) -> None:
    """Make the user an admin of the vendor (nothing happens when they already are one)."""
    user_id = _user_id(session, openid)
    present = select(GroupMember.user_id).where(GroupMember.group_id == vendor.group_id, GroupMember.user_id == user_id)
    if session.scalar(present) is not None:
        return
    session.add(GroupMember(group_id=vendor.group_id, user_id=user_id))
    try:
        session.commit()
    except IntegrityError:  # added meanwhile by another request
        session.rollback()


def remove_member(session: Session, vendor: Vendor, openid: str) -> None:
    """Take the user out of the vendor's admins (nothing happens when they are not one)."""
    user_id = session.scalar(select(User.id).where(User.openid == openid))
    if user_id is not None:
        session.execute(
            delete(GroupMember).where(GroupMember.group_id == vendor.group_id, GroupMember.user_id == user_id)
        )
    session.commit()


def count_vendors(session: Session, types: Iterable[int]) -> int:
    """How many vendors have one of ``types``."""
    return int(session.scalar(select(func.count()).select_from(Organization).where(Organization.type.in_(types))) or 0)


__all__ = [
    "ACTIONS",
    "FOUNDATION",
    "OFFICIAL",
    "PENDING",
    "PRIVATE",
    "PUBLIC_TYPES",
    "VENDOR_TYPES",
    "InUse",
    "InvalidState",
    "Member",
    "Vendor",
    "act",
    "add_member",
    "admin_vendor_ids",
    "approve_vendor",
    "cancel_registration",
    "count_vendors",
    "create_vendor",
    "decline_reason",
    "delete_vendor",
    "deny_vendor",
    "ensure_foundation_vendor",
    "get_vendor",
    "list_members",
    "list_vendors",
    "may_act",
    "bump_registry",
    "register_vendor",
    "remove_member",
    "update_vendor",
    "vendors_of_user",
]
