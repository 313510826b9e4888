"""Drafting the next guideline by the process rules; the draft loads through the model's loader."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from interop_model.guideline_loader import guideline_from_dict, load_guideline_text
from interop_model.guidelines import Guideline, Status
from scoring import api
from scoring.draft import NEW_STATUS, NOTE
from scoring.worksheet import read_worksheet

from .conftest import guideline_document

SHEET = (
    "new-high:   [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # not listed, 100 -> advisory
    "adv-high:   [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # advisory, 100 -> required
    "req-high:   [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # required, 100 -> required
    "req-low:    [0,0,0] [1,1,1] [1,1,1] [0,0,0] [1]\n"  # required, 61 -> deprecated
    "adv-veto:   [1,1,1] [1,1,1] [1,1,1] [1,1,1] [0]\n"  # advisory, vetoed -> deprecated, never required
    "dep-high:   [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # deprecated -> removed (noted)
    "rem-high:   [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"  # removed -> no longer listed
    "req-inc:    [?,0,0] [0,0,0] [0,0,0] [0,0,0] [1]\n"  # required, incomplete -> kept
    "new-low:    [0,0,0] [0,0,0] [0,0,0] [0,0,1] [1]\n"  # not listed, 8 -> not listed
)
PREVIOUS = {
    "adv-high": "advisory",
    "req-high": "required",
    "req-low": "required",
    "adv-veto": "advisory",
    "dep-high": "deprecated",
    "rem-high": "removed",
    "req-inc": "required",
    "kept-unscored": "required",
}


def drafted() -> dict[str, object]:
    document = guideline_document(PREVIOUS, gid="2030.01")
    previous = guideline_from_dict(document, source="2030.01.json")
    return api.draft(SHEET, previous, document, new_id="2030.07", source="w.txt")


def test_statuses_follow_the_process_rules() -> None:
    result = drafted()
    decisions = {r["capability"]: (r[NEW_STATUS], r["rule"]) for r in result["decisions"]}  # type: ignore[union-attr]
    assert decisions == {
        "new-high": ("advisory", "A4.6"),
        "adv-high": ("required", "A4.6"),
        "req-high": ("required", "A4.6"),
        "req-low": ("deprecated", "A4.5"),
        "adv-veto": ("deprecated", "A4.5"),
        "dep-high": ("removed", "A4.5, A7.2"),
        "rem-high": ("", "A4.5"),
        "req-inc": ("required", ""),
        "new-low": ("", ""),
        "kept-unscored": ("required", ""),
    }
    notes = {r["capability"]: r[NOTE] for r in result["decisions"]}  # type: ignore[union-attr]
    assert notes["req-inc"] == "incomplete scoring (?): status kept"
    assert notes["new-low"] == "below the cutoff: not listed"


def test_the_draft_loads_cleanly_through_the_loader() -> None:
    document = json.loads(json.dumps(drafted()["guideline"]))
    guideline = guideline_from_dict(document, source="2030.07.json")
    assert (guideline.id, guideline.schema, guideline.status, guideline.cutoff) == ("2030.07", "2.0", "draft", 74)
    assert guideline.replaces == "2030.01"
    statuses = guideline.target_statuses("platform")
    assert statuses == {
        "req-high": Status.REQUIRED,
        "req-inc": Status.REQUIRED,
        "kept-unscored": Status.REQUIRED,
        "adv-high": Status.REQUIRED,
        "new-high": Status.ADVISORY,
        "req-low": Status.DEPRECATED,
        "adv-veto": Status.DEPRECATED,
        "dep-high": Status.REMOVED,
    }
    assert guideline.capabilities["adv-veto"].admin is True  # the veto becomes admin: true
    assert guideline.capabilities["adv-high"].required_since == "2030.07"
    assert guideline.capabilities["req-low"].achievements == (
        "future",
        "complete",
        "stable",
        "discover",
        "doc",
        "sticky",
    )
    assert guideline.capabilities["new-high"].tests == ()  # new: no tests yet
    assert guideline.weights == guideline_from_dict(guideline_document(PREVIOUS), source="p.json").weights
    assert [w.code for w in guideline.warnings] == []


def test_drafting_from_2020_06_with_the_real_worksheet(
    interop_dir: Path, materials: Path, load: Callable[[str], Guideline]
) -> None:
    raw = json.loads((interop_dir / "2020.06.json").read_text(encoding="utf-8"))
    result = api.draft((materials / "scoring.txt").read_text(encoding="utf-8"), load("2020.06.json"), raw)
    decisions = {r["capability"]: r for r in result["decisions"]}  # type: ignore[union-attr]
    assert decisions["compute-images-create"][NEW_STATUS] == "deprecated"  # 72 < 74, required before
    assert decisions["identity-v3-list-groups"][NEW_STATUS] == "advisory"  # 74, never listed
    assert decisions["compute-servers-create-multiple"][NEW_STATUS] == "required"
    assert decisions["networks-l3-CRUD"][NEW_STATUS] == "required"  # no worksheet line: kept
    assert decisions["network-extensions-provider-add"][NEW_STATUS] == ""  # vetoed: never listed
    text = json.dumps(result["guideline"])
    guideline = load_guideline_text(text, source="next.json")
    assert guideline.test_repositories == {"tempest": "d43223773d75d2e82fb33a1281038e611c41d0f3"}
    unlisted = load("2020.06.json").capabilities["images-v2-import"]  # defined, listed nowhere: not carried
    assert "images-v2-import" not in guideline.capabilities
    assert sum(len(c.tests) for c in guideline.capabilities.values()) == 289 - len(unlisted.tests)
    assert not any(t.flagged for c in guideline.capabilities.values() for t in c.tests)  # flags dropped
    codes = {w.code for w in guideline.warnings}
    assert "undefined-capability" not in codes and "unknown-achievement" not in codes
    assert guideline.capabilities["objectstore-slo-support"].achievements  # misspelt key rewritten
    doc = result["guideline"]
    assert (
        "images-v2-remove" in doc["components"]["os_powered_storage"]["capabilities"]["advisory"]
        or "images-v2-remove" in doc["components"]["os_powered_compute"]["capabilities"]["advisory"]
    )  # type: ignore[index]


def test_a_sheet_scored_graduated_drafts_achievements_from_marks_of_three_or_more() -> None:
    document = guideline_document({"g-x": "advisory"})
    previous = guideline_from_dict(document, source="2030.01.json")
    result = api.draft("g-x: [5,5,5] [5,5,5] [5,5,5] [3,2,1] [1]\n", previous, document, graduated=True)
    capability = result["guideline"]["capabilities"]["g-x"]  # type: ignore[index]
    assert "foundation" in capability["achievements"] and "atomic" not in capability["achievements"]
    assert read_worksheet("g-x: [5,5,5] [5,5,5] [5,5,5] [3,2,1] [1]\n", source="g", graduated=True).scale == 5
