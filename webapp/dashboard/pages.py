"""What every dashboard page shares: the blueprint, the caller, error pages, security headers,
request arguments, downloads, and the app's dashboard caches.

Pages use the code the API uses: :func:`interop_model.evaluate` for compliance,
:mod:`webapp.store` for queries and who sees what, :mod:`scoring.api` (read-only, in
:mod:`webapp.dashboard.scoring` only) for the board's matrix. Every page works without
JavaScript: tables are HTML, charts inline SVG (:mod:`webapp.dashboard.charts`), and a
Content-Security-Policy forbids scripts altogether.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from webapp.access import USER, require_role
from webapp.auth import current_caller
from webapp.errors import ApiError, as_api_error
from webapp.sessions import session
from webapp.settings import public_origin
from webapp.signatures import BadSignature
from webapp.store import accounts, catalog
from webapp.store import runs as store
from webapp.store.accounts import Caller
from webapp.store.cache import Bounded
from webapp.store.errors import StoreError

bp = Blueprint("dashboard", __name__)
COOKIE = "tcup_session"  # a browser session id (webapp.store.accounts.open_session), never an API token
CSRF_COOKIE = "tcup_csrf"  # the anti-forgery token the pages' forms repeat
CSRF_FIELD = "csrf_token"
TARGETS = ("platform", "compute", "object", "dns", "orchestration")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


@dataclass
class DashboardCaches:
    """The dashboard's caches, one set per app (``app.extensions["tcup_dashboard"]``).

    ``history``: a run's required capabilities passed, per guideline content and target (a run's
    passed tests never change, so entries never go stale). ``boards``: the scoring page's figures,
    keyed by everything they summarise, the public runs' change counter included
    (:func:`webapp.store.runs.public_changes`), so a run uploaded, shared, unshared or deleted
    shows at once, whichever process served the change.
    """

    history: Bounded = field(default_factory=lambda: Bounded(50_000))
    boards: Bounded = field(default_factory=lambda: Bounded(32))


def init_caches(app: Flask) -> None:
    """Give ``app`` its own dashboard caches."""
    app.extensions["tcup_dashboard"] = DashboardCaches()


def caches() -> DashboardCaches:
    """The current app's dashboard caches."""
    return current_app.extensions["tcup_dashboard"]  # type: ignore[no-any-return]


def page_caller() -> Caller:
    """The caller: the ``Authorization`` header (as for the API), else the sign-in session cookie."""
    if "tcup_page_caller" not in g:
        if "Authorization" in request.headers:
            g.tcup_page_caller = current_caller()
        else:
            session_id = request.cookies.get(COOKIE, "")
            g.tcup_page_caller = Caller(accounts.account_by_session(session(), session_id) if session_id else None)
    return g.tcup_page_caller  # type: ignore[no-any-return]


def cookie_secure() -> bool:
    """Cookies get ``Secure`` when the request came over HTTPS or the public URL is HTTPS."""
    return request.is_secure or str(current_app.config.get("PUBLIC_URL") or "").startswith("https://")


def start_browser_session(response: BaseResponse, account_id: int) -> BaseResponse:
    """Sign the browser in as ``account_id``: the session it had ends, and ``response`` sets a new
    session id in an HttpOnly, SameSite=Strict cookie (never the API token)."""
    previous = request.cookies.get(COOKIE)
    if previous:
        accounts.close_session(session(), previous)
    response.set_cookie(
        COOKIE,
        accounts.open_session(session(), account_id),
        httponly=True,
        samesite="Strict",
        secure=cookie_secure(),
        max_age=accounts.SESSION_DAYS * 24 * 3600,
    )
    return response


def csrf_token() -> str:
    """This browser's anti-forgery token: its ``tcup_csrf`` cookie, or a new one (set on the response)."""
    if "tcup_csrf" not in g:
        kept = request.cookies.get(CSRF_COOKIE, "")
        g.tcup_csrf = kept if 32 <= len(kept) <= 128 else secrets.token_urlsafe(32)
    return g.tcup_csrf  # type: ignore[no-any-return]


def check_form() -> None:
    """403 unless a form post comes from this site: an ``Origin`` header, when the browser sends
    one, must be the public origin (setting ``PUBLIC_URL``; else this request's own), and the form
    must repeat the browser's anti-forgery cookie, which another site can neither read nor set."""
    origin = request.headers.get("Origin")
    expected = public_origin(str(current_app.config.get("PUBLIC_URL") or "")) or request.host_url.rstrip("/").lower()
    if origin is not None and origin.lower() != expected:
        raise ApiError(403, "This form was posted from another site: use this site's own page")
    sent, kept = request.form.get(CSRF_FIELD, ""), request.cookies.get(CSRF_COOKIE, "")
    if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        raise ApiError(403, "This form has expired or came from another site: reload the page and try again")


@bp.context_processor
def _viewer() -> dict[str, Any]:
    try:
        viewer = page_caller().account
    except ApiError:
        viewer = None
    return {"viewer": viewer, "csrf_field": CSRF_FIELD, "csrf_token": csrf_token()}


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    token = g.get("tcup_csrf")
    if token is not None and token != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=cookie_secure())
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[str, int]:
    return render_template(
        "dashboard/error.html", status=exc.status, title=exc.title, problems=exc.problems
    ), exc.status


@bp.errorhandler(StoreError)
@bp.errorhandler(BadSignature)
def _domain_error(exc: Exception) -> tuple[str, int]:
    return _api_error(as_api_error(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    return render_template(
        "dashboard/error.html", status=status, title=exc.name, problems=[exc.description or exc.name]
    ), status


def arg(name: str, limit: int = 255) -> str:
    return request.args.get(name, "").strip()[:limit]


def attachment(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def find_run(run_id: str, level: str = USER) -> tuple[store.RunRecord, str]:
    record = store.get_run(session(), run_id)
    if record is None:
        raise ApiError(404, f"Test result {run_id} not found")
    return record, require_role(page_caller(), record, level)


def guideline_for(version: str | None, target: str) -> tuple[catalog.LoadedGuideline | None, str, list[str]]:
    """The stored guideline for ``version`` and a target it defines (or its first), with notices."""
    version = version or catalog.newest_core_guideline(session())
    if not version:
        return None, target, ["No guideline is on this server yet: import some with tcup-server import-guidelines"]
    loaded = catalog.resolve_guideline(session(), version, target)
    if loaded is None:
        return None, target, [f"Guideline {version} is not on this server"]
    if target not in loaded.guideline.programs:
        first = next(iter(loaded.guideline.programs), target)
        return loaded, first, [f"{loaded.file} has no target {target!r}; showing {first}"]
    return loaded, target, []


__all__ = [
    "COOKIE",
    "CSP",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "TARGETS",
    "DashboardCaches",
    "arg",
    "attachment",
    "bp",
    "caches",
    "check_form",
    "cookie_secure",
    "csrf_token",
    "find_run",
    "guideline_for",
    "init_caches",
    "page_caller",
    "start_browser_session",
]
