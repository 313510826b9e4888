"""Exemptions: required tests a given Tempest cannot run non-admin, or an environment cannot provide.

The list is data, ``interop_model/data/exemptions.json``, shared by the runner and the service so
that both name the same exemptions. Each entry has these fields:

``test``           the Tempest test name (no ``[attributes]``)
``idempotent_id``  its idempotent id, matched too (a renamed test stays exempted)
``kind``           ``tempest-non-admin``: this Tempest skips or cannot run the test without admin
                   rights or dynamic credentials (it holds within ``tempest``);
                   ``environment``: the test needs what a test environment cannot give (a fake
                   hypervisor, ...); it holds only for a run made in that ``environment``
``environment``    with kind ``environment``: the environment's name (``devcloud``, ...)
``tempest``        the Tempest versions it holds for: comma-joined clauses such as ``>=47.0.0``
                   or ``>=47,<48`` (operators ``>= <= > < == !=``, release numbers only)
``when``           ``skipped`` (default): only when the test was skipped or not run;
                   ``not-passed``: also when it ran and failed
``reason``, ``source``  why, and where that can be checked (Tempest code, bug)

An exemption never turns a test into a pass: reports name each exempted test with its reason and
source, and RefStack's verdict, which knows no exemption, stays beside the one that honours them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any
from uuid import UUID

from interop_model.errors import InteropModelError

__all__ = [
    "Exemption",
    "ExemptionIndex",
    "ExemptionKind",
    "InvalidExemptions",
    "VersionRange",
    "When",
    "applicable_exemptions",
    "bundled_exemptions",
    "read_exemptions",
]

BUNDLED = "interop_model/data/exemptions.json"


class InvalidExemptions(InteropModelError):
    """An exemptions document is malformed; ``problems`` lists every problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source} has {len(problems)} problems: " + "; ".join(problems), problems)


class ExemptionKind(StrEnum):
    """Why a test is exempted."""

    TEMPEST_NON_ADMIN = "tempest-non-admin"  # this Tempest cannot run it without admin or dynamic credentials
    ENVIRONMENT = "environment"  # the test environment (a fake hypervisor, ...) cannot provide it


class When(StrEnum):
    """Which outcomes an exemption covers."""

    SKIPPED = "skipped"  # skipped by Tempest, or not run at all
    NOT_PASSED = "not-passed"  # also a failure


_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|<|>)\s*(\d+(?:\.\d+)*)\s*$")
_RELEASE = re.compile(r"^v?(\d+(?:\.\d+)*)(?:\+[a-z0-9.]+)?$", re.IGNORECASE)
_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _release(text: str) -> tuple[int, ...] | None:
    """The release numbers of a plain release version (``47.0.0``, ``47.0.0+local``), else None.

    Pre-releases, dev and post builds give None: the exemptions are checked against releases.
    """
    found = _RELEASE.match(text.strip())
    return tuple(int(p) for p in found.group(1).split(".")) if found else None


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))  # as in PEP 440, 48 == 48.0.0
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


@dataclass(frozen=True, slots=True)
class VersionRange:
    """A set of Tempest versions, from clauses such as ``>=47.0.0`` joined by commas.

    Only the simple PEP 440 comparisons on release numbers are understood (no ``~=``, no
    wildcards, no pre-releases); anything else is refused by :meth:`parse`.
    """

    clauses: tuple[tuple[str, tuple[int, ...]], ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """Read ``text``; raises ValueError naming the clause it cannot read."""
        if not text.strip():
            raise ValueError("an empty version range")
        clauses = []
        for part in text.split(","):
            found = _CLAUSE.match(part)
            if found is None:
                raise ValueError(
                    f"{part.strip()!r} is not a clause such as '>=47.0.0' (operators >= <= > < == != "
                    "with release numbers, joined by commas)"
                )
            clauses.append((found.group(1), tuple(int(n) for n in found.group(2).split("."))))
        return cls(tuple(clauses), ",".join(f"{op}{'.'.join(map(str, v))}" for op, v in clauses))

    def __contains__(self, version: object) -> bool:
        release = _release(version) if isinstance(version, str) else None
        if release is None:
            return False
        return all(_COMPARE[op](*_padded(release, bound)) for op, bound in self.clauses)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class Exemption:
    """One exempted test."""

    test: str
    idempotent_id: UUID | None
    kind: ExemptionKind
    tempest: VersionRange
    reason: str
    source: str
    environment: str | None = None
    when: When = When.SKIPPED

    def holds_for(self, tempest_version: str | None, environments: Iterable[str] = ()) -> bool:
        """True when this exemption applies to a run of ``tempest_version`` in ``environments``."""
        if self.kind is ExemptionKind.ENVIRONMENT and self.environment not in set(environments):
            return False
        return tempest_version is not None and tempest_version in self.tempest

    def covers(self, outcome: str | None) -> bool:
        """True when a test with ``outcome`` (None: not run) is covered."""
        if outcome == "success":
            return False
        return self.when is When.NOT_PASSED or outcome in (None, "skip")

    def to_dict(self) -> dict[str, Any]:
        """The JSON view that reports (``compliance.json``, the service's API) give."""
        return {
            "test": self.test,
            "idempotent_id": str(self.idempotent_id) if self.idempotent_id else None,
            "kind": self.kind.value,
            "environment": self.environment,
            "tempest": str(self.tempest),
            "when": self.when.value,
            "reason": self.reason,
            "source": self.source,
        }


class ExemptionIndex:
    """Exemptions looked up as a report's test entries name them: by test name, else idempotent id."""

    def __init__(self, exemptions: Iterable[Exemption]) -> None:
        found = list(exemptions)
        self._by_name = {e.test: e for e in found}
        self._by_id = {str(e.idempotent_id): e for e in found if e.idempotent_id}

    def find(self, name: str, idempotent_id: UUID | str | None) -> Exemption | None:
        """The exemption of this test, whatever its outcome (see :meth:`Exemption.covers`)."""
        found = self._by_name.get(name)
        if found is None and idempotent_id:
            found = self._by_id.get(str(idempotent_id))
        return found


_FIELDS = {"test", "idempotent_id", "kind", "environment", "tempest", "when", "reason", "source"}


def read_exemptions(data: object, *, source: str) -> list[Exemption]:
    """Read an exemptions document already parsed (from JSON or YAML): ``{"exemptions": [...]}``.

    :raises InvalidExemptions: listing every problem of the document.
    """
    items = data.get("exemptions") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise InvalidExemptions(source, ["expected a mapping with an 'exemptions' list"])
    found: list[Exemption] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        exemption, item_problems = _read_item(item)
        problems.extend(f"exemptions[{i}]: {p}" for p in item_problems)
        if exemption is not None:
            found.append(exemption)
    if problems:
        raise InvalidExemptions(source, problems)
    return found


def _read_item(item: object) -> tuple[Exemption | None, list[str]]:
    if not isinstance(item, Mapping):
        return None, ["must be a mapping"]
    problems = [f"unknown field {k!r}" for k in item if k not in _FIELDS]
    for key in ("test", "kind", "tempest", "reason", "source"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            problems.append(f"{key!r} must be non-empty text")
    uuid = None
    if item.get("idempotent_id") is not None:
        try:
            uuid = UUID(str(item["idempotent_id"]))
        except ValueError:
            problems.append(f"idempotent_id {item['idempotent_id']!r} is not a UUID")
    try:
        kind = ExemptionKind(str(item.get("kind")))
    except ValueError:
        problems.append(f"kind must be one of {', '.join(k.value for k in ExemptionKind)}")
        kind = ExemptionKind.TEMPEST_NON_ADMIN
    environment = item.get("environment")
    if environment is not None and not isinstance(environment, str):
        problems.append("'environment' must be text")
    if kind is ExemptionKind.ENVIRONMENT and not environment:
        problems.append("an environment exemption names its environment")
    try:
        when = When(str(item.get("when", When.SKIPPED.value)))
    except ValueError:
        problems.append(f"when must be one of {', '.join(w.value for w in When)}")
        when = When.SKIPPED
    versions = None
    try:
        versions = VersionRange.parse(str(item.get("tempest", "")))
    except ValueError as exc:
        problems.append(f"tempest {item.get('tempest')!r} is not a version range such as '>=47.0.0': {exc}")
    if problems or versions is None:
        return None, problems
    return Exemption(
        test=item["test"].strip(),
        idempotent_id=uuid,
        kind=kind,
        tempest=versions,
        reason=" ".join(item["reason"].split()),
        source=" ".join(item["source"].split()),
        environment=environment,
        when=when,
    ), []


def bundled_exemptions() -> list[Exemption]:
    """The exemptions shipped with the model (``interop_model/data/exemptions.json``)."""
    # NOTE: package data read like a module's own text; the model still does no other I/O
    text = resources.files("interop_model").joinpath("data", "exemptions.json").read_text()
    return read_exemptions(json.loads(text), source=BUNDLED)


def applicable_exemptions(
    exemptions: Iterable[Exemption], tempest_version: str | None, environments: Iterable[str] = ()
) -> list[Exemption]:
    """The exemptions that hold for this Tempest and these environments."""
    envs = tuple(environments)
    return [e for e in exemptions if e.holds_for(tempest_version, envs)]
