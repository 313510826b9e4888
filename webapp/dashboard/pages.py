"""What every dashboard page shares: the blueprint, the caller, error pages, security headers,
request arguments, downloads, and the app's dashboard caches.

Pages use the code the API uses: :func:`interop_model.evaluate` for compliance,
:mod:`webapp.store` for queries and who sees what, :mod:`scoring.api` (read-only, in
:mod:`webapp.dashboard.scoring` only) for the board's matrix. Every page works without
JavaScript: tables are HTML, charts inline SVG (:mod:`webapp.dashboard.charts`), and a
Content-Security-Policy forbids scripts altogether.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from webapp.access import USER, require_role
from webapp.auth import current_caller
from webapp.errors import ApiError, as_api_error
from webapp.sessions import session
from webapp.signatures import BadSignature
from webapp.store import accounts, catalog
from webapp.store import runs as store
from webapp.store.accounts import Caller
from webapp.store.cache import Bounded
from webapp.store.errors import StoreError

bp = Blueprint("dashboard", __name__)
COOKIE = "tcup_token"
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
    """The caller: the ``Authorization`` header (as for the API), else the sign-in cookie."""
    if "tcup_page_caller" not in g:
        if "Authorization" in request.headers:
            g.tcup_page_caller = current_caller()
        else:
            token = request.cookies.get(COOKIE, "")
            account = accounts.account_by_token(session(), token) if token.startswith(accounts.TOKEN_PREFIX) else None
            g.tcup_page_caller = Caller(account)
    return g.tcup_page_caller  # type: ignore[no-any-return]


@bp.context_processor
def _viewer() -> dict[str, Any]:
    try:
        return {"viewer": page_caller().account}
    except ApiError:
        return {"viewer": None}


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
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
    "TARGETS",
    "DashboardCaches",
    "arg",
    "attachment",
    "bp",
    "caches",
    "find_run",
    "guideline_for",
    "init_caches",
    "page_caller",
]
