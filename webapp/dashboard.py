"""HTML pages for vendors, the Foundation and the board, rendered on the server.

Pages use the code the API uses: :func:`interop_model.evaluate` for compliance,
:mod:`webapp.access` for who sees what, :mod:`scoring.api` (read-only) for the board's
matrix. Every page works without JavaScript: tables are HTML, charts inline SVG
(:mod:`webapp.charts`), and a Content-Security-Policy forbids scripts altogether.

A browser signs in by pasting an API token (``tcup-server create-user``) into ``/signin``;
the token is kept in an HttpOnly, SameSite=Strict cookie and read only by these pages.
An ``Authorization: Bearer`` header works too, exactly as for the API.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from time import monotonic
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from interop_model import CRITERIA_ORDER, STATUSES, UnknownTarget, parse_statuses
from interop_model.wire import to_v1_document
from webapp import accounts, catalog, charts, reports, store
from webapp.access import OWNER, USER, privileged, require_role
from webapp.api_guidelines import TestListError, requested_test_list
from webapp.auth import Caller, current_caller
from webapp.database import session
from webapp.errors import ApiError

bp = Blueprint("dashboard", __name__, template_folder="templates")
COOKIE = "tcup_token"
EXTRAS_SHOWN = 100  # passed tests outside the guideline listed on a run's page (all are in passed.txt)
HISTORY_LIMIT = 40  # runs in a cloud's chart: each is judged once, then cached
TARGETS = ("platform", "compute", "object", "dns", "orchestration")
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


# -- callers, errors, headers ---------------------------------------------------------------------


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


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[str, int]:
    status = exc.code or 500
    return render_template(
        "dashboard/error.html", status=status, title=exc.name, problems=[exc.description or exc.name]
    ), status


def _arg(name: str, limit: int = 255) -> str:
    return request.args.get(name, "").strip()[:limit]


def _attachment(body: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- results --------------------------------------------------------------------------------------


def _date(name: str, problems: list[str], *, end: bool) -> datetime | None:
    raw = _arg(name, 32)
    if not raw:
        return None
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            value = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        return datetime.combine(value.date(), time.max.replace(microsecond=0)) if end and len(raw) == 10 else value
    problems.append(f"{name.replace('_', ' ')} must be a date like 2020-06-30, not {raw!r}")
    return None


def _choice(name: str) -> bool | None:
    return {"yes": True, "no": False}.get(_arg(name, 8))


def _filters(caller: Caller) -> tuple[reports.RunFilters, list[str]]:
    problems: list[str] = []
    start, end = _date("start_date", problems, end=False), _date("end_date", problems, end=True)
    if start and end and start > end:
        problems.append("the start date is after the end date")
    mine = _arg("mine", 8) == "1"
    if mine and caller.account is None:
        problems.append("sign in to see your own runs")
        mine = False
    filters = reports.RunFilters(
        cpid=_arg("cpid") or None,
        start=start,
        end=end,
        guideline=_arg("guideline") or None,
        target=_arg("target", 32) or None,
        verified=_choice("verified"),
        signed=_choice("signed"),
        mine=mine,
    )
    return filters, problems


@bp.get("/")
@bp.get("/results")  # registered first, so links say /results
def index() -> tuple[str, int]:
    """The runs: filters (cloud, dates, guideline, target, verified, signed, mine) and pages."""
    caller = page_caller()
    filters, problems = _filters(caller)
    page = _arg("page", 9)
    number = int(page) if page.isdigit() else 1
    per_page = int(current_app.config["RESULTS_PER_PAGE"])
    listing = reports.list_runs(session(), caller, filters, page=number, per_page=per_page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "dashboard/results.html",
        listing=listing,
        args=args,
        problems=problems,
        guidelines=reports.list_guideline_files(session()),
        targets=TARGETS,
    ), 400 if problems else 200


def _find_run(run_id: str, level: str = USER) -> tuple[store.RunRecord, str]:
    record = store.get_run(session(), run_id)
    if record is None:
        raise ApiError(404, f"Test result {run_id} not found")
    return record, require_role(page_caller(), record, level)


def _guideline(version: str | None, target: str) -> tuple[catalog.LoadedGuideline | None, str, list[str]]:
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


@bp.get("/results/<run_id>")
def show_run(run_id: str) -> str:
    """One run against a chosen guideline and target: verdict, summary bar, every capability."""
    record, role = _find_run(run_id)
    target = _arg("target", 32) or record.meta.get("target") or "platform"
    loaded, target, notices = _guideline(_arg("guideline") or record.meta.get("guideline"), target)
    report, extras = reports.run_report(session(), record, role, loaded.guideline if loaded else None)
    compliance = bar = None
    if loaded is not None:
        compliance = reports.run_compliance(report, loaded, target, role=role, extended=record.has_extended)
        bar = charts.summary_bar(
            [(s, compliance.required_states[s]) for s in charts.STATES], label="required capabilities by state"
        )
    return render_template(
        "dashboard/run.html",
        run=reports.run_row(record, page_caller()),
        record=record,
        role=role,
        privileged=privileged(role),
        compliance=compliance,
        bar=bar,
        extras=extras,
        notices=notices,
        provenance=reports.provenance_of(report, role),
        loaded=loaded,
        target=target,
        guidelines=reports.list_guideline_files(session()),
        extras_shown=EXTRAS_SHOWN,
    )


@bp.get("/results/<run_id>/upload.json")
def download_upload(run_id: str) -> Response:
    """The run's v1 upload document, rebuilt from its stored tests (owner and Foundation: it holds the cpid)."""
    record, _role = _find_run(run_id, OWNER)
    document = to_v1_document(store.passed_report(session(), record))
    return _attachment(json.dumps(document, indent=1), "application/json", f"{record.id}.json")


@bp.get("/results/<run_id>/extended.json")
def download_extended(run_id: str) -> Response:
    """The run's extended document (every outcome), for the owner and the Foundation."""
    record, _role = _find_run(run_id, OWNER)
    body = store.extended_body(session(), record.id) if record.has_extended else None
    if body is None:
        raise ApiError(404, f"Test result {record.id} has no extended document")
    return _attachment(body, "application/json", f"{record.id}.extended.json")


@bp.get("/results/<run_id>/passed.txt")
def download_passed(run_id: str) -> Response:
    """The run's passed test names, one per line (what ``GET /v1/results/<id>`` lists)."""
    record, _role = _find_run(run_id)
    names = [name for name, _ in store.passed_cases(session(), record.id)]
    return _attachment("\n".join(names), "text/plain", f"{record.id}.passed.txt")


# -- guidelines -----------------------------------------------------------------------------------


@bp.get("/guidelines")
def guidelines() -> str:
    """Every guideline file, by family (target program) and status."""
    rows = reports.list_guideline_files(session())
    family, status = _arg("family", 64), _arg("status", 32)
    shown = [r for r in rows if (not family or r.family == family) and (not status or r.status == status)]
    return render_template(
        "dashboard/guidelines.html",
        rows=shown,
        family=family,
        status=status,
        families=sorted({r.family for r in rows}),
        statuses=sorted({r.status for r in rows}),
    )


def _loaded(file_name: str) -> catalog.LoadedGuideline:
    loaded = catalog.load_guideline(session(), catalog.file_name_for(file_name))
    if loaded is None:
        raise ApiError(404, f"Guideline file {catalog.file_name_for(file_name)} not found")
    return loaded


@bp.get("/guidelines/<file_name>")
def show_guideline(file_name: str) -> str:
    """One guideline for a target: its capabilities by status, with tests, flags and reasons."""
    loaded = _loaded(file_name)
    guideline = loaded.guideline
    target = _arg("target", 32) or next(iter(guideline.programs), "platform")
    if target not in guideline.programs:
        raise ApiError(404, f"{loaded.file} has no target {target!r}: it has {', '.join(guideline.programs)}")
    chosen = parse_statuses(",".join(request.args.getlist("status"))[:64]) or list(STATUSES)
    statuses = guideline.target_statuses(target)
    groups = [
        (s.value, [guideline.capabilities.get(n) or n for n in sorted(statuses) if statuses[n] is s]) for s in chosen
    ]
    return render_template(
        "dashboard/guideline.html",
        loaded=loaded,
        guideline=guideline,
        target=target,
        groups=groups,
        chosen=[s.value for s in chosen],
        statuses=[s.value for s in STATUSES],
        files=reports.list_guideline_files(session()),
    )


@bp.get("/guidelines/<file_name>/tests.txt")
def download_test_list(file_name: str) -> Response:
    """The test list, line for line what ``GET /v1/guidelines/<version>/tests`` answers."""
    try:
        loaded, target, lines = requested_test_list(file_name)
    except TestListError as exc:
        raise ApiError(exc.status, exc.text) from None
    stem = loaded.file.removesuffix(".json")
    return _attachment("\n".join(lines), "text/plain", f"{stem}.{target}.tests.txt")


@bp.get("/guidelines/diff")
def diff_guidelines() -> tuple[str, int]:
    """What changed for a target between two guideline files."""
    files = reports.list_guideline_files(session())
    powered = [f.file for f in files if f.family == catalog.POWERED]  # next.json, then newest first
    new_name = _arg("new") or (powered[0] if powered else "")  # by default: what the newest one changes
    old_name = _arg("old") or (powered[1] if len(powered) > 1 else "")
    target = _arg("target", 32) or "platform"
    rows: list[reports.DiffRow] = []
    problems: list[str] = []
    if old_name and new_name:
        old, new = _loaded(old_name), _loaded(new_name)
        try:
            rows = reports.diff_guidelines(old.guideline, new.guideline, target)
        except UnknownTarget as exc:
            problems.append(str(exc))
    counts = {k: sum(1 for r in rows if r.change == k) for k in reports.DIFF_KINDS}
    return render_template(
        "dashboard/diff.html",
        rows=rows,
        counts=counts,
        old=old_name,
        new=new_name,
        target=target,
        files=files,
        targets=TARGETS,
        problems=problems,
    ), 400 if problems else 200


# -- scoring --------------------------------------------------------------------------------------
# NOTE: the only module of webapp that imports scoring (STYLE §2), read-only and lazily, so the
# API's start-up does not pay for pandas.

SCORING_TTL = 60.0  # seconds a computed board is reused while no run is uploaded (sharing shows within this)
_boards: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}
_boards_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ScoringSource:
    """What the scoring page reads: a worksheet and a guideline with the two before it."""

    problems: list[str]
    worksheet: str = ""  # its name, or the configured path
    text: str = ""
    loaded: catalog.LoadedGuideline | None = None
    previous: tuple[catalog.LoadedGuideline, ...] = ()
    target: str = "platform"
    threshold: float = 0.5


def _worksheet(problems: list[str]) -> tuple[str, str]:
    """``?worksheet=`` (an imported one), else setting ``SCORING_WORKSHEET`` (a path), else the
    imported ``scoring.txt`` (``tcup-server import-guidelines`` imports ``scoring*.txt``)."""
    chosen, setting = _arg("worksheet"), str(current_app.config.get("SCORING_WORKSHEET") or "")
    if not chosen and setting:
        try:
            return setting, Path(setting).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"The worksheet {setting} (setting SCORING_WORKSHEET) cannot be read: {exc}")
            return setting, ""
    names = catalog.list_worksheets(session())
    name = chosen or ("scoring.txt" if "scoring.txt" in names else names[0] if names else "")
    text = catalog.load_worksheet(session(), name) if name else None
    if text is None:
        problems.append(
            f"Worksheet {name} is not on this server"
            if name
            else "No worksheet: import scoring.txt "
            "(tcup-server import-guidelines DIR) or set TCUP_SCORING_WORKSHEET to its path"
        )
    return name, text or ""


def _scoring_source(*, require: bool = False) -> ScoringSource:
    config = current_app.config
    problems: list[str] = []
    worksheet, text = _worksheet(problems)
    name = catalog.file_name_for(_arg("guideline") or str(config.get("SCORING_GUIDELINE") or "next.json"))
    loaded = catalog.load_guideline(session(), name)
    target = _arg("target", 32) or "platform"
    if loaded is None:
        problems.append(f"Guideline {name} is not on this server")
    elif loaded.guideline.cutoff is None or not loaded.guideline.criteria:
        problems.append(f"{loaded.file} has no scoring criteria or cutoff: choose a schema 2.0 guideline")
    elif target not in loaded.guideline.programs:
        target = next(iter(loaded.guideline.programs), target)
    if problems and require:
        raise ApiError(404, problems[0], problems)
    previous = tuple(catalog.previous_guidelines(session(), loaded.file)) if loaded is not None else ()
    return ScoringSource(
        problems, worksheet, text, loaded, previous, target, float(config.get("SCORING_THRESHOLD") or 0.5)
    )


def _board(source: ScoringSource) -> dict[str, Any]:
    """The scoring page's figures, reused for :data:`SCORING_TTL` seconds unless a run is uploaded or
    the worksheet or a guideline changes."""
    from scoring import api as scoring_api
    from scoring.errors import ScoringError

    assert source.loaded is not None
    guideline = source.loaded.guideline
    key = (
        source.worksheet,
        hash(source.text),
        source.loaded.file,
        hash(source.loaded.content),
        tuple(p.file for p in source.previous),
        source.target,
        source.threshold,
        reports.newest_run(session()),
    )
    hit = _boards.get(key)
    if hit is not None and monotonic() - hit[0] < SCORING_TTL:
        return hit[1]
    runs = scoring_api.runs_data(reports.evidence_runs(session(), [guideline, *(p.guideline for p in source.previous)]))
    statuses = {k: v.value for k, v in guideline.target_statuses(source.target).items()}
    try:
        records = scoring_api.tabulate(source.text, guideline, source=source.worksheet)
        rates = scoring_api.pass_rates(runs, guideline, source.target, threshold=source.threshold)
        found = scoring_api.disagreements(
            source.text,
            guideline,
            previous=[p.guideline for p in source.previous],
            runs=runs,
            target=source.target,
            threshold=source.threshold,
            source=source.worksheet,
        )
    except ScoringError as exc:
        raise ApiError(422, f"The worksheet cannot be scored with {source.loaded.file}", exc.problems) from None
    names = {c.key: c.name for c in guideline.criteria}
    columns = [*CRITERIA_ORDER, "non_admin"]
    labels = [names.get(c, c) for c in CRITERIA_ORDER] + ["Non-Admin"]
    rates.sort(key=lambda r: (statuses.get(r["capability"]) != "required", r["capability"]))
    board = {
        "records": records,
        "statuses": statuses,
        "columns": columns,
        "labels": labels,
        "rates": rates,
        "heatmap": charts.board_heatmap(
            records, statuses, columns, labels, cutoff=float(guideline.cutoff or 0), guideline=source.loaded.file
        ),
        "rates_chart": charts.pass_rate_chart(rates, statuses, threshold=source.threshold),
        "by_status": [d for d in found if d["criterion"] == "status"],
        "by_evidence": [d for d in found if d["kind"] == "evidence-disagrees"],
        "other": [d for d in found if d["criterion"] != "status" and d["kind"] != "evidence-disagrees"],
        "clouds": rates[0]["clouds"] if rates else 0,
        "counts": {
            "lines": len(records),
            "candidates": sum(1 for r in records if r["star"]),
            "must_pass": sum(1 for r in records if statuses.get(r["capability"]) == "required"),
            "vetoed": sum(1 for r in records if r["vetoed"]),
            "incomplete": sum(1 for r in records if r["incomplete"]),
        },
    }
    board["html"] = Markup(render_template("dashboard/scoring_board.html", board=board, source=source))
    with _boards_lock:
        if len(_boards) > 32:
            _boards.clear()
        _boards[key] = (monotonic(), board)
    return board


@bp.get("/scoring")
def scoring() -> tuple[str, int]:
    """The board's matrix as a heatmap, Widely Deployed pass rates, score against status."""
    source = _scoring_source()
    board = _board(source) if not source.problems else None
    return render_template(
        "dashboard/scoring.html",
        source=source,
        board=board,
        cutoff=(source.loaded.guideline.cutoff if source.loaded else None),
        worksheets=catalog.list_worksheets(session()),
        configured=current_app.config.get("SCORING_WORKSHEET") or "",
        files=[f for f in reports.list_guideline_files(session()) if f.schema == "2.0"],
    ), 200 if board is not None else 404


@bp.get("/scoring/board.xlsx")
def download_board() -> Response:
    """The board workbook (scores, statuses, evidence and disagreements side by side)."""
    from scoring import api as scoring_api

    source = _scoring_source(require=True)
    assert source.loaded is not None
    body = scoring_api.board_bytes(
        source.text,
        source.loaded.guideline,
        source=source.worksheet,
        previous=[p.guideline for p in source.previous],
        program=source.target,
        runs=scoring_api.runs_data(
            reports.evidence_runs(session(), [source.loaded.guideline, *(p.guideline for p in source.previous)])
        ),
        threshold=source.threshold,
    )
    return _attachment(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "board.xlsx")


@bp.get("/scoring/scores.csv")
def download_scores() -> Response:
    """The worksheet's ``tabulated_scores.csv`` under the chosen guideline's weights and cutoff."""
    from scoring import api as scoring_api

    source = _scoring_source(require=True)
    assert source.loaded is not None
    return _attachment(
        scoring_api.to_csv_text(source.text, source.loaded.guideline, source=source.worksheet),
        "text/csv",
        "tabulated_scores.csv",
    )


# -- clouds ---------------------------------------------------------------------------------------


@bp.get("/clouds")
def clouds() -> BaseResponse | str:
    """The clouds the caller may name (a form for any cpid: cpids are private to owners)."""
    cpid = _arg("cpid")
    if cpid:
        return redirect(url_for("dashboard.show_cloud", cpid=cpid))
    return render_template("dashboard/clouds.html", clouds=reports.visible_clouds(session(), page_caller()))


@bp.get("/clouds/<path:cpid>")
def show_cloud(cpid: str) -> str:
    """A cloud's runs over time (required capabilities passed) and its latest compliance."""
    caller = page_caller()
    runs, total = reports.cloud_runs(session(), caller, cpid, limit=HISTORY_LIMIT)
    loaded, target, notices = _guideline(_arg("guideline") or None, _arg("target", 32) or "platform")
    points: list[reports.HistoryPoint] = []
    chart: Markup | None = None
    latest = bar = None
    if loaded is not None and runs:
        points = reports.cloud_history(session(), caller, runs, loaded, target)
        columns = [
            charts.Column(
                p.run.created_at.strftime("%Y-%m-%d"),
                p.passed,
                p.compliant,
                url_for("dashboard.show_run", run_id=p.run.id, guideline=loaded.file, target=target),
            )
            for p in points
        ]
        chart = charts.run_history(
            columns, maximum=points[-1].required, label=f"required capabilities passed per run, {loaded.file} {target}"
        )
        record = runs[-1]
        role = require_role(caller, record, USER)
        report, _extras = reports.run_report(session(), record, role, loaded.guideline)
        latest = reports.run_compliance(report, loaded, target, role=role, extended=record.has_extended)
        bar = charts.summary_bar(
            [(s, latest.required_states[s]) for s in charts.STATES],
            label="required capabilities of the latest run by state",
        )
    return render_template(
        "dashboard/cloud.html",
        cpid=cpid,
        points=points,
        total=total,
        chart=chart,
        latest=latest,
        bar=bar,
        loaded=loaded,
        target=target,
        notices=notices,
        files=reports.list_guideline_files(session()),
        limit=HISTORY_LIMIT,
    )


# -- signing in -----------------------------------------------------------------------------------


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
    """Forget the sign-in cookie."""
    response = redirect(url_for("dashboard.index"))
    response.delete_cookie(COOKIE, httponly=True, samesite="Strict", secure=request.is_secure)
    return response


__all__ = ["COOKIE", "bp", "page_caller"]
