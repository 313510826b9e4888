"""Score against status: where the computed score and the approved status disagree, and why.

A score only *suggests* a status; the status is a governance decision.
The process rules (openstack/interop ``doc/source/process/2017A.rst``), in our words:

- **A4.4** the working group sets the cutoff;
- **A4.5** nothing is removed without first being *deprecated* for a cycle;
- **A4.6** nothing becomes required without first being *advisory* for a cycle;
- **A7.2** the group may override a recommendation if it documents why;
- **Non-Admin veto** (CoreCriteria): an admin-only capability is never required.

:func:`compare_with_status` lists every capability whose status and score disagree and
names the rule that explains (or is broken by) each disagreement. Nothing is overwritten:
the status stays what the guideline says.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scoring import tables as T

# (kind, variant) -> (rule, explanation). {g} is the guideline, {p} the previous one.
EXPLANATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("unscored", ""): (
        "A7.2",
        "listed in {g} but the worksheet has no line for it: a status without a score is an "
        "override to document (the worksheet may spell the capability differently)",
    ),
    ("required-but-vetoed", ""): (
        "Non-Admin veto, A7.2",
        "required in {g} although the worksheet marks it admin-only (Non-Admin 0)",
    ),
    ("required-but-incomplete", ""): (
        "A4.4, A7.2",
        "required in {g} while its scoring is incomplete (? marks): the cutoff cannot be applied",
    ),
    ("required-below-cutoff", "kept"): (
        "A4.5, A7.2",
        "required in {p} too: dropping it needs a deprecated cycle first (A4.5); keeping it "
        "below the cutoff is an override the group documents (A7.2)",
    ),
    ("required-below-cutoff", ""): ("A7.2", "required below the cutoff: an override the group must document"),
    ("at-cutoff-never-required", ""): (
        "A4.4, A4.6",
        "exactly at the cutoff and never required in the previous guidelines: a borderline "
        "candidate for the group's cutoff (A4.4); it would enter as advisory first (A4.6)",
    ),
    ("advisory-above-cutoff", "demoted"): (
        "A4.6, A4.5",
        "advisory in {g} although it scores at or above the cutoff and {p} already requires "
        "it: advisory is the step before required (A4.6), and a required capability leaves only through a "
        "deprecated cycle (A4.5), so {g} looks stale",
    ),
    ("advisory-above-cutoff", "ready"): (
        "A4.6",
        "advisory in {p} and {g}: its advisory cycle is done, it can become required",
    ),
    ("advisory-above-cutoff", ""): ("A4.6", "a capability is advisory for one cycle before it can become required"),
    ("deprecated-above-cutoff", ""): (
        "A4.5, A7.2",
        "deprecated although it scores at or above the cutoff: deprecation is the first step "
        "of removal (A4.5) and an override the group documents (A7.2)",
    ),
    ("removed-above-cutoff", "after-deprecation"): (
        "A4.5, A7.2",
        "removed after a deprecated cycle in {p} although it scores at or above the cutoff: "
        "the group's documented decision, e.g. an API deprecated upstream (A7.2)",
    ),
    ("removed-above-cutoff", ""): (
        "A4.5, A7.2",
        "removed although it scores at or above the cutoff and was not deprecated in {p}: "
        "A4.5 asks for a deprecated cycle first; the group documents why (A7.2), e.g. an API deprecated upstream",
    ),
    ("candidate-not-listed", ""): (
        "A4.6, A7.2",
        "scores at or above the cutoff but {g} does not list it: a candidate enters as "
        "advisory (A4.6), or the group documents why not (A7.2)",
    ),
}


def status_frame(scores: pd.DataFrame, statuses: pd.Series, previous: Sequence[pd.Series]) -> pd.DataFrame:
    """Score and statuses side by side, over every scored or listed capability.

    :param previous: statuses in the previous guidelines, newest first.
    """
    index = scores.index.union(statuses.index, sort=False)
    frame = scores.reindex(index)
    frame[T.STATUS] = statuses.reindex(index).fillna("").astype(object)
    frame[T.PREVIOUS_STATUS] = (
        previous[0].reindex(index).fillna("").astype(object) if previous else pd.Series("", index=index, dtype=object)
    )
    ever = pd.Series(False, index=index)
    for older in previous:
        ever |= older.reindex(index).eq("required")
    frame[T.EVER_REQUIRED] = ever
    return frame.rename_axis(T.CAPABILITY)


def compare_with_status(frame: pd.DataFrame, cutoff: float, *, guideline: str, previous: str | None) -> pd.DataFrame:
    """Every capability whose score and status disagree, with the rule that explains it.

    :param frame: from :func:`status_frame`.
    :returns: the disagreement columns of :mod:`scoring.tables` (criterion ``status``; board =
        status in the guideline; evidence = the computed total), plus the previous status.
    """
    status, prev, total = frame[T.STATUS], frame[T.PREVIOUS_STATUS], frame[T.TOTAL]
    scored = total.notna()
    star = frame[T.STAR].fillna(False).astype(bool) & scored
    vetoed = frame[T.VETOED].fillna(False).astype(bool)
    incomplete = frame[T.INCOMPLETE].fillna(False).astype(bool)
    required = status.eq("required")
    conditions = [
        ~scored & status.isin(["required", "advisory", "deprecated"]),
        required & vetoed,
        required & incomplete,
        required & scored & total.lt(cutoff),
        scored & total.eq(cutoff) & ~required & ~frame[T.EVER_REQUIRED],
        status.eq("advisory") & star,
        status.eq("deprecated") & star,
        status.eq("removed") & star,
        status.eq("") & star,
    ]
    kinds = [
        "unscored",
        "required-but-vetoed",
        "required-but-incomplete",
        "required-below-cutoff",
        "at-cutoff-never-required",
        "advisory-above-cutoff",
        "deprecated-above-cutoff",
        "removed-above-cutoff",
        "candidate-not-listed",
    ]
    kind = pd.Series(np.select(conditions, kinds, default=""), index=frame.index)
    variant = pd.Series(
        np.select(
            [
                kind.eq("required-below-cutoff") & prev.eq("required"),
                kind.eq("advisory-above-cutoff") & prev.eq("required"),
                kind.eq("advisory-above-cutoff") & prev.eq("advisory"),
                kind.eq("removed-above-cutoff") & prev.eq("deprecated"),
            ],
            ["kept", "demoted", "ready", "after-deprecation"],
            default="",
        ),
        index=frame.index,
    )
    keys = kind + "/" + variant
    found = kind.ne("")
    names = {"g": guideline, "p": previous or "the previous guideline"}
    rule_of = {f"{k}/{v}": rule for (k, v), (rule, _) in EXPLANATIONS.items()}
    detail_of = {f"{k}/{v}": text.format(**names) for (k, v), (_, text) in EXPLANATIONS.items()}
    out = pd.DataFrame(
        {
            T.KIND: kind,
            T.CRITERION: "status",
            T.BOARD: status,
            T.EVIDENCE: frame[T.TOTAL_TEXT].fillna("(no score)"),
            T.RULE: keys.map(rule_of),
            T.DETAIL: keys.map(detail_of),
            T.PREVIOUS_STATUS: prev,
        }
    )[found]
    return out.rename_axis(T.CAPABILITY).reset_index()[[*T.DISAGREEMENT_COLUMNS, T.PREVIOUS_STATUS]]
