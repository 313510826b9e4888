"""Signing in with OpenID Connect (authlib as the client), for the dashboard and the API.

Settings: ``OIDC_ISSUER`` (the provider's issuer URL; its discovery document is read from
``<issuer>/.well-known/openid-configuration``), ``OIDC_CLIENT_ID``, ``OIDC_CLIENT_SECRET`` and
``OIDC_SCOPES``; ``PUBLIC_URL`` is required with them, since the provider must accept
``<PUBLIC_URL>/v1/auth/signin_return`` as a redirect URI (never built from the Host header).
The authorization-code flow is used with PKCE (S256), a state and a nonce; authlib checks
the ID token's signature, issuer, audience, expiry and nonce.

A user is known by the openid ``<issuer>/<sub>`` and made at their first sign-in (name and
email from the ID token, refreshed at each sign-in). Signing in opens a browser session on the
server, exactly as the token form does (its id in the same HttpOnly cookie, never an API
token); signing out ends it. For the API, users make their own tokens on their profile page,
only when they ask for one.

RefStack's paths stay: ``/v1/auth/signin`` starts the flow, ``/v1/auth/signin_return`` ends
it, ``/v1/auth/signout`` signs out (each also under ``/api``): a GET there shows the sign-out
form, whose post carries the anti-forgery token like every other form.
"""

from __future__ import annotations

import hashlib
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, make_response, render_template, request, session, url_for
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as BaseResponse

from webapp.dashboard.pages import bp, start_browser_session
from webapp.dashboard.signin import signout
from webapp.errors import ApiError
from webapp.sessions import session as db_session
from webapp.store import users

EXTENSION = "tcup_oidc"
TIMEOUT_SECONDS = 10
_NEXT = "tcup_next"


def init_app(app: Flask) -> None:
    """Register the provider with authlib when ``OIDC_ISSUER`` is set (the client lives in ``app.extensions``)."""
    issuer = str(app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    if not app.config.get("PUBLIC_URL"):
        raise ValueError(
            "OIDC_ISSUER needs PUBLIC_URL: the provider sends users back to <PUBLIC_URL>/v1/auth/signin_return"
        )
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


def _return_url() -> str:
    """The callback's absolute address, from ``PUBLIC_URL`` (the one the provider knows)."""
    return str(current_app.config["PUBLIC_URL"]) + url_for("dashboard.oidc_return")


@bp.get("/v1/auth/signin", endpoint="oidc_signin")
@bp.get("/api/v1/auth/signin", endpoint="oidc_signin_api")
@bp.get("/signin/oidc", endpoint="oidc_start")
def oidc_signin() -> BaseResponse:
    """Send the browser to the provider."""
    client = _client()
    session[_NEXT] = _safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(_return_url())  # type: ignore[no-any-return]
    except (OSError, ValueError, AuthlibBaseError) as exc:
        raise ApiError(502, f"The OpenID Connect provider cannot be reached: {type(exc).__name__}") from None


@bp.get("/v1/auth/signin_return", endpoint="oidc_return")
@bp.get("/api/v1/auth/signin_return", endpoint="oidc_return_api")
def oidc_return() -> BaseResponse:
    """The provider's answer: check it, find or make the user, sign the browser in."""
    client = _client()
    try:
        token = client.authorize_access_token()  # with the redirect URI kept in the state
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
    # NOTE: a page of our own that moves on, not a redirect: the browser arrives here from the
    # provider's site, and a SameSite=Strict cookie is only sent once navigation starts here.
    target = _safe_next(session.pop(_NEXT, None))
    response = make_response(render_template("dashboard/signed_in.html", target=target, account=account))
    start_browser_session(response, account.id)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/v1/auth/signout", methods=["GET", "POST"], endpoint="oidc_signout")
@bp.route("/api/v1/auth/signout", methods=["GET", "POST"], endpoint="oidc_signout_api")
def oidc_signout() -> BaseResponse | str:
    """RefStack's sign-out path: a GET shows the sign-out form; its post (anti-forgery token
    and Origin checked) ends this browser's session, as ``/signout`` does."""
    if request.method == "POST":
        return signout()
    return render_template("dashboard/signout.html")


@bp.context_processor
def _sign_in_options() -> dict[str, Any]:
    return {
        "oidc_enabled": enabled(),
        "next_page": _safe_next(request.args.get("next")) if request.args.get("next") else None,
    }


__all__ = ["enabled", "init_app"]
