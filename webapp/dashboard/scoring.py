"""The scoring page: the board's matrix as a heatmap, Widely Deployed pass rates, score against status.

The only dashboard module that imports :mod:`scoring` (read-only, and only inside the views),
so that starting the app does not load pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Response, current_app, render_template
from markupsafe import Markup

from interop_model import CRITERIA_ORDER
from webapp.api.scoring import evidence
from webapp.dashboard import charts
from webapp.dashboard.pages import arg, attachment, bp, caches
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import catalog
from webapp.store import runs as store


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
    chosen, setting = arg("worksheet"), str(current_app.config.get("SCORING_WORKSHEET") or "")
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
    name = catalog.file_name_for(arg("guideline") or str(config.get("SCORING_GUIDELINE") or "next.json"))
    loaded = catalog.load_guideline(session(), name)
    target = arg("target", 32) or "platform"
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
    """The scoring page's figures, kept in the app's cache until what they summarise changes: the
    worksheet, a guideline, the threshold, or the public runs (one uploaded, shared, unshared or
    deleted, in any process: :func:`webapp.store.runs.public_changes`)."""
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
        store.public_changes(session()),
    )
    boards = caches().boards
    hit = boards.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    runs, _ = evidence([guideline, *(p.guideline for p in source.previous)])
    statuses = {k: v.value for k, v in guideline.target_statuses(source.target).items()}
    try:
        view = scoring_api.board_view(
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
    records, rates, found = view["scores"], view["pass_rates"], view["disagreements"]
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
    boards.put(key, board)
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
        files=[f for f in catalog.list_guideline_files(session()) if f.schema == "2.0"],
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
        runs=evidence([source.loaded.guideline, *(p.guideline for p in source.previous)])[0],
        threshold=source.threshold,
    )
    return attachment(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "board.xlsx")


@bp.get("/scoring/scores.csv")
def download_scores() -> Response:
    """The worksheet's ``tabulated_scores.csv`` under the chosen guideline's weights and cutoff."""
    from scoring import api as scoring_api

    source = _scoring_source(require=True)
    assert source.loaded is not None
    return attachment(
        scoring_api.to_csv_text(source.text, source.loaded.guideline, source=source.worksheet),
        "text/csv",
        "tabulated_scores.csv",
    )
