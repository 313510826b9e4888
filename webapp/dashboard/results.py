"""The results list and one run's page (its verdict against a guideline and target), with its downloads."""

from __future__ import annotations

import json
from datetime import datetime, time

from flask import Response, current_app, render_template, request

from interop_model import evaluate
from interop_model.wire import to_v1_document
from webapp import verdicts as judging
from webapp.access import OWNER, privileged
from webapp.api import registry
from webapp.dashboard import charts, models
from webapp.dashboard.pages import TARGETS, arg, attachment, bp, find_run, guideline_for, page_caller
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import catalog
from webapp.store import runs as store
from webapp.store.accounts import Caller

EXTRAS_SHOWN = 100  # passed tests outside the guideline listed on a run's page (all are in passed.txt)


def _date(name: str, problems: list[str], *, end: bool) -> datetime | None:
    raw = arg(name, 32)
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
    return {"yes": True, "no": False}.get(arg(name, 8))


def _filters(caller: Caller) -> tuple[store.RunFilters, list[str]]:
    problems: list[str] = []
    start, end = _date("start_date", problems, end=False), _date("end_date", problems, end=True)
    if start and end and start > end:
        problems.append("the start date is after the end date")
    mine = arg("mine", 8) == "1"
    if mine and caller.account is None:
        problems.append("sign in to see your own runs")
        mine = False
    filters = store.RunFilters(
        cpid=arg("cpid") or None,
        start=start,
        end=end,
        guideline=arg("guideline") or None,
        target=arg("target", 32) or None,
        verification_status={True: 1, False: 0, None: None}[_choice("verified")],
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
    page = arg("page", 9)
    number = int(page) if page.isdigit() else 1
    per_page = int(current_app.config["RESULTS_PER_PAGE"])
    listing = models.list_runs(session(), caller, filters, page=number, per_page=per_page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "dashboard/results.html",
        listing=listing,
        args=args,
        problems=problems,
        guidelines=catalog.list_guideline_files(session()),
        targets=TARGETS,
    ), 400 if problems else 200


@bp.get("/results/<run_id>")
def show_run(run_id: str) -> str:
    """One run against a chosen guideline and target: verdict, summary bar, every capability."""
    record, role = find_run(run_id)
    selection = store.selection_of(session(), record)
    # the run's own choice (meta, else its recorded selection) unless the viewer picks another
    target = arg("target", 32) or record.meta.get("target") or (selection.target if selection else "") or "platform"
    version = arg("guideline") or record.meta.get("guideline") or (selection.guideline if selection else None)
    loaded, target, notices = guideline_for(version, target)
    subset = None
    if loaded is not None and selection is not None:
        selected_from = catalog.resolve_guideline(session(), selection.guideline, selection.target)
        subset = judging.selected_subset(selection, selected_from, loaded, target)
    report, extras = store.run_report(session(), record, role, loaded.guideline if loaded else None)
    compliance = bar = None
    if loaded is not None:
        result = evaluate(loaded.guideline, target, report)
        full = privileged(role) and record.has_extended
        judged = judging.run_verdicts(session(), record, report, result, loaded, subset=subset, full_evidence=full)
        compliance = models.run_compliance(
            report, loaded, target, role=role, extended=record.has_extended, result=result, judged=judged
        )
        bar = charts.summary_bar(
            [(s, compliance.required_states[s]) for s in charts.STATES], label="required capabilities by state"
        )
    product_version = registry.product_version_view(record, role, registry.version_views([record]))
    return render_template(
        "dashboard/run.html",
        run=models.run_row(record, page_caller()),
        product_version=product_version,
        record=record,
        role=role,
        privileged=privileged(role),
        compliance=compliance,
        bar=bar,
        extras=extras,
        notices=notices,
        provenance=models.provenance_of(report, role),
        loaded=loaded,
        target=target,
        guidelines=catalog.list_guideline_files(session()),
        extras_shown=EXTRAS_SHOWN,
        subset=subset,
        selection=selection,
    )


@bp.get("/results/<run_id>/upload.json")
def download_upload(run_id: str) -> Response:
    """The run's v1 upload document, rebuilt from its stored tests (owner and Foundation: it holds the cpid)."""
    record, _role = find_run(run_id, OWNER)
    document = to_v1_document(store.passed_report(session(), record))
    return attachment(json.dumps(document, indent=1), "application/json", f"{record.id}.json")


@bp.get("/results/<run_id>/extended.json")
def download_extended(run_id: str) -> Response:
    """The run's extended document (every outcome), for the owner and the Foundation."""
    record, _role = find_run(run_id, OWNER)
    body = store.extended_body(session(), record.id) if record.has_extended else None
    if body is None:
        raise ApiError(404, f"Test result {record.id} has no extended document")
    return attachment(body, "application/json", f"{record.id}.extended.json")


@bp.get("/results/<run_id>/passed.txt")
def download_passed(run_id: str) -> Response:
    """The run's passed test names, one per line (what ``GET /v1/results/<id>`` lists)."""
    record, _role = find_run(run_id)
    names = [name for name, _ in store.passed_cases(session(), record.id)]
    return attachment("\n".join(names), "text/plain", f"{record.id}.passed.txt")
