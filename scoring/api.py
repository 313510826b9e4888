"""Functions other packages call (the web service imports these, read-only).

Inputs are text, model objects (:class:`~interop_model.guidelines.Guideline`, run reports)
and paths or buffers; outputs are plain lists of dicts, text or bytes. DataFrames stay
inside :mod:`scoring`. Errors are :class:`scoring.errors.ScoringError` subclasses.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

import pandas as pd

from interop_model.guidelines import Guideline
from scoring import tables as T
from scoring.assessment import Assessment, Runs, assess, capability_definitions, choose_target, score_with_guideline
from scoring.draft import draft_decisions, draft_guideline
from scoring.engine import check_weights, score
from scoring.evidence import DEFAULT_THRESHOLD, pass_rates_frame
from scoring.worksheet import Worksheet, read_worksheet, render_worksheet, require_scored

__all__ = [
    "DEFAULT_THRESHOLD",
    "board_bytes",
    "board_view",
    "disagreements",
    "draft",
    "import_board",
    "pass_rates",
    "rewrite_worksheet",
    "runs_data",
    "runs_from_cases",
    "runs_from_columns",
    "score_achievements",
    "score_marks",
    "tabulate",
    "to_csv_text",
    "write_board",
]


def _worksheet(text: str, source: str, graduated: bool) -> Worksheet:
    """The worksheet; one without a scored line is refused, as ``tcup-score`` refuses it."""
    return require_scored(read_worksheet(text, source=source, graduated=graduated))


def tabulate(
    worksheet_text: str, guideline: Guideline, *, source: str = "worksheet", graduated: bool = False
) -> list[dict[str, Any]]:
    """One dict per scored line: capability, section, line, the thirteen marks (by criterion
    key, then ``non_admin``), ``total`` (negative when incomplete, 0 when vetoed), ``star``,
    ``total_text`` (``"74*"``), ``vetoed``, ``incomplete``, ``written_total`` and, for graduated
    sheets, the binary reading ``binary_total``/``binary_star``/``binary_text``."""
    scored = score_with_guideline(_worksheet(worksheet_text, source, graduated), guideline)
    return T.records(scored.marks.join(scored.scores))


def to_csv_text(
    worksheet_text: str, guideline: Guideline, *, source: str = "worksheet", graduated: bool = False
) -> str:
    """The ``tabulated_scores.csv`` text for a worksheet (vetoed rows are ``name,0``)."""
    scored = score_with_guideline(_worksheet(worksheet_text, source, graduated), guideline)
    return T.to_csv_text(scored.marks, scored.scores, graduated=graduated)


def rewrite_worksheet(
    worksheet_text: str, guideline: Guideline, *, source: str = "worksheet", graduated: bool = False
) -> str:
    """The worksheet with every total and star recomputed (other lines unchanged)."""
    worksheet = _worksheet(worksheet_text, source, graduated)
    scored = score_with_guideline(worksheet, guideline)
    return render_worksheet(worksheet, scored.scores[T.TOTAL_TEXT].to_dict())


def runs_data(runs: Iterable[T.RunLike]) -> Runs:
    """Flatten run reports once, for several calls of :func:`pass_rates` or :func:`disagreements`."""
    return Runs(*T.results_frames(runs))


def runs_from_columns(
    cpids: Sequence[str],
    results_run: Sequence[int],
    results_test: Sequence[str],
    results_uuid: Sequence[str | None],
    results_passed: Sequence[bool],
    *,
    started: Sequence[str] | None = None,
) -> Runs:
    """Runs from plain columns, e.g. straight from a database query (no RunReport objects).

    :param cpids: one per run; run ``i`` is ``cpids[i]``.
    :param started: one ISO 8601 timestamp per run (or ""); later runs replace earlier ones.
    :param results_run: for each result, the number of its run (0-based).
    :param results_uuid: the idempotent id as text (``str(UUID)``), or None.
    """
    return Runs(T.runs_frame(cpids, started), T.results_frame(results_run, results_test, results_uuid, results_passed))


def runs_from_cases(
    cpids: Sequence[str],
    results_run: Sequence[int],
    results_case: Sequence[int],
    case_names: Sequence[str],
    case_uuids: Sequence[str | None],
) -> Runs:
    """Passed results as numbers: the shape a store keeps them in, read without a string per result.

    :param cpids: one per run; run ``i`` is ``cpids[i]`` (one run per cloud: the input order decides).
    :param results_run: for each passed result, the number of its run (0-based).
    :param results_case: for each passed result, its index into ``case_names`` and ``case_uuids``.
    :param case_uuids: each case's idempotent id as text (``str(UUID)``), or None.
    """
    return Runs(T.runs_frame(cpids), T.results_frame_from_cases(results_run, results_case, case_names, case_uuids))


def pass_rates(
    runs: Iterable[T.RunLike] | Runs,
    guideline: Guideline,
    target: str | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Per capability of ``target`` (every status): tests, non-flagged tests, clouds, clouds passing
    (latest run of each cpid passes every non-flagged test), ``pass_rate``, ``test_pass_rate``
    and the Widely Deployed evidence ``deployed`` (1.0 at or above ``threshold``, 0.0 below,
    None without data). Tests match by idempotent id first, then by name or alias.
    """
    data = runs if isinstance(runs, Runs) else runs_data(runs)
    target = choose_target(guideline, target)
    names = guideline.target_capabilities(target) if target else list(guideline.capabilities)
    definitions = capability_definitions(names, [guideline])
    frame = pass_rates_frame(
        data.runs, data.results, T.entries_frame(definitions), threshold=threshold, capabilities=names
    )
    return T.records(frame)


def disagreements(
    worksheet_text: str,
    guideline: Guideline,
    *,
    previous: Sequence[Guideline] = (),
    runs: Iterable[T.RunLike] | Runs | None = None,
    target: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    source: str = "worksheet",
    graduated: bool = False,
) -> list[dict[str, Any]]:
    """Every disagreement: score against status (with the process rule), board marks against
    evidence, and hand-written totals against the weights. Keys: capability, kind, criterion,
    board, evidence, rule, detail."""
    result, _ = _assessed(worksheet_text, guideline, previous, runs, target, threshold, source, graduated)
    return T.records(result.disagreements.set_index(T.CAPABILITY))


def board_view(
    worksheet_text: str,
    guideline: Guideline,
    *,
    previous: Sequence[Guideline] = (),
    runs: Iterable[T.RunLike] | Runs | None = None,
    target: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    source: str = "worksheet",
    graduated: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """What a page of the board shows, from one reading and scoring of the worksheet:
    ``scores`` (as :func:`tabulate`), ``pass_rates`` (as :func:`pass_rates`, empty without runs)
    and ``disagreements`` (as :func:`disagreements`)."""
    result, data = _assessed(worksheet_text, guideline, previous, runs, target, threshold, source, graduated)
    return {
        "scores": T.records(result.scored.marks.join(result.scored.scores)),
        "pass_rates": [] if data is None else pass_rates(data, guideline, target, threshold=threshold),
        "disagreements": T.records(result.disagreements.set_index(T.CAPABILITY)),
    }


def _assessed(
    worksheet_text: str,
    guideline: Guideline,
    previous: Sequence[Guideline],
    runs: Iterable[T.RunLike] | Runs | None,
    target: str | None,
    threshold: float,
    source: str,
    graduated: bool,
) -> tuple[Assessment, Runs | None]:
    """The worksheet assessed, and the runs as the engine reads them."""
    data = None if runs is None else runs if isinstance(runs, Runs) else runs_data(runs)
    worksheet = _worksheet(worksheet_text, source, graduated)
    return assess(worksheet, guideline, target=target, previous=previous, runs=data, threshold=threshold), data


def write_board(
    worksheet_text: str,
    guideline: Guideline,
    target: str | IO[bytes],
    *,
    previous: Sequence[Guideline] = (),
    runs: Iterable[T.RunLike] | Runs | None = None,
    program: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    source: str = "worksheet",
    graduated: bool = False,
) -> None:
    """Write the board workbook (.xlsx) to a path or a binary buffer."""
    data = None if runs is None else runs if isinstance(runs, Runs) else runs_data(runs)
    result = assess(
        _worksheet(worksheet_text, source, graduated),
        guideline,
        target=program,
        previous=previous,
        runs=data,
        threshold=threshold,
    )
    from scoring.board import write_board as _write_board  # openpyxl: only for the workbook

    _write_board(result, target)


def board_bytes(worksheet_text: str, guideline: Guideline, **options: Any) -> bytes:
    """The board workbook as bytes (for a download response)."""
    buffer = io.BytesIO()
    write_board(worksheet_text, guideline, buffer, **options)
    return buffer.getvalue()


def import_board(source: str | IO[bytes]) -> dict[str, str]:
    """Read an edited board: ``{"guideline", "worksheet_text", "csv_text"}``."""
    from scoring.board import read_board  # openpyxl: only for the workbook

    board = read_board(source, name=source if isinstance(source, str) else "board.xlsx")
    return {"guideline": board.guideline, "worksheet_text": board.worksheet_text, "csv_text": board.csv_text}


def draft(
    worksheet_text: str,
    previous: Guideline,
    previous_raw: Mapping[str, Any],
    *,
    new_id: str = "next",
    target: str | None = None,
    keep_flags: bool = False,
    source: str = "worksheet",
    graduated: bool = False,
) -> dict[str, Any]:
    """``{"guideline": <schema 2.0 document>, "decisions": [per-capability status decisions]}``."""
    scored = score_with_guideline(_worksheet(worksheet_text, source, graduated), previous)
    decisions = draft_decisions(scored, previous)
    document = draft_guideline(
        scored, previous, previous_raw, new_id=new_id, target=target, keep_flags=keep_flags, decisions=decisions
    )
    return {"guideline": document, "decisions": T.records(decisions)}


def score_marks(
    marks: Mapping[str, Sequence[str]], guideline: Guideline, *, graduated: bool = False
) -> list[dict[str, Any]]:
    """Score marks given directly: capability -> thirteen marks (twelve criteria in worksheet
    order, then Non-Admin), each "0", "1", "?", "*" (or "2".."5" when graduated)."""
    frame = T.marks_from_rows([(name, tuple(values)) for name, values in marks.items()])
    weights = T.weights_series(guideline)
    check_weights(frame, weights, guideline.cutoff, worksheet="marks", guideline=guideline.source)
    assert guideline.cutoff is not None
    return T.records(score(frame, weights, guideline.cutoff, scale=5 if graduated else 1))


def score_achievements(guideline: Guideline, target: str | None = None) -> list[dict[str, Any]]:
    """Score each capability of ``target`` from its ``achievements`` (a listed criterion scores 1).

    Non-Admin is taken as 1: the ``admin`` field is reported (``admin``), not applied as a veto
    (guidelines' ``admin`` fields are often missing or stale). Rows also carry the capability's ``status``.
    """
    target = choose_target(guideline, target)
    statuses = T.statuses_series(guideline, target)
    weights = T.weights_series(guideline)
    rows = {
        name: tuple(("1" if key in cap.achievements else "0") if pd.notna(weights[key]) else "*" for key in T.CRITERIA)
        + ("1",)
        for name in statuses.index
        if (cap := guideline.capabilities.get(name)) is not None
    }
    frame = T.marks_from_rows(list(rows.items()))
    if guideline.cutoff is None:
        check_weights(frame, weights, None, worksheet="achievements", guideline=guideline.source)
    assert guideline.cutoff is not None
    scores = score(frame, weights, guideline.cutoff)
    admin = T.admin_series({n: guideline.capabilities[n] for n in rows})
    return T.records(scores[[T.TOTAL, T.STAR, T.TOTAL_TEXT]].join(statuses).join(admin))
