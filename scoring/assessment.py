"""One worksheet scored against one guideline: totals, statuses, evidence and disagreements.

:func:`assess` is the pipeline every command and the public API share::

    worksheet -> marks -> score() with the guideline's weights and cutoff
              -> statuses in the guideline and the previous ones -> compare_with_status()
              -> pass rates from runs, evidence marks -> compare_with_evidence()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from interop_model.guidelines import Capability, Guideline
from scoring import tables as T
from scoring.engine import check_weights, score, stale_totals
from scoring.evidence import DEFAULT_THRESHOLD, compare_with_evidence, evidence_frame, pass_rates_frame
from scoring.rules import compare_with_status, status_frame
from scoring.worksheet import Worksheet


@dataclass(frozen=True, slots=True)
class Runs:
    """Test results of many runs, as the two frames of :func:`scoring.tables.results_frames`."""

    runs: pd.DataFrame
    results: pd.DataFrame


@dataclass(frozen=True, slots=True, kw_only=True)
class Scored:
    """A worksheet's marks and scores under one set of weights."""

    worksheet: Worksheet
    weights: pd.Series
    cutoff: float
    marks: pd.DataFrame
    scores: pd.DataFrame
    stale: pd.DataFrame


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """Everything the board shows; frames stay inside :mod:`scoring`."""

    scored: Scored
    guideline: Guideline
    target: str | None
    previous: tuple[Guideline, ...]
    status: pd.DataFrame  # rules.status_frame
    evidence: pd.DataFrame  # evidence.evidence_frame
    disagreements: pd.DataFrame  # the DISAGREEMENT_COLUMNS, status then evidence then stale totals
    threshold: float
    has_runs: bool


def score_worksheet(worksheet: Worksheet, weights: pd.Series, cutoff: float | None, *, guideline_source: str) -> Scored:
    """Score every line of ``worksheet``; :class:`MissingWeights` if the weights cannot count its marks."""
    marks = T.marks_frame(worksheet)
    check_weights(marks, weights, cutoff, worksheet=worksheet.source, guideline=guideline_source)
    assert cutoff is not None
    scores = score(marks, weights, cutoff, scale=worksheet.scale)
    return Scored(
        worksheet=worksheet,
        weights=weights,
        cutoff=float(cutoff),
        marks=marks,
        scores=scores,
        stale=stale_totals(marks, scores),
    )


def score_with_guideline(worksheet: Worksheet, guideline: Guideline) -> Scored:
    """:func:`score_worksheet` with the guideline's own weights and cutoff."""
    return score_worksheet(worksheet, T.weights_series(guideline), guideline.cutoff, guideline_source=guideline.source)


def choose_target(guideline: Guideline, target: str | None) -> str | None:
    """``target`` if given (checked), else ``platform``, else the guideline's only program."""
    if target is not None:
        return guideline.program(target).target
    if "platform" in guideline.programs:
        return "platform"
    return next(iter(guideline.programs), None)


def assess(
    worksheet: Worksheet,
    guideline: Guideline,
    *,
    target: str | None = None,
    previous: Sequence[Guideline] = (),
    runs: Runs | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Assessment:
    """Score ``worksheet`` with ``guideline`` and set the scores beside statuses and evidence.

    :param previous: the guidelines before ``guideline``, newest first.
    :param runs: test results for the Widely Deployed evidence.
    """
    scored = score_with_guideline(worksheet, guideline)
    target = choose_target(guideline, target)
    statuses = T.statuses_series(guideline, target)
    before = [T.statuses_series(p, target if target in p.programs else choose_target(p, None)) for p in previous]
    status = status_frame(scored.scores, statuses, before)
    previous_id = previous[0].id if previous else None
    by_status = compare_with_status(status, scored.cutoff, guideline=guideline.id, previous=previous_id)
    definitions = capability_definitions(list(status.index), [guideline, *previous])
    rates = None
    if runs is not None:
        rates = pass_rates_frame(runs.runs, runs.results, T.entries_frame(definitions), threshold=threshold)
    evidence = evidence_frame(status.index, rates, before, T.admin_series(definitions))
    by_evidence = compare_with_evidence(
        scored.marks,
        evidence,
        scale=worksheet.scale,
        guideline=guideline.id,
        previous=[p.id for p in previous],
        threshold=threshold,
    )
    disagreements = pd.concat(
        [by_status[list(T.DISAGREEMENT_COLUMNS)], by_evidence, stale_rows(scored, guideline.id)], ignore_index=True
    )
    return Assessment(
        scored=scored,
        guideline=guideline,
        target=target,
        previous=tuple(previous),
        status=status,
        evidence=evidence,
        disagreements=disagreements,
        threshold=threshold,
        has_runs=runs is not None,
    )


def capability_definitions(names: Sequence[str], guidelines: Sequence[Guideline]) -> dict[str, Capability]:
    """Each name's definition from the first guideline (newest first) that defines it."""
    found: dict[str, Capability] = {}
    for guideline in reversed(guidelines):  # newer definitions overwrite older ones
        found.update({n: guideline.capabilities[n] for n in names if n in guideline.capabilities})
    return {n: found[n] for n in names if n in found}


def stale_rows(scored: Scored, guideline_id: str) -> pd.DataFrame:
    """Hand-written totals that disagree with the weights, as disagreement rows."""
    stale = scored.stale
    where = scored.worksheet.source + ":" + stale[T.LINE].astype(str)
    return pd.DataFrame(
        {
            T.CAPABILITY: stale.index,
            T.KIND: "stale-total",
            T.CRITERION: "total",
            T.BOARD: stale[T.BOARD].to_numpy(),
            T.EVIDENCE: stale[T.TOTAL_TEXT].to_numpy(),
            T.RULE: f"weights of {guideline_id}",
            T.DETAIL: (
                where
                + ": the sheet says ["
                + stale[T.BOARD]
                + "] but the marks give "
                + stale[T.TOTAL_TEXT]
                + " (tabulate --write rewrites it)"
            ).to_numpy(),
        },
        columns=list(T.DISAGREEMENT_COLUMNS),
    )
