"""Users who sign in themselves, and the API tokens they make and revoke.

:mod:`webapp.store.accounts` makes users and tokens for the admin commands; this module
adds what self-service needs: a user made (or refreshed) at sign-in, and tokens listed
and revoked by their owner. A token's value is never stored, only its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.store import accounts
from webapp.store.accounts import Account
from webapp.store.tables import ApiToken, User


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    """A token as its owner sees it: never its value."""

    id: int
    label: str
    created_at: datetime


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def sign_in_user(session: Session, *, openid: str, fullname: str, email: str) -> Account:
    """The user with ``openid``, made at their first sign-in; name and email follow the provider."""
    user_id = session.scalar(select(User.id).where(User.openid == openid))
    if user_id is None:
        session.add(User(openid=openid, fullname=fullname, email=email, created_at=_now()))
        try:
            session.commit()
        except IntegrityError:  # made meanwhile by a second sign-in
            session.rollback()
    else:
        session.execute(update(User).where(User.id == user_id).values(fullname=fullname, email=email))
        session.commit()
    account = accounts.account_by_openid(session, openid)
    assert account is not None
    return account


def list_tokens(session: Session, user_id: int) -> list[TokenInfo]:
    """The user's API tokens, newest first."""
    rows = session.execute(
        select(ApiToken.id, ApiToken.label, ApiToken.created_at)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [TokenInfo(id=i, label=label, created_at=created) for i, label, created in rows]


def revoke_token(session: Session, user_id: int, token_id: int) -> bool:
    """Revoke one of the user's tokens; False when the user has no such token."""
    done = session.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    session.commit()
    return bool(done.rowcount)  # type: ignore[attr-defined]


__all__ = ["TokenInfo", "list_tokens", "revoke_token", "sign_in_user"]
