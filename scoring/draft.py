"""Draft the next guideline (schema 2.0) from the previous one and the scored worksheet.

Each capability's status follows the process rules (the interop repository's
doc/source/process/2017A.rst), never the score alone:

=====================  =====================  ===============================================
previous status        score                  draft status
=====================  =====================  ===============================================
(not listed)           at/above cutoff        advisory (A4.6: advisory first)
advisory               at/above cutoff        required (its advisory cycle is done)
required               at/above cutoff        required
required or advisory   below cutoff, vetoed   deprecated (A4.5: deprecated before removal)
deprecated             any                    removed (A4.5; a high score is noted, A7.2)
removed                any                    (not listed: the removal is done)
any                    incomplete (``?``)     unchanged (no decision without a full score)
any                    no worksheet line      unchanged
=====================  =====================  ===============================================

A vetoed capability (Non-Admin 0) totals 0, so it is never made required. Weights and cutoff
are copied from the previous guideline (A4.3: frozen once published), achievements and the
``admin`` field are rewritten from the worksheet marks, and flags are dropped unless kept on
request (a guideline proposed for approval carries none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from interop_model.guidelines import STATUSES, Capability, Guideline, TestEntry
from scoring import tables as T
from scoring.assessment import Scored, choose_target
from scoring.engine import GRADUATED_MET
from scoring.errors import DraftError

NEW_STATUS = "new_status"
NOTE = "note"
_STRENGTH = {s.value: i for i, s in enumerate(STATUSES)}


def draft_decisions(scored: Scored, previous: Guideline) -> pd.DataFrame:
    """Per capability: previous status, score, the draft status and the rule behind it."""
    listed = _listed(previous)
    prev = listed.groupby(level=0).min().map({v: k for k, v in _STRENGTH.items()})
    scores = scored.scores
    index = scores.index.union(prev.index, sort=False)
    frame = pd.DataFrame({T.PREVIOUS_STATUS: prev.reindex(index).fillna("")}, index=index)
    frame[T.TOTAL_TEXT] = scores[T.TOTAL_TEXT].reindex(index)
    star = scores[T.STAR].reindex(index).fillna(False).astype(bool)
    incomplete = scores[T.INCOMPLETE].reindex(index).fillna(False).astype(bool)
    scored_line = frame[T.TOTAL_TEXT].notna()
    p = frame[T.PREVIOUS_STATUS]
    cases = [
        (~scored_line & p.eq("removed"), "", "A4.5", "removal done: no longer listed"),
        (~scored_line, p, "", "no worksheet line: status kept"),
        (incomplete & p.eq("removed"), "", "A4.5", "removal done: no longer listed"),
        (incomplete, p, "", "incomplete scoring (?): status kept"),
        (p.eq("removed"), "", "A4.5", "removal done: no longer listed"),
        (
            p.eq("deprecated") & star,
            "removed",
            "A4.5, A7.2",
            "deprecated for a cycle: removed, although it now scores at or above the cutoff",
        ),
        (p.eq("deprecated"), "removed", "A4.5", "deprecated for a cycle: removed"),
        (star & p.isin(["required", "advisory"]), "required", "A4.6", "advisory for a cycle: required"),
        (star, "advisory", "A4.6", "at or above the cutoff: advisory first"),
        (p.isin(["required", "advisory"]), "deprecated", "A4.5", "below the cutoff: deprecated before removal"),
    ]
    conditions = [c.to_numpy(dtype=bool) for c, *_ in cases]

    def column(values: list[Any], default: str) -> np.ndarray:
        choices = [
            v.to_numpy(dtype=object) if isinstance(v, pd.Series) else np.full(len(index), v, dtype=object)
            for v in values
        ]
        return np.select(conditions, choices, default=np.full(len(index), default, dtype=object))

    frame[NEW_STATUS] = column([s for _, s, _, _ in cases], "")
    frame[T.RULE] = column([r for _, _, r, _ in cases], "")
    frame[NOTE] = column([n for _, _, _, n in cases], "below the cutoff: not listed")
    return frame.rename_axis(T.CAPABILITY)


def _listed(guideline: Guideline) -> pd.Series:
    """Capability -> strength of each status it is listed under (one row per listing)."""
    pairs = [
        (name, _STRENGTH[status.value])
        for component in guideline.components.values()
        for status in STATUSES
        for name in component.listed(status)
    ]
    return pd.Series([s for _, s in pairs], index=pd.Index([n for n, _ in pairs], dtype=object), dtype=np.int64)


def draft_guideline(
    scored: Scored,
    previous: Guideline,
    raw: Mapping[str, Any],
    *,
    new_id: str = "next",
    target: str | None = None,
    keep_flags: bool = False,
    decisions: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The schema-2.0 document of the draft guideline.

    :param raw: the previous guideline's decoded JSON, for the parts the model does not keep
        (designated sections, platform descriptions, test repositories).
    :raises DraftError: the previous guideline has no criteria or cutoff to carry over.
    """
    if not previous.criteria or previous.cutoff is None:
        raise DraftError(
            [
                f"{previous.source}: no criteria weights or cutoff to carry over (fix: draft "
                "from a guideline of schema 1.5 or later)"
            ]
        )
    decisions = draft_decisions(scored, previous) if decisions is None else decisions
    target = choose_target(previous, target)
    placed = _components(decisions, previous, target)
    capabilities = {
        name: _capability(
            name,
            scored,
            previous.capabilities.get(name),
            new_id,
            keep_flags,
            decisions.at[name, NEW_STATUS],
            decisions.at[name, T.PREVIOUS_STATUS],
        )
        for name in decisions.index[decisions[NEW_STATUS].ne("")]
    }
    is_2 = previous.schema == "2.0"
    components = {
        name: {
            "capabilities": {s.value: placed.get((name, s.value), []) for s in STATUSES},
            **(
                {"designated_sections": raw["components"][name]["designated_sections"]}
                if is_2 and "designated_sections" in raw["components"].get(name, {})
                else {}
            ),
        }
        for name in previous.components
    }
    programs = "add-ons" if previous.kind == "add-on" else "platforms"
    approval = {
        "target_approval": new_id,
        "replaces": previous.id,
        "releases": list(previous.releases),
        "status": "draft",
    }
    return {
        "metadata": {
            "id": new_id,
            "schema": "2.0",
            "scoring": {
                "cutoff_score": previous.cutoff,
                "criteria": {
                    c.key: {"name": c.name, "description": c.description, "weight": c.weight} for c in previous.criteria
                },
            },
            "os_trademark_approval": approval,
        },
        programs: raw[programs]
        if is_2 and programs in raw
        else {
            p.name: {"description": p.name, "components": [{"name": c} for c in p.components]}
            for p in previous.programs.values()
        },
        "components": components,
        "capabilities": capabilities,
        "designated_sections": raw.get("designated_sections", {}) if is_2 else {},
        "test_repositories": raw.get("test_repositories")
        if is_2
        else {name: {"repository": "", "reference": ref} for name, ref in previous.test_repositories.items()},
    }


def _components(decisions: pd.DataFrame, previous: Guideline, target: str | None) -> dict[tuple[str, str], list[str]]:
    """(component, status) -> capability names: where each was listed, or by name prefix if new."""
    where = {name: comp.name for comp in previous.components.values() for s in STATUSES for name in comp.listed(s)}
    home = list(previous.program(target).components) if target else list(previous.components)
    home = [c for c in home if c in previous.components] or list(previous.components)
    prefix_home = {name.split("-")[0]: comp for name, comp in where.items() if comp in home}
    placed: dict[tuple[str, str], list[str]] = {}
    for name, status in decisions[NEW_STATUS][decisions[NEW_STATUS].ne("")].items():
        component = where.get(name) or prefix_home.get(str(name).split("-")[0]) or home[0]
        placed.setdefault((component, status), []).append(str(name))
    return placed


def _capability(
    name: str, scored: Scored, old: Capability | None, new_id: str, keep_flags: bool, status: str, previous_status: str
) -> dict[str, Any]:
    marks = scored.marks
    if name in marks.index:
        values = pd.to_numeric(marks.loc[name, list(T.CRITERIA)], errors="coerce")
        achieved = values.ge(GRADUATED_MET if scored.worksheet.graduated else 1)
        achievements = [k for k in T.CRITERIA if achieved[k]]
        non_admin = marks.at[name, T.NON_ADMIN]
        admin = (non_admin == "0") if non_admin in ("0", "1") else (old.admin if old else None)
    else:
        achievements = list(old.achievements) if old else []
        admin = old.admin if old else None
    since = old.required_since if old else None
    if status == "required" and previous_status != "required":
        since = new_id
    entry: dict[str, Any] = {
        "achievements": achievements,
        "admin": bool(admin),
        "description": old.description if old else "",
        "project": (old.project if old else None) or "",
        "tests": {},
    }
    if since:
        entry["required_since"] = since
    entry["tests"] = {t.name: _test(t, keep_flags) for t in (old.tests if old else ())}
    return entry


def _test(entry: TestEntry, keep_flags: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if entry.stored_id:
        out["idempotent_id"] = entry.stored_id
    if entry.aliases:
        out["aliases"] = list(entry.aliases)
    if keep_flags and entry.flag is not None:
        out["flagged"] = {"reason": entry.flag.reason, "action": entry.flag.action or "", "date": entry.flag.date or ""}
    return out
