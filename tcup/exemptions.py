"""Exemptions: required tests a given Tempest cannot run non-admin, or an environment cannot provide.

The list is data, ``tcup/data/exemptions.yaml`` (its header documents each field). An exemption
never turns a test into a pass: :mod:`tcup.verdicts` names each exempted test with its reason and
source, and keeps RefStack's verdict, which knows no exemption, beside tcup's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from tcup.errors import TcupError

__all__ = ["Exemption", "ExemptionKind", "applicable_exemptions", "load_exemptions", "read_exemptions"]


class ExemptionKind(StrEnum):
    """Why a test is exempted."""

    TEMPEST_NON_ADMIN = "tempest-non-admin"  # this Tempest cannot run it without admin or dynamic credentials
    ENVIRONMENT = "environment"  # the test environment (a fake hypervisor, ...) cannot provide it


class When(StrEnum):
    """Which outcomes an exemption covers."""

    SKIPPED = "skipped"  # skipped by Tempest, or not run at all
    NOT_PASSED = "not-passed"  # also a failure


@dataclass(frozen=True, slots=True, kw_only=True)
class Exemption:
    """One exempted test."""

    test: str
    idempotent_id: UUID | None
    kind: ExemptionKind
    tempest: SpecifierSet
    reason: str
    source: str
    environment: str | None = None
    when: When = When.SKIPPED

    def holds_for(self, tempest_version: str | None, environments: Iterable[str] = ()) -> bool:
        """True when this exemption applies to a run of ``tempest_version`` in ``environments``."""
        if self.kind is ExemptionKind.ENVIRONMENT and self.environment not in set(environments):
            return False
        if tempest_version is None:
            return False
        try:
            return Version(tempest_version) in self.tempest
        except InvalidVersion:
            return False

    def covers(self, outcome: str | None) -> bool:
        """True when a test with ``outcome`` (None: not run) is covered."""
        if outcome == "success":
            return False
        return self.when is When.NOT_PASSED or outcome in (None, "skip")

    def to_dict(self) -> dict[str, Any]:
        """The JSON view written to ``compliance.json``."""
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


_FIELDS = {"test", "idempotent_id", "kind", "environment", "tempest", "when", "reason", "source"}


def read_exemptions(text: str, *, source: str) -> list[Exemption]:
    """Read an exemptions document.

    :raises TcupError: listing every problem of the document.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TcupError(f"{source} is not YAML: {exc}") from None
    items = data.get("exemptions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise TcupError(f"{source}: expected a mapping with an 'exemptions' list")
    found: list[Exemption] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        exemption, item_problems = _read_item(item)
        problems.extend(f"exemptions[{i}]: {p}" for p in item_problems)
        if exemption is not None:
            found.append(exemption)
    if problems:
        raise TcupError(f"{source} has {len(problems)} problems: " + "; ".join(problems))
    return found


def _read_item(item: object) -> tuple[Exemption | None, list[str]]:
    if not isinstance(item, dict):
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
    if kind is ExemptionKind.ENVIRONMENT and not item.get("environment"):
        problems.append("an environment exemption names its environment")
    try:
        when = When(str(item.get("when", When.SKIPPED.value)))
    except ValueError:
        problems.append(f"when must be one of {', '.join(w.value for w in When)}")
        when = When.SKIPPED
    try:
        spec = SpecifierSet(str(item.get("tempest", "")))
    except InvalidSpecifier:
        problems.append(f"tempest {item.get('tempest')!r} is not a version specifier such as '>=47.0.0'")
        spec = SpecifierSet()
    if problems:
        return None, problems
    return Exemption(
        test=item["test"].strip(),
        idempotent_id=uuid,
        kind=kind,
        tempest=spec,
        reason=" ".join(item["reason"].split()),
        source=" ".join(item["source"].split()),
        environment=item.get("environment"),
        when=when,
    ), []


def load_exemptions(extra_files: Sequence[str | Path] = ()) -> list[Exemption]:
    """The bundled exemptions, then those of ``extra_files``."""
    bundled = resources.files("tcup").joinpath("data", "exemptions.yaml").read_text()
    found = read_exemptions(bundled, source="tcup/data/exemptions.yaml")
    for path in extra_files:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise TcupError(f"cannot read the exemptions file {path}: {exc.strerror}") from None
        found.extend(read_exemptions(text, source=str(path)))
    return found


def applicable_exemptions(
    exemptions: Iterable[Exemption], tempest_version: str | None, environments: Iterable[str] = ()
) -> list[Exemption]:
    """The exemptions that hold for this Tempest and these environments."""
    envs = tuple(environments)
    return [e for e in exemptions if e.holds_for(tempest_version, envs)]
