"""Score against status: the known disagreements of next.json and each rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from interop_model.guidelines import Guideline
from scoring import tables as T
from scoring.assessment import assess
from scoring.worksheet import read_worksheet


@pytest.fixture(scope="module")
def found(materials: Path, load: Callable[[str], Guideline]) -> pd.DataFrame:
    sheet = read_worksheet((materials / "scoring.txt").read_text(encoding="utf-8"), source="scoring.txt")
    result = assess(sheet, load("next.json"), previous=[load("2020.06.json"), load("2019.11.json")])
    status = result.disagreements[result.disagreements[T.CRITERION].eq("status")]
    return status.set_index(T.CAPABILITY)


@pytest.mark.parametrize(
    ("capability", "total"),
    [("compute-images-create", "72"), ("volumes-list-api-versions", "67"), ("volumes-v3-extensions", "69")],
)
def test_required_below_cutoff(found: pd.DataFrame, capability: str, total: str) -> None:
    row = found.loc[capability]
    assert (row[T.KIND], row[T.BOARD], row[T.EVIDENCE], row[T.RULE]) == (
        "required-below-cutoff",
        "required",
        total,
        "A4.5, A7.2",
    )
    assert "required in 2020.06 too" in row[T.DETAIL]


@pytest.mark.parametrize(
    ("capability", "total"),
    [("compute-servers-create-multiple", "85*"), ("volumes-v3-upload", "77*"), ("identity-v3-tokens-delete", "77*")],
)
def test_advisory_above_cutoff_though_already_required(found: pd.DataFrame, capability: str, total: str) -> None:
    row = found.loc[capability]
    assert (row[T.KIND], row[T.BOARD], row[T.EVIDENCE]) == ("advisory-above-cutoff", "advisory", total)
    assert row[T.RULE] == "A4.6, A4.5" and "2020.06 already requires it" in row[T.DETAIL]


def test_removed_although_high(found: pd.DataFrame) -> None:
    removed = found[found[T.KIND].eq("removed-above-cutoff")]
    assert sorted(removed.index) == sorted(
        [
            "volumes-v2-clone",
            "volumes-v2-create-delete",
            "volumes-v2-get",
            "volumes-v2-list",
            "volumes-v2-metadata",
            "volumes-v2-readonly",
            "volumes-v2-snapshot-create-delete",
            "volumes-v2-update",
            "volumes-v3-reserve",
        ]
    )
    assert removed.loc["volumes-v3-reserve", T.EVIDENCE] == "86*"
    assert set(removed[T.RULE]) == {"A4.5, A7.2"}


def test_candidates_listed_nowhere(found: pd.DataFrame) -> None:
    assert found.loc["images-v2-remove", T.KIND] == "candidate-not-listed"
    assert found.loc["images-v2-share", T.EVIDENCE] == "79*"
    assert found.loc["identity-v3-list-groups", T.KIND] == "at-cutoff-never-required"
    assert found.loc["identity-v3-list-groups", T.RULE] == "A4.4, A4.6"


def test_listed_but_unscored(found: pd.DataFrame) -> None:
    unscored = found[found[T.KIND].eq("unscored")]
    assert sorted(unscored.index) == [
        "images-v2-index",
        "networks-l2-CRUD",
        "networks-l3-CRUD",
        "networks-l3-router",
        "networks-security-groups-CRUD",
    ]


def test_agreeing_capabilities_are_not_listed(found: pd.DataFrame) -> None:
    assert "compute-flavors-list" not in found.index  # required, 74: agrees
    assert "network-l3-convert" not in found.index  # not listed, 11: agrees


def test_each_rule_on_a_small_guideline(make_guideline: Callable[..., Guideline]) -> None:
    current = make_guideline(
        {
            "a-req": "required",
            "b-adv": "advisory",
            "c-dep": "deprecated",
            "d-rem": "removed",
            "e-veto": "required",
            "f-inc": "required",
            "g-new": "advisory",
        },
        gid="2030.02",
    )
    before = make_guideline(
        {"a-req": "required", "b-adv": "advisory", "c-dep": "required", "g-new": "required"}, gid="2030.01"
    )
    sheet = read_worksheet(
        "a-req: [0,0,0] [1,1,1] [1,1,1] [0,0,0] [1]\n"  # 61: required below cutoff
        "b-adv: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # 100: advisory, its cycle done
        "c-dep: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # 100: deprecated although high
        "d-rem: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # removed although high
        "e-veto: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [0]\n"  # required but vetoed
        "f-inc: [1,1,1] [1,?,1] [1,1,1] [1,1,1] [1]\n"  # required but incomplete
        "g-new: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # advisory, previously required
        "h-cand: [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1]\n",  # 74: at cutoff, never required
        source="w.txt",
    )
    result = assess(sheet, current, previous=[before])
    kinds = result.disagreements[result.disagreements[T.CRITERION].eq("status")].set_index(T.CAPABILITY)
    assert kinds[T.KIND].to_dict() == {
        "a-req": "required-below-cutoff",
        "b-adv": "advisory-above-cutoff",
        "c-dep": "deprecated-above-cutoff",
        "d-rem": "removed-above-cutoff",
        "e-veto": "required-but-vetoed",
        "f-inc": "required-but-incomplete",
        "g-new": "advisory-above-cutoff",
        "h-cand": "at-cutoff-never-required",
    }
    assert kinds.loc["b-adv", T.DETAIL].startswith("advisory in 2030.01 and 2030.02: its advisory cycle is done")
    assert kinds.loc["e-veto", T.RULE] == "Non-Admin veto, A7.2"
    assert kinds.loc["d-rem", T.DETAIL].startswith(
        "removed although it scores at or above the cutoff and was not deprecated in 2030.01"
    )
