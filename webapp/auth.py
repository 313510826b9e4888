"""Who is calling: ``Authorization: Bearer <token>``, an API token or a RefStack JWT.

* An API token (``tcup_...``) made by ``tcup-server create-admin``/``create-user``.
* A RefStack-style JWT: RS256, signed with one of the user's registered keys, with
  the claims ``user_openid`` and ``exp`` (42 s of leeway), as users made them by hand.

Errors keep RefStack's status and words: a bad token is a 400 ``Token is not valid``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from flask import g, request

from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import accounts
from webapp.store.accounts import Account, Caller

JWT_LEEWAY_SECONDS = 42


def current_caller() -> Caller:
    """The caller of the current request (resolved once per request)."""
    if "tcup_caller" not in g:
        g.tcup_caller = Caller(_authenticate(request.headers.get("Authorization")))
    return g.tcup_caller  # type: ignore[no-any-return]


def require_account() -> Account:
    """The caller's account, or 401 when anonymous."""
    account = current_caller().account
    if account is None:
        raise ApiError(401, "Authentication required: send 'Authorization: Bearer <API token>'")
    return account


def _authenticate(header: str | None) -> Account | None:
    if not header:
        return None
    try:
        scheme, token = header.strip().split(" ", 1)
    except ValueError:
        raise ApiError(400, "Token is not valid") from None
    if scheme != "Bearer":
        raise ApiError(400, "Authorization schema 'Bearer' should be used")
    token = token.strip()
    if token.startswith(accounts.TOKEN_PREFIX):
        account = accounts.account_by_token(session(), token)
    elif token.count(".") == 2:
        account = _jwt_account(token)
    else:
        account = None
    if account is None:
        raise ApiError(400, "Token is not valid")
    return account


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _jwt_account(token: str) -> Account | None:
    head_b64, body_b64, sig_b64 = token.split(".")
    try:
        header = json.loads(_b64url(head_b64))
        claims = json.loads(_b64url(body_b64))
        signature = _b64url(sig_b64)
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        return None
    openid = claims.get("user_openid")
    if not openid or not isinstance(openid, str):
        raise ApiError(400, "Token does not contain user's openid")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp + JWT_LEEWAY_SECONDS < time.time():
        return None
    account = accounts.account_by_openid(session(), openid)
    if account is None:
        return None
    signed = f"{head_b64}.{body_b64}".encode("ascii")
    for record in accounts.list_pubkeys(session(), account.id):
        try:
            key = load_ssh_public_key(f"{record.format} {record.pubkey}".encode("ascii"))
        except (ValueError, UnsupportedAlgorithm):
            continue
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return account
    return None


__all__ = ["Caller", "current_caller", "require_account"]
