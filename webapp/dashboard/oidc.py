"""Signing in with OpenID Connect (authlib as the client), for the dashboard and the API.

Settings: ``OIDC_ISSUER`` (the provider's issuer URL; its discovery document is read from
``<issuer>/.well-known/openid-configuration``), ``OIDC_CLIENT_ID``, ``OIDC_CLIENT_SECRET`` and
``OIDC_SCOPES``. The provider must accept ``<this server>/v1/auth/signin_return`` as a
redirect URI. The authorization-code flow is used with PKCE (S256), a state and a nonce;
authlib checks the ID token's signature, issuer, audience, expiry and nonce.

A user is known by the openid ``<issuer>/<sub>`` and made at their first sign-in (name and
email from the ID token, refreshed at each sign-in). Signing in gives the browser an API
token (labelled as a sign-in) in the same HttpOnly cookie the token form uses; signing out
revokes it. For the API, users make their own tokens on their profile page.

RefStack's paths stay: ``/v1/auth/signin`` starts the flow, ``/v1/auth/signin_return`` ends
it, ``/v1/auth/signout`` signs out (each also under ``/api``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, make_response, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as BaseResponse

from webapp.dashboard.pages import COOKIE, bp
from webapp.errors import ApiError
from webapp.sessions import session as db_session
from webapp.store import accounts, users

EXTENSION = "tcup_oidc"
SIGN_IN_LABEL = "browser sign-in (OpenID Connect)"
TIMEOUT_SECONDS = 10
_NEXT = "tcup_next"


def init_app(app: Flask) -> None:
    """Register the provider with authlib when ``OIDC_ISSUER`` is set (the client lives in ``app.extensions``)."""
    issuer = str(app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    if not app.config.get("SECRET_KEY"):
        # NOTE: the sign-in state lives in Flask's signed session cookie; every worker must sign
        # alike, so without a SECRET_KEY one is derived from the client secret (never logged).
        secret = str(app.config.get("OIDC_CLIENT_SECRET") or "")
        app.config["SECRET_KEY"] = hashlib.sha256(b"tcup session key\0" + secret.encode()).hexdigest()
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        # the provider sends the browser back with a top-level GET from its site: Lax lets the state through
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    oauth = OAuth(app)
    oauth.register(
        "oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )
    app.extensions[EXTENSION] = oauth


def enabled() -> bool:
    """True when OpenID Connect sign-in is configured."""
    return EXTENSION in current_app.extensions


def _client() -> Any:
    if not enabled():
        raise ApiError(404, "OpenID Connect sign-in is not configured on this server (set OIDC_ISSUER)")
    return current_app.extensions[EXTENSION].oidc


def _safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.profile")


@bp.get("/v1/auth/signin", endpoint="oidc_signin")
@bp.get("/api/v1/auth/signin", endpoint="oidc_signin_api")
@bp.get("/signin/oidc", endpoint="oidc_start")
def oidc_signin() -> BaseResponse:
    """Send the browser to the provider."""
    client = _client()
    session[_NEXT] = _safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(url_for("dashboard.oidc_return", _external=True))  # type: ignore[no-any-return]
    except (OSError, ValueError, AuthlibBaseError) as exc:
        raise ApiError(502, f"The OpenID Connect provider cannot be reached: {type(exc).__name__}") from None


@bp.get("/v1/auth/signin_return", endpoint="oidc_return")
@bp.get("/api/v1/auth/signin_return", endpoint="oidc_return_api")
def oidc_return() -> BaseResponse:
    """The provider's answer: check it, find or make the user, sign the browser in."""
    client = _client()
    try:
        token = client.authorize_access_token()
    except AuthlibBaseError as exc:  # a refusal, a state that does not match, a bad ID token's claims
        raise ApiError(401, f"Sign-in failed: {exc.description or exc.error}") from None
    except JoseError as exc:  # an ID token whose signature or form is wrong
        raise ApiError(401, f"Sign-in failed: the provider's ID token is not valid ({exc.error})") from None
    except (OSError, ValueError) as exc:
        raise ApiError(502, f"The OpenID Connect provider cannot be reached: {type(exc).__name__}") from None
    claims = dict(token.get("userinfo") or {})
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ApiError(401, "Sign-in failed: the provider's ID token names no subject")
    if not (claims.get("name") and claims.get("email")):
        # many providers put the profile in the userinfo answer only, not in the ID token
        try:
            extra = client.userinfo(token=token)
        except (OSError, ValueError, AuthlibBaseError):
            extra = {}
        if extra.get("sub") == subject:
            claims = {**extra, **{k: v for k, v in claims.items() if v}}
    issuer = str(current_app.config["OIDC_ISSUER"]).rstrip("/")
    account = users.sign_in_user(
        db_session(),
        openid=f"{issuer}/{subject}",
        fullname=str(claims.get("name") or claims.get("preferred_username") or "")[:255],
        email=str(claims.get("email") or "")[:255],
    )
    api_token = accounts.issue_token(db_session(), account.id, label=SIGN_IN_LABEL)
    # NOTE: a page of our own that moves on, not a redirect: the browser arrives here from the
    # provider's site, and a SameSite=Strict cookie is only sent once navigation starts here.
    target = _safe_next(session.pop(_NEXT, None))
    response = make_response(render_template("dashboard/signed_in.html", target=target, account=account))
    response.set_cookie(
        COOKIE, api_token, httponly=True, samesite="Strict", secure=request.is_secure, max_age=14 * 24 * 3600
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/v1/auth/signout", endpoint="oidc_signout")
@bp.get("/api/v1/auth/signout", endpoint="oidc_signout_api")
def oidc_signout() -> BaseResponse:
    """RefStack's sign-out path: forget this browser's sign-in."""
    return sign_out()


def sign_out() -> BaseResponse:
    """Revoke this browser's sign-in token (never a token the user made) and forget the cookie."""
    token = request.cookies.get(COOKIE, "")
    if token:
        users.revoke_token_value(db_session(), token, label=SIGN_IN_LABEL)
    response = redirect(url_for("dashboard.index"))
    response.delete_cookie(COOKIE, httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@bp.context_processor
def _sign_in_options() -> dict[str, Any]:
    return {
        "oidc_enabled": enabled(),
        "next_page": _safe_next(request.args.get("next")) if request.args.get("next") else None,
    }


__all__ = ["SIGN_IN_LABEL", "enabled", "init_app", "sign_out"]
