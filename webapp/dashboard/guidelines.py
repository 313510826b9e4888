"""The guideline pages: every file, one guideline for a target, its test list, and what changed between two."""

from __future__ import annotations

from flask import Response, render_template, request

from interop_model import STATUSES, UnknownTarget, parse_statuses
from webapp.api.guidelines import TestListError, requested_test_list
from webapp.dashboard import diff
from webapp.dashboard.pages import TARGETS, arg, attachment, bp
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import catalog


@bp.get("/guidelines")
def guidelines() -> str:
    """Every guideline file, by family (target program) and status."""
    rows = catalog.list_guideline_files(session())
    family, status = arg("family", 64), arg("status", 32)
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
    target = arg("target", 32) or next(iter(guideline.programs), "platform")
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
        files=catalog.list_guideline_files(session()),
    )


@bp.get("/guidelines/<file_name>/tests.txt")
def download_test_list(file_name: str) -> Response:
    """The test list, line for line what ``GET /v1/guidelines/<version>/tests`` answers."""
    try:
        loaded, target, lines = requested_test_list(file_name)
    except TestListError as exc:
        raise ApiError(exc.status, exc.text) from None
    stem = loaded.file.removesuffix(".json")
    return attachment("\n".join(lines), "text/plain", f"{stem}.{target}.tests.txt")


@bp.get("/guidelines/diff")
def diff_guidelines() -> tuple[str, int]:
    """What changed for a target between two guideline files."""
    files = catalog.list_guideline_files(session())
    powered = [f.file for f in files if f.family == catalog.POWERED]  # next.json, then newest first
    new_name = arg("new") or (powered[0] if powered else "")  # by default: what the newest one changes
    old_name = arg("old") or (powered[1] if len(powered) > 1 else "")
    target = arg("target", 32) or "platform"
    rows: list[diff.DiffRow] = []
    problems: list[str] = []
    if old_name and new_name:
        old, new = _loaded(old_name), _loaded(new_name)
        try:
            rows = diff.diff_guidelines(old.guideline, new.guideline, target)
        except UnknownTarget as exc:
            problems.append(str(exc))
    counts = {k: sum(1 for r in rows if r.change == k) for k in diff.DIFF_KINDS}
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
