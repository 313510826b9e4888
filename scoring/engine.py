"""Score capabilities: marks and the guideline's weights in, totals and stars out.

The formula (the interop repository's working_materials/scoring.txt explains it), with
weights and cutoff always taken from the guideline::

    total = sum(weight[k] * mark[k] for each weighted criterion k) / scale
    total = -total   when any weighted mark or the Non-Admin mark is "?" (incomplete)
    total = 0        when Non-Admin is "0" (admin-only APIs are vetoed)
    star  = total >= cutoff

``scale`` is 1 for the usual 0/1 marks. **Graduated marks** (``--graduated``) run from 0 to 5
instead, and count ``weight * mark / 5``: a 5 earns the full weight, a 3 earns three fifths.
A graduated sheet is always shown side by side with its binary reading, in which a mark of 3
or more (:data:`GRADUATED_MET`) counts as 1 and anything lower as 0.

A ``*`` mark means the program does not consider the criterion (add-on sheets); it must sit
exactly where the guideline has no weight, or :class:`MissingWeights` names the line.
"""

from __future__ import annotations

import pandas as pd

from scoring import tables as T
from scoring.errors import MissingWeights

GRADUATED_MET = 3  # the lowest graduated mark that counts as 1 in the binary reading


def check_weights(
    marks: pd.DataFrame, weights: pd.Series, cutoff: float | None, *, worksheet: str, guideline: str
) -> None:
    """Raise :class:`MissingWeights` for every mark the guideline cannot weigh.

    That is: a 0/1/? mark on a criterion without a weight, a ``*`` on a criterion that has
    one, a guideline without criteria or without a cutoff.
    """
    problems: list[str] = []
    if weights.isna().all():
        problems.append(
            f"{guideline}: the guideline has no criteria weights (fix: use a guideline of "
            "schema 1.5 or later, whose criteria block gives each weight)"
        )
    if cutoff is None:
        problems.append(
            f"{guideline}: the guideline has no cutoff_score (fix: use a guideline that sets "
            "one, e.g. next.json, or add metadata.scoring.cutoff_score)"
        )
    if not problems:
        crit = marks[list(T.CRITERIA)]
        unweighted = crit.eq("*").ne(weights.isna(), axis=1).stack()
        for name, key in unweighted[unweighted].index:
            line = f"{worksheet}:{marks.at[name, T.LINE]}: {name}" if T.LINE in marks else f"{worksheet}: {name}"
            label = T.DISPLAY_NAMES[key]
            if pd.isna(weights[key]):
                problems.append(
                    f"{line}: {label} is marked {crit.at[name, key]} but {guideline} gives "
                    f"{key!r} no weight (fix: mark it * as not considered, or use a guideline "
                    "that weighs it)"
                )
            else:
                problems.append(
                    f"{line}: {label} is marked * (not considered) but {guideline} weighs "
                    f"{key!r} {weights[key]:g} (fix: score it 0, 1 or ?)"
                )
    if problems:
        raise MissingWeights(problems)


def score(marks: pd.DataFrame, weights: pd.Series, cutoff: float, *, scale: int = 1) -> pd.DataFrame:
    """Totals, stars, veto and incompleteness for each capability of a marks frame.

    :param weights: criterion key -> weight, NaN for a criterion not considered.
    :param scale: 1 for 0/1 marks, 5 for graduated marks; a graduated frame also gets the
        binary reading (``binary_total``, ``binary_star``, ``binary_text``).
    """
    crit = marks[list(T.CRITERIA)]
    known = crit.apply(pd.to_numeric, errors="coerce")
    incomplete = crit.eq("?").any(axis=1) | marks[T.NON_ADMIN].eq("?")
    vetoed = marks[T.NON_ADMIN].eq("0")
    result = pd.DataFrame({T.VETOED: vetoed, T.INCOMPLETE: incomplete & ~vetoed}, index=marks.index)
    total = _total(known, weights, scale, incomplete, vetoed)
    result[T.TOTAL] = total
    result[T.STAR] = total.ge(cutoff)
    result[T.TOTAL_TEXT] = format_totals(total, result[T.STAR])
    if scale != 1:
        binary = known.ge(GRADUATED_MET).astype(float).where(known.notna())
        btotal = _total(binary, weights, 1, incomplete, vetoed)
        result[T.BINARY_TOTAL] = btotal
        result[T.BINARY_STAR] = btotal.ge(cutoff)
        result[T.BINARY_TEXT] = format_totals(btotal, result[T.BINARY_STAR])
    return result


def _total(known: pd.DataFrame, weights: pd.Series, scale: int, incomplete: pd.Series, vetoed: pd.Series) -> pd.Series:
    raw = known.fillna(0).mul(weights.fillna(0), axis=1).sum(axis=1).div(scale).round(6)
    return raw.where(~incomplete, -raw).where(~vetoed, 0.0).add(0.0)  # add(0.0): no "-0"


def format_totals(total: pd.Series, star: pd.Series | None = None) -> pd.Series:
    """Totals as the worksheet writes them: ``74``, ``5.4``, ``-30``, with ``*`` where starred."""
    text = total.round(2).add(0.0).astype(str).str.replace(r"\.0$", "", regex=True)  # add: no "-0"
    if star is None:
        return text
    return text + star.map({True: "*", False: ""}).astype(str)


def stale_totals(marks: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Lines whose hand-written total or star disagrees with the computed one.

    Columns: line, written (as on the sheet, with its star), computed (with star).
    """
    written = marks[T.WRITTEN_TOTAL]
    has = written.notna()
    value = pd.to_numeric(written, errors="coerce")
    differs = has & (value.sub(scores[T.TOTAL]).abs().gt(1e-6) | marks[T.WRITTEN_STAR].ne(scores[T.STAR]))
    shown = written.astype(str) + marks[T.WRITTEN_STAR].map({True: "*", False: ""}).astype(str)
    return pd.DataFrame({T.LINE: marks[T.LINE], T.BOARD: shown, T.TOTAL_TEXT: scores[T.TOTAL_TEXT]})[differs]
