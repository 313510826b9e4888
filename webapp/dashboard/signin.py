"""Signing in and out of the dashboard.

A browser signs in by pasting an API token (``tcup-server create-user``) into ``/signin``.
The token is checked, never kept: the browser gets a session id in an HttpOnly,
SameSite=Strict cookie (only its hash is stored), which signing out ends on the server.
Both forms refuse posts from other sites (:func:`~webapp.dashboard.pages.check_form`).
An ``Authorization: Bearer`` header works too, exactly as for the API.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from webapp.dashboard.pages import COOKIE, bp, check_form, cookie_secure, start_browser_session
from webapp.sessions import session
from webapp.store import accounts


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> BaseResponse | tuple[str, int]:
    """Sign in with an API token: the browser gets a new session id in an HttpOnly cookie."""
    problems: list[str] = []
    if request.method == "POST":
        check_form()
        token = request.form.get("token", "").strip()
        account = accounts.account_by_token(session(), token) if token.startswith(accounts.TOKEN_PREFIX) else None
        if account is not None:
            return start_browser_session(redirect(url_for("dashboard.index")), account.id)
        problems.append("That token is not valid: make one with tcup-server create-user")
    return render_template("dashboard/signin.html", problems=problems), 401 if problems else 200


@bp.post("/signout")
def signout() -> BaseResponse:
    """End the browser's session on the server and forget its cookie."""
    check_form()
    kept = request.cookies.get(COOKIE)
    if kept:
        accounts.close_session(session(), kept)
    response = redirect(url_for("dashboard.index"))
    response.delete_cookie(COOKIE, httponly=True, samesite="Strict", secure=cookie_secure())
    return response
