"""Guideline test entries -> local Tempest test ids -> an include list for stestr.

Each entry is matched by idempotent id first, then by name, then by alias, as the
guidelines' schema 2.0 defines them. Nothing is dropped silently: every entry comes back *matched* (and how) or
*missing* (and why), so a report can say which required tests could not run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from interop_model.guidelines import Guideline, Status, TestEntry
from interop_model.results import parse_test_id
from tcup.test_index import TestIndex


class Match(StrEnum):
    """How a guideline entry was found among the local tests."""

    ID = "id"  # same idempotent id and same name
    RENAMED = "renamed"  # same idempotent id, another name (Tempest renamed the test)
    NAME = "name"  # same name; the guideline gives no id, or Tempest has another one
    ALIAS = "alias"  # one of the entry's aliases
    MISSING = "missing"


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """One guideline entry and the local test that will run it."""

    capability: str
    status: Status | None
    entry: TestEntry
    how: Match
    local_id: str | None  # full local test id, with its [attributes]
    note: str = ""

    def as_dict(self, *, with_status: bool = False) -> dict[str, str | None]:
        """The entry and its match as JSON fields (capability, [status,] name, idempotent_id,
        match, local_id, note), as compliance.json and ``list-tests --format json`` write them."""
        found: dict[str, str | None] = {"capability": self.capability}
        if with_status:
            found["status"] = self.status.value if self.status else None
        return {
            **found,
            "name": self.entry.name,
            "idempotent_id": str(self.entry.uuid) if self.entry.uuid else None,
            "match": self.how.value,
            "local_id": self.local_id,
            "note": self.note,
        }

    @property
    def local_name(self) -> str | None:
        """The local test name without attributes."""
        return parse_test_id(self.local_id)[0] if self.local_id else None


@dataclass(frozen=True, slots=True)
class Resolution:
    """Every entry of a selection, resolved against one Tempest install."""

    tempest_version: str
    items: tuple[Resolved, ...]

    def missing(self) -> list[Resolved]:
        """Entries with no local test."""
        return [r for r in self.items if r.how is Match.MISSING]

    def local_ids(self) -> list[str]:
        """Distinct local test ids to run, sorted."""
        return sorted({r.local_id for r in self.items if r.local_id})

    def include_patterns(self) -> list[str]:
        """Anchored, escaped regexes for ``stestr run --include-list``: one per local test."""
        names = sorted({r.local_name for r in self.items if r.local_name})
        return [f"^{re.escape(name)}(?:\\[|$)" for name in names]

    def counts(self) -> dict[str, int]:
        """Match kind -> number of entries."""
        counts = {m.value: 0 for m in Match}
        for r in self.items:
            counts[r.how.value] += 1
        return counts


def select_entries(
    guideline: Guideline,
    target: str,
    *,
    statuses: Iterable[Status] | None = None,
    capabilities: Iterable[str] | None = None,
    flagged: bool = True,
) -> list[tuple[str, Status | None, TestEntry]]:
    """(capability, status, entry) triples of a target, optionally narrowed to named capabilities."""
    by_status = guideline.target_statuses(target)
    wanted = set(capabilities) if capabilities is not None else None
    triples = []
    for cap_name, entry in guideline.entries_for(target, statuses):
        if wanted is not None and cap_name not in wanted:
            continue
        if entry.flagged and not flagged:
            continue
        triples.append((cap_name, by_status.get(cap_name), entry))
    return triples


def resolve_entries(entries: Iterable[tuple[str, Status | None, TestEntry]], index: TestIndex) -> Resolution:
    """Match each entry against ``index``: idempotent id first, then name, then alias."""
    items = [_resolve_one(cap, status, entry, index) for cap, status, entry in entries]
    return Resolution(index.install.version, tuple(items))


def _resolve_one(cap: str, status: Status | None, entry: TestEntry, index: TestIndex) -> Resolved:
    def made(how: Match, local_id: str | None, note: str = "") -> Resolved:
        return Resolved(capability=cap, status=status, entry=entry, how=how, local_id=local_id, note=note)

    candidates = index.by_uuid.get(entry.uuid, []) if entry.uuid is not None else []
    if candidates:
        local_names = {parse_test_id(c)[0]: c for c in candidates}
        if entry.name in local_names:
            return made(Match.ID, local_names[entry.name])
        for alias in entry.aliases:
            if alias in local_names:
                return made(Match.ALIAS, local_names[alias], f"known alias {alias}")
        first = sorted(local_names)[0]
        return made(Match.RENAMED, local_names[first], f"renamed in Tempest {index.install.version}: now {first}")
    local = index.by_name.get(entry.name)
    if local is not None:
        note = ""
        if entry.uuid is not None:
            note = f"idempotent id {entry.uuid} not found; matched by name"
        return made(Match.NAME, local, note)
    for alias in entry.aliases:
        local = index.by_name.get(alias)
        if local is not None:
            return made(Match.ALIAS, local, f"matched by alias {alias}")
    return made(Match.MISSING, None, _missing_reason(entry, index))


def _missing_reason(entry: TestEntry, index: TestIndex) -> str:
    package = entry.name.split(".", 1)[0]
    has_package = any(name.startswith(package + ".") for name in _sample_names(index))
    version = index.install.version
    if not has_package:
        return (
            f"no installed test package provides {package!r} (Tempest {version}"
            f"{', plugins: ' + ', '.join(n for n, _ in index.install.plugins) if index.install.plugins else ''});"
            " install the plugin the guideline's test_repositories name"
        )
    ident = f"idempotent id {entry.uuid}" if entry.uuid else "no idempotent id in the guideline"
    return f"not in Tempest {version}: no test has this name, an alias, or {ident}"


def _sample_names(index: TestIndex) -> Iterable[str]:
    return index.by_name.keys()
