"""The clouds a caller may name, and one cloud's runs over time with its latest compliance."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from interop_model import evaluate
from webapp import verdicts as judging
from webapp.access import USER, privileged, require_role
from webapp.dashboard import charts, models
from webapp.dashboard.pages import arg, bp, caches, guideline_for, page_caller
from webapp.sessions import session
from webapp.store import catalog
from webapp.store import runs as store

HISTORY_LIMIT = 40  # runs in a cloud's chart: each is judged once, then cached


@bp.get("/clouds")
def clouds() -> BaseResponse | str:
    """The clouds the caller may name (a form for any cpid: cpids are private to owners)."""
    cpid = arg("cpid")
    if cpid:
        return redirect(url_for("dashboard.show_cloud", cpid=cpid))
    return render_template("dashboard/clouds.html", clouds=store.visible_clouds(session(), page_caller()))


@bp.get("/clouds/<path:cpid>")
def show_cloud(cpid: str) -> str:
    """A cloud's runs over time (required capabilities passed) and its latest compliance."""
    caller = page_caller()
    runs, total = store.cloud_runs(session(), caller, cpid, limit=HISTORY_LIMIT)
    loaded, target, notices = guideline_for(arg("guideline") or None, arg("target", 32) or "platform")
    points: list[models.HistoryPoint] = []
    chart: Markup | None = None
    latest = bar = None
    if loaded is not None and runs:
        points = models.cloud_history(session(), caller, runs, loaded, target, cache=caches().history)
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
        report, _extras = store.run_report(session(), record, role, loaded.guideline)
        result = evaluate(loaded.guideline, target, report)
        _selection, subset = judging.run_subset(session(), record, loaded, target)
        full = privileged(role) and record.has_extended
        judged = judging.run_verdicts(session(), record, report, result, loaded, subset=subset, full_evidence=full)
        latest = models.run_compliance(
            report, loaded, target, role=role, extended=record.has_extended, result=result, judged=judged
        )
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
        files=catalog.list_guideline_files(session()),
        limit=HISTORY_LIMIT,
    )
