"""The guideline model: capabilities, their tests, programs (targets), criteria and cutoff.

Every schema family (1.0, 1.2 to 1.6 and 2.0) maps onto these frozen dataclasses; the
loader in :mod:`interop_model.guideline_loader` builds them from the JSON files.
The model keeps what RefStack-compatible behaviour needs verbatim (the idempotent id
*as stored*, the ``flagged`` key *as spelt*) next to our normalised view (a real UUID).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from interop_model.errors import UnknownTarget


class Status(StrEnum):
    """A capability's status inside a component, strongest first."""

    REQUIRED = "required"
    ADVISORY = "advisory"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


STATUSES: tuple[Status, ...] = (Status.REQUIRED, Status.ADVISORY, Status.DEPRECATED, Status.REMOVED)

# The twelve DefCore criteria in worksheet order: usage, direction, community, system.
CRITERIA_ORDER: tuple[str, ...] = (
    "deployed",
    "tools",
    "clients",
    "future",
    "complete",
    "stable",
    "discover",
    "doc",
    "sticky",
    "foundation",
    "atomic",
    "proximity",
)

# Target codes RefStack knows, and the 2.0 platform names they stand for.
PLATFORM_TARGETS: Mapping[str, str] = {
    "platform": "OpenStack Powered Platform",
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A flagged test: optional for the guideline that flags it (codes D400 to D406)."""

    reason: str
    code: str | None = None  # "D400" .. "D406"; None when the reason carries no code
    action: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TestEntry:
    """One test of a capability, as the guideline lists it."""

    __test__ = False  # not a pytest class

    name: str
    stored_id: str | None = None  # the idempotent id exactly as stored ("id-<uuid>", "<uuid>,smoke", "")
    uuid: UUID | None = None  # the normalised idempotent id
    aliases: tuple[str, ...] = ()
    flag: Flag | None = None

    @property
    def flagged(self) -> bool:
        """True when the guideline makes this test optional."""
        return self.flag is not None

    def names(self) -> tuple[str, ...]:
        """The name followed by every alias."""
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capability:
    """A named group of tests that scores as one unit."""

    name: str
    tests: tuple[TestEntry, ...] = ()
    description: str = ""
    project: str | None = None
    admin: bool | None = None
    achievements: tuple[str, ...] = ()
    required_since: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Criterion:
    """A scoring criterion with its weight."""

    key: str
    name: str
    weight: int
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """A component: lists of capability names by status."""

    name: str
    capabilities: Mapping[Status, tuple[str, ...]] = field(default_factory=dict)

    def listed(self, status: Status) -> tuple[str, ...]:
        """Capability names under ``status``."""
        return self.capabilities.get(status, ())


@dataclass(frozen=True, slots=True, kw_only=True)
class Program:
    """A target program (``platform``, ``compute``, ``object``, ``dns``, ...)."""

    target: str
    name: str
    components: tuple[str, ...]
    add_on: bool = False
    # Components of other guidelines an add-on needs as well (reported, never enforced).
    prerequisites: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GuidelineWarning:
    """A data-quality problem that does not stop the guideline from loading."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Guideline:
    """One interop guideline, whatever its schema."""

    id: str
    schema: str
    source: str
    status: str | None = None
    kind: str = "core"  # "core", "add-on" or "legacy"
    cutoff: int | None = None
    criteria: tuple[Criterion, ...] = ()
    capabilities: Mapping[str, Capability] = field(default_factory=dict)
    components: Mapping[str, Component] = field(default_factory=dict)
    programs: Mapping[str, Program] = field(default_factory=dict)
    replaces: str | None = None
    target_approval: str | None = None
    releases: tuple[str, ...] = ()
    test_repositories: Mapping[str, str] = field(default_factory=dict)  # name -> reference
    warnings: tuple[GuidelineWarning, ...] = ()

    @property
    def targets(self) -> tuple[str, ...]:
        """The target codes this guideline defines."""
        return tuple(self.programs)

    @property
    def weights(self) -> dict[str, int]:
        """Criterion key -> weight, in worksheet order where known."""
        return {c.key: c.weight for c in self.criteria}

    def program(self, target: str) -> Program:
        """The program for ``target``, or :class:`UnknownTarget`."""
        try:
            return self.programs[target]
        except KeyError:
            raise UnknownTarget(self.id, target, list(self.programs)) from None

    def target_statuses(self, target: str) -> dict[str, Status]:
        """Capability name -> its status for ``target`` (the rule RefStack's web UI applied).

        Where several components list a capability it keeps its strongest status; a 1.x
        file read for a target other than ``platform`` takes its component's lists in
        order, so a later list overwrites an earlier one.
        """
        program = self.program(target)
        statuses: dict[str, Status] = {}
        overwrite = self.schema.startswith("1.") and target != "platform"
        for component in self._components_of(program):
            for status in STATUSES:
                for name in component.listed(status):
                    current = statuses.get(name)
                    if overwrite or current is None or STATUSES.index(status) < STATUSES.index(current):
                        statuses[name] = status
        return statuses

    def target_capabilities(self, target: str, statuses: Iterable[Status] | None = None) -> list[str]:
        """Names of the capabilities listed for ``target`` under any of ``statuses``.

        This is the union the plain-text test list draws from: a name listed under two
        chosen statuses or components counts once. ``None`` means every status.
        """
        wanted = set(STATUSES if statuses is None else statuses)
        names: dict[str, None] = {}
        for component in self._components_of(self.program(target)):
            for status in STATUSES:
                if status in wanted:
                    names.update(dict.fromkeys(component.listed(status)))
        return list(names)

    def _components_of(self, program: Program) -> list[Component]:
        return [self.components[name] for name in program.components if name in self.components]

    def test_list(
        self,
        target: str,
        *,
        statuses: Iterable[Status] | None = None,
        alias: bool = True,
        flagged: bool = True,
    ) -> list[str]:
        """The lines of RefStack's ``/v1/guidelines/<ver>/tests`` text list.

        Sorted, not deduplicated; ``name[<id as stored>]``, or the bare name for schema 1.2.
        """
        bare = self.schema == "1.2"
        lines: list[str] = []
        for cap_name in self.target_capabilities(target, statuses):
            capability = self.capabilities.get(cap_name)
            if capability is None:
                continue  # listed but undefined: contributes nothing, as in RefStack
            for entry in capability.tests:
                if entry.flagged and not flagged:
                    continue
                names = entry.names() if alias and not bare else (entry.name,)
                for name in names:
                    lines.append(name if bare else f"{name}[{entry.stored_id or ''}]")
        lines.sort()
        return lines

    def entries_for(self, target: str, statuses: Iterable[Status] | None = None) -> list[tuple[str, TestEntry]]:
        """(capability name, test entry) pairs of the target's capabilities under ``statuses``."""
        pairs: list[tuple[str, TestEntry]] = []
        for cap_name in self.target_capabilities(target, statuses):
            capability = self.capabilities.get(cap_name)
            if capability is not None:
                pairs.extend((cap_name, entry) for entry in capability.tests)
        return pairs


def parse_statuses(text: str | None) -> list[Status] | None:
    """Parse a comma-separated ``type`` list; ``None`` or empty means every status.

    Unknown words are ignored, as RefStack's filter simply never matches them.
    """
    if not text:
        return None
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    return [s for s in STATUSES if s.value in words]
