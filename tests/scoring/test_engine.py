"""The scoring formula: weights from the guideline, veto, incomplete marks, graduated marks."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from interop_model.guidelines import Guideline
from scoring import tables as T
from scoring.assessment import score_with_guideline
from scoring.engine import format_totals, score
from scoring.errors import MissingWeights, UnknownCriterion
from scoring.worksheet import read_worksheet

from .conftest import CORE_WEIGHTS

WEIGHTS = pd.Series(CORE_WEIGHTS, dtype=float)
LINES = """\
network-floating-ips-create: [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1] [74]*
compute-images-create:       [0,1,1] [0,1,1] [1,1,1] [0,1,1] [1] [72]
vetoed-one:                  [1,1,1] [1,1,1] [1,1,0] [1,1,1] [0] [0]
incomplete-one:              [1,?,1] [1,1,1] [0,1,0] [0,1,1] [1]
admin-unknown:               [1,1,1] [1,1,1] [0,1,0] [0,1,1] [?]
"""


def scored_lines(
    text: str = LINES, weights: pd.Series = WEIGHTS, cutoff: float = 74, graduated: bool = False
) -> pd.DataFrame:
    sheet = read_worksheet(text, source="t.txt", graduated=graduated)
    return score(T.marks_frame(sheet), weights, cutoff, scale=sheet.scale)


def test_worked_example_and_known_totals() -> None:
    scores = scored_lines()
    assert scores.loc["network-floating-ips-create", T.TOTAL_TEXT] == "74*"
    assert scores.loc["network-floating-ips-create", T.TOTAL] == 8 + 6 + 10 + 11 + 8 + 9 + 0 + 8 + 0 + 0 + 6 + 8
    assert scores.loc["compute-images-create", T.TOTAL_TEXT] == "72"
    assert not scores.loc["compute-images-create", T.STAR]


def test_non_admin_zero_vetoes_to_zero() -> None:
    row = scored_lines().loc["vetoed-one"]
    assert (row[T.TOTAL], row[T.TOTAL_TEXT], row[T.VETOED], row[T.STAR]) == (0, "0", True, False)


def test_question_marks_make_the_total_negative_even_in_non_admin() -> None:
    scores = scored_lines()
    assert scores.loc["incomplete-one", T.TOTAL_TEXT] == "-68"  # 74 minus the 6 of Used by Tools
    assert scores.loc["admin-unknown", T.TOTAL_TEXT] == "-74"  # upstream crashed on int("?")
    assert scores.loc[["incomplete-one", "admin-unknown"], T.INCOMPLETE].all()
    assert not scores.loc[["incomplete-one", "admin-unknown"], T.STAR].any()


def test_weights_and_cutoff_come_from_the_caller_not_constants() -> None:
    heavier = WEIGHTS.copy()
    heavier["deployed"] = 20
    scores = scored_lines(weights=heavier, cutoff=90)
    assert scores.loc["network-floating-ips-create", T.TOTAL_TEXT] == "86"
    assert scores.loc["compute-images-create", T.TOTAL_TEXT] == "72"


def test_graduated_marks_count_weight_times_mark_over_five_beside_a_binary_reading() -> None:
    text = "g-one: [5,5,5] [5,5,5] [5,5,5] [5,5,5] [1]\ng-two: [3,0,5] [2,4,1] [0,0,0] [0,0,0] [1]\n"
    scores = scored_lines(text, graduated=True)
    assert scores.loc["g-one", T.TOTAL_TEXT] == "100*"
    # 8*3/5 + 10*5/5 + 11*2/5 + 8*4/5 + 9*1/5 = 4.8 + 10 + 4.4 + 6.4 + 1.8
    assert scores.loc["g-two", T.TOTAL] == pytest.approx(27.4)
    assert scores.loc["g-two", T.TOTAL_TEXT] == "27.4"
    assert scores.loc["g-two", T.BINARY_TEXT] == "26"  # marks >= 3 count: deployed 8, clients 10, complete 8


def test_format_totals() -> None:
    totals = pd.Series([74.0, -30.0, 5.4, 0.0, -0.0])
    star = pd.Series([True, False, False, False, False])
    assert format_totals(totals, star).tolist() == ["74*", "-30", "5.4", "0", "0"]
    assert format_totals(totals.add(0.0)).tolist()[:3] == ["74", "-30", "5.4"]


def test_addon_marks_give_66_with_addon_weights(make_guideline: Callable[..., Guideline]) -> None:
    addon = {k: v for k, v in CORE_WEIGHTS.items() if k not in ("deployed", "foundation", "proximity")}
    guideline = make_guideline({"dns-zone-crud": "required"}, weights=addon, cutoff=60)
    sheet = read_worksheet("dns-zone-crud:   [*,1,1][1,1,1][1,1,0][*,1,*][1] [64]\n", source="dns.txt")
    scored = score_with_guideline(sheet, guideline)
    assert scored.scores.loc["dns-zone-crud", T.TOTAL_TEXT] == "66*"
    assert scored.stale.loc["dns-zone-crud", T.BOARD] == "64"


def test_star_on_a_weighted_criterion_and_a_mark_on_an_unweighted_one_are_refused(
    make_guideline: Callable[..., Guideline],
) -> None:
    addon = {k: v for k, v in CORE_WEIGHTS.items() if k not in ("deployed", "foundation", "proximity")}
    guideline = make_guideline({"x-y": "required"}, weights=addon, cutoff=60)
    sheet = read_worksheet("x-y: [1,1,1][1,*,1][1,1,0][*,1,*][1]\n", source="dns.txt")
    with pytest.raises(MissingWeights) as caught:
        score_with_guideline(sheet, guideline)
    problems = caught.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("dns.txt:1: x-y: Widely Deployed is marked 1 but 2030.01.json gives 'deployed'")
    assert "Complete is marked * (not considered) but 2030.01.json weighs 'complete' 8" in problems[1]


def test_a_guideline_without_weights_or_cutoff_is_refused(make_guideline: Callable[..., Guideline]) -> None:
    guideline = make_guideline({"x-y": "required"}, weights={})
    sheet = read_worksheet("x-y: [1,1,1] [1,1,1] [1,1,0] [0,1,1] [1]\n", source="w.txt")
    with pytest.raises(MissingWeights, match="has no criteria weights"):
        score_with_guideline(sheet, guideline)


def test_unknown_criterion_in_the_guideline_is_named(make_guideline: Callable[..., Guideline]) -> None:
    guideline = make_guideline({"x-y": "required"}, weights={**CORE_WEIGHTS, "shiny": 5})
    sheet = read_worksheet("x-y: [1,1,1] [1,1,1] [1,1,0] [0,1,1] [1]\n", source="w.txt")
    with pytest.raises(UnknownCriterion, match="criterion 'shiny' is not one of the twelve"):
        score_with_guideline(sheet, guideline)
