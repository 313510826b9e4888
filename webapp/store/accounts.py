"""Users, the Foundation group, API tokens, browser sessions and public keys (no raw SQL anywhere).

An API token is ``tcup_`` plus 43 random URL-safe characters. Only its SHA-256 is
stored, so the token is shown once, when it is made, and never logged. A browser session
(the dashboard's sign-in) is the same kind of secret with another prefix, ``tcups_``,
expiring after :data:`SESSION_DAYS` days or when its user signs out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.signatures import OpenSshKey
from webapp.store import vendors
from webapp.store.errors import AlreadyExists
from webapp.store.tables import ApiToken, BrowserSession, Group, GroupMember, Organization, PubKey, User

FOUNDATION = "foundation"
FOUNDATION_GROUP = "Foundation"
TOKEN_PREFIX = "tcup_"
SESSION_PREFIX = "tcups_"
SESSION_DAYS = 14


@dataclass(frozen=True, slots=True)
class Account:
    """A user as the API sees one."""

    id: int
    openid: str
    fullname: str
    email: str
    foundation: bool
    vendor_ids: frozenset[str] = frozenset()  # the vendors the user administers


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: an account, or None when anonymous. What a caller may see is decided in
    :mod:`webapp.store.runs` (the visibility rule)."""

    account: Account | None

    @property
    def user_id(self) -> int | None:
        """The caller's user id, or None."""
        return self.account.id if self.account else None

    @property
    def foundation(self) -> bool:
        """True for members of the Foundation group."""
        return bool(self.account and self.account.foundation)


ANONYMOUS = Caller(None)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def token_sha256(token: str) -> str:
    """What is stored for a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(
    session: Session, *, openid: str, fullname: str = "", email: str = "", foundation: bool = False
) -> Account:
    """Create a user (:class:`AlreadyExists` when the openid is taken); optionally add to the Foundation."""
    user = User(openid=openid, fullname=fullname, email=email, created_at=_now())
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyExists(f"User {openid!r} already exists") from None
    if foundation:
        session.add(GroupMember(group_id=ensure_foundation_group(session), user_id=user.id))
    session.commit()
    return Account(id=user.id, openid=openid, fullname=fullname, email=email, foundation=foundation)


def ensure_foundation_group(session: Session) -> int:
    """The id of the Foundation group, created when missing."""
    group_id = session.scalar(select(Group.id).where(Group.kind == FOUNDATION))
    if group_id is None:
        group = Group(name=FOUNDATION_GROUP, kind=FOUNDATION)
        session.add(group)
        session.flush()
        group_id = group.id
    vendors.ensure_foundation_vendor(session, group_id)
    return group_id


def issue_token(session: Session, account_id: int, *, label: str = "") -> str:
    """Make a new API token for the user and return it (the only time it is visible)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=account_id, token_sha256=token_sha256(token), label=label, created_at=_now()))
    session.commit()
    return token


def _account(session: Session, user: User) -> Account:
    groups = session.execute(
        select(Group.kind, Organization.id)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .outerjoin(Organization, Organization.group_id == Group.id)
        .where(GroupMember.user_id == user.id)
    ).all()
    return Account(
        id=user.id,
        openid=user.openid,
        fullname=user.fullname,
        email=user.email,
        foundation=any(kind == FOUNDATION for kind, _ in groups),
        vendor_ids=frozenset(vendor_id for _, vendor_id in groups if vendor_id is not None),
    )


def account_by_token(session: Session, token: str) -> Account | None:
    """The user holding this API token, or None."""
    user = session.scalar(
        select(User).join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_sha256 == token_sha256(token))
    )
    return _account(session, user) if user is not None else None


def account_by_openid(session: Session, openid: str) -> Account | None:
    """The user with this openid, or None."""
    user = session.scalar(select(User).where(User.openid == openid))
    return _account(session, user) if user is not None else None


def account_by_id(session: Session, user_id: int) -> Account | None:
    """The user with this id, or None."""
    user = session.get(User, user_id)
    return _account(session, user) if user is not None else None


def open_session(session: Session, account_id: int) -> str:
    """Start a browser session for the user and return its id (to be kept in the browser only)."""
    now = _now()
    session_id = SESSION_PREFIX + secrets.token_urlsafe(32)
    session.execute(delete(BrowserSession).where(BrowserSession.expires_at < now))
    session.add(
        BrowserSession(
            user_id=account_id,
            session_sha256=token_sha256(session_id),
            created_at=now,
            expires_at=now + timedelta(days=SESSION_DAYS),
        )
    )
    session.commit()
    return session_id


def account_by_session(session: Session, session_id: str) -> Account | None:
    """The user of a live browser session, or None (unknown, expired or signed out)."""
    if not session_id.startswith(SESSION_PREFIX):
        return None
    user = session.scalar(
        select(User)
        .join(BrowserSession, BrowserSession.user_id == User.id)
        .where(BrowserSession.session_sha256 == token_sha256(session_id), BrowserSession.expires_at >= _now())
    )
    return _account(session, user) if user is not None else None


def close_session(session: Session, session_id: str) -> None:
    """End a browser session (signing out): its id no longer signs anyone in."""
    session.execute(delete(BrowserSession).where(BrowserSession.session_sha256 == token_sha256(session_id)))
    session.commit()


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A registered key and the user it belongs to."""

    id: int
    user_id: int
    openid: str
    format: str
    pubkey: str
    comment: str


def add_pubkey(session: Session, account_id: int, key: OpenSshKey) -> KeyRecord:
    """Register ``key`` for the user; :class:`AlreadyExists` ``Public key already exists.`` for a duplicate."""
    row = PubKey(
        user_id=account_id,
        format=key.format,
        pubkey=key.base64,
        comment=key.comment[:255],
        md5_hash=key.md5_hash,
        key_sha256=key.sha256,
        created_at=_now(),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyExists("Public key already exists.") from None
    openid = session.scalar(select(User.openid).where(User.id == account_id)) or ""
    return KeyRecord(
        id=row.id, user_id=account_id, openid=openid, format=row.format, pubkey=row.pubkey, comment=row.comment
    )


def find_pubkey(session: Session, key: OpenSshKey) -> KeyRecord | None:
    """RefStack's lookup: by md5 of the key blob; several hits are told apart by the base64 text."""
    rows = session.execute(
        select(PubKey, User.openid).join(User, User.id == PubKey.user_id).where(PubKey.md5_hash == key.md5_hash)
    ).all()
    if len(rows) > 1:
        rows = [r for r in rows if r[0].pubkey == key.base64]
    if not rows:
        return None
    row, openid = rows[0]
    return KeyRecord(
        id=row.id, user_id=row.user_id, openid=openid, format=row.format, pubkey=row.pubkey, comment=row.comment
    )


def list_pubkeys(session: Session, account_id: int) -> list[KeyRecord]:
    """The user's registered keys."""
    rows = session.execute(
        select(PubKey, User.openid)
        .join(User, User.id == PubKey.user_id)
        .where(PubKey.user_id == account_id)
        .order_by(PubKey.id)
    ).all()
    return [
        KeyRecord(id=r.id, user_id=r.user_id, openid=o, format=r.format, pubkey=r.pubkey, comment=r.comment)
        for r, o in rows
    ]


def delete_pubkey(session: Session, account_id: int, key_id: int) -> bool:
    """Remove one of the user's keys; False when the user has no such key."""
    row = session.get(PubKey, key_id)
    if row is None or row.user_id != account_id:
        return False
    session.delete(row)
    session.commit()
    return True


__all__ = [
    "ANONYMOUS",
    "FOUNDATION",
    "SESSION_DAYS",
    "SESSION_PREFIX",
    "TOKEN_PREFIX",
    "Account",
    "Caller",
    "KeyRecord",
    "account_by_id",
    "account_by_openid",
    "account_by_session",
    "account_by_token",
    "add_pubkey",
    "close_session",
    "create_user",
    "delete_pubkey",
    "ensure_foundation_group",
    "find_pubkey",
    "issue_token",
    "list_pubkeys",
    "open_session",
    "token_sha256",
]
