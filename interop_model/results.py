"""Test outcomes and runs: what a Tempest run produced, independent of any wire format."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

# RefStack's rule: drop everything from the first "[" to the last "]" (greedy), which
# keeps a "(scenario)" suffix (refstack-client's subunit parser did the same).
_ATTRS = re.compile(r"\[.*\]")


class Outcome(StrEnum):
    """A test's outcome, as subunit reports it."""

    SUCCESS = "success"
    FAIL = "fail"
    SKIP = "skip"
    XFAIL = "xfail"  # expected failure: counts as passed by Tempest, not by RefStack
    UXSUCCESS = "uxsuccess"  # unexpected success: a failure


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseResult:
    """One test's result."""

    test_id: str  # name without the [...] attributes
    idempotent_id: UUID | None = None
    outcome: Outcome = Outcome.SUCCESS
    duration: float | None = None  # seconds
    reason: str | None = None  # failure traceback or skip reason
    attrs: tuple[str, ...] = ()  # the [...] attributes other than the id (smoke, negative, ...)

    @property
    def passed(self) -> bool:
        """True for a success, the only outcome the v1 document carries."""
        return self.outcome is Outcome.SUCCESS


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where a run came from: the tools and the selection behind it."""

    tempest_version: str | None = None
    plugins: tuple[tuple[str, str], ...] = ()  # (distribution name, version)
    tcup_version: str | None = None
    guideline: str | None = None
    target: str | None = None
    auth_url_fingerprint: str | None = None  # stable cloud fingerprint (auth URL + region)
    region: str | None = None
    started_at: str | None = None  # ISO 8601, UTC
    environments: tuple[str, ...] = ()  # test environments named with ``tcup run --environment``


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSelection:
    """What a run chose to test: a guideline's target, and which of its capabilities."""

    guideline: str
    target: str
    capability_globs: tuple[str, ...] = ()  # as the user gave them; () selected every capability
    capabilities: tuple[str, ...] = ()  # the capabilities whose tests ran
    statuses: tuple[str, ...] = ("required",)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """One test run against one cloud."""

    cpid: str
    duration_seconds: int
    results: tuple[CaseResult, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)
    selection: RunSelection | None = None

    def passed_names(self) -> set[str]:
        """Names of the passed tests."""
        return {r.test_id for r in self.results if r.passed}

    def passed_ids(self) -> set[UUID]:
        """Idempotent ids of the passed tests."""
        return {r.idempotent_id for r in self.results if r.passed and r.idempotent_id is not None}

    def counts(self) -> dict[str, int]:
        """Outcome value -> number of tests."""
        counts = {o.value: 0 for o in Outcome}
        for r in self.results:
            counts[r.outcome.value] += 1
        return counts


def parse_test_id(test_id: str) -> tuple[str, UUID | None, tuple[str, ...]]:
    """Split a Tempest test id into (name, idempotent id, other attributes).

    ``name`` follows RefStack's greedy rule; the idempotent id is the first attribute
    starting with ``id-``. A malformed id is treated as absent.
    """
    name = _ATTRS.sub("", test_id)
    start, end = test_id.find("["), test_id.rfind("]")
    if start < 0 or end < start:
        return name, None, ()
    idempotent_id: UUID | None = None
    attrs: list[str] = []
    for attr in test_id[start + 1 : end].split(","):
        attr = attr.strip()
        if idempotent_id is None and attr.startswith("id-"):
            try:
                idempotent_id = UUID(attr[3:])
                continue
            except ValueError:
                pass
        if attr:
            attrs.append(attr)
    return name, idempotent_id, tuple(attrs)
