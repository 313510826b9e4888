"""A signed-in user's own page: their API tokens (made, listed, revoked) and public keys.

A new token is shown once, on the page that made it; only its SHA-256 is stored. Keys are
registered with the same proof the API asks for: a self-signature over ``signature``.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from webapp import signatures
from webapp.dashboard.pages import bp, check_form, page_caller
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.signatures import BadSignature
from webapp.store import accounts, users, vendors
from webapp.store.accounts import Account
from webapp.store.errors import AlreadyExists


def _account() -> Account:
    account = page_caller().account
    if account is None:
        raise ApiError(401, "Sign in to see your profile")
    return account


def _page(account: Account, *, new_token: str | None = None, problems: list[str] | None = None) -> str:
    return render_template(
        "dashboard/profile.html",
        account=account,
        tokens=users.list_tokens(session(), account.id),
        keys=accounts.list_pubkeys(session(), account.id),
        vendors=vendors.vendors_of_user(session(), account.id),
        new_token=new_token,
        problems=problems or [],
    )


@bp.get("/profile")
def profile() -> BaseResponse | str:
    """The caller's tokens, keys and vendors (anonymous callers are sent to sign in)."""
    account = page_caller().account
    if account is None:
        return redirect(url_for("dashboard.signin", next=url_for("dashboard.profile")))
    return _page(account)


@bp.post("/profile/tokens")
def profile_make_token() -> tuple[str, int]:
    """Make an API token and show it once."""
    check_form()
    account = _account()
    label = request.form.get("label", "").strip()[:255]
    if not label:
        return _page(account, problems=["Give the token a label, to tell it apart later"]), 400
    token = accounts.issue_token(session(), account.id, label=label)
    page = _page(account, new_token=token)
    return page, 201


@bp.post("/profile/tokens/<int:token_id>/revoke")
def profile_revoke_token(token_id: int) -> BaseResponse:
    """Revoke one of the caller's tokens (revoking the one this browser uses signs it out)."""
    check_form()
    account = _account()
    if not users.revoke_token(session(), account.id, token_id):
        raise ApiError(404, f"Token {token_id} not found")
    return redirect(url_for("dashboard.profile"), 303)


@bp.post("/profile/keys")
def profile_add_key() -> BaseResponse | tuple[str, int]:
    """Register a public key (OpenSSH line plus self-signature)."""
    check_form()
    account = _account()
    try:
        key = signatures.verify_registration(
            request.form.get("raw_key", "").strip(), request.form.get("self_signature", "").strip()
        )
        accounts.add_pubkey(session(), account.id, key)
    except BadSignature as exc:
        return _page(account, problems=exc.problems), 400
    except AlreadyExists as exc:
        return _page(account, problems=[str(exc)]), 409
    return redirect(url_for("dashboard.profile"), 303)


@bp.post("/profile/keys/<int:key_id>/delete")
def profile_delete_key(key_id: int) -> BaseResponse:
    """Remove one of the caller's keys."""
    check_form()
    account = _account()
    if not accounts.delete_pubkey(session(), account.id, key_id):
        raise ApiError(404, f"Public key {key_id} not found")
    return redirect(url_for("dashboard.profile"), 303)


__all__ = ["profile"]
