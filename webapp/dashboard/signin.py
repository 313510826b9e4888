"""Signing in and out of the dashboard.

A browser signs in by pasting an API token (``tcup-server create-user``) into ``/signin``;
the token is kept in an HttpOnly, SameSite=Strict cookie and read only by the pages.
An ``Authorization: Bearer`` header works too, exactly as for the API.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from webapp.dashboard.pages import COOKIE, bp
from webapp.sessions import session
from webapp.store import accounts


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> BaseResponse | tuple[str, int]:
    """Sign in with an API token; the token goes into an HttpOnly cookie."""
    problems: list[str] = []
    if request.method == "POST":
        token = request.form.get("token", "").strip()
        account = accounts.account_by_token(session(), token) if token.startswith(accounts.TOKEN_PREFIX) else None
        if account is not None:
            response = redirect(url_for("dashboard.index"))
            response.set_cookie(
                COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure, max_age=14 * 24 * 3600
            )
            return response
        problems.append("That token is not valid: make one with tcup-server create-user")
    return render_template("dashboard/signin.html", problems=problems), 401 if problems else 200


@bp.post("/signout")
def signout() -> BaseResponse:
    """Forget the sign-in cookie (and revoke the token an OpenID Connect sign-in made for it)."""
    from webapp.dashboard.oidc import sign_out

    return sign_out()
