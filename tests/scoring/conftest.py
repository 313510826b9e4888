"""Fixtures for the scoring tests: small guidelines built in code, and the real interop files."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from interop_model.guideline_loader import guideline_from_dict, load_guideline_text
from interop_model.guidelines import Guideline
from tests.conftest import skip_or_fail

CORE_WEIGHTS = {
    "deployed": 8,
    "tools": 6,
    "clients": 10,
    "future": 11,
    "complete": 8,
    "stable": 9,
    "discover": 8,
    "doc": 8,
    "sticky": 9,
    "foundation": 9,
    "atomic": 6,
    "proximity": 8,
}


def guideline_document(
    statuses: Mapping[str, str],
    *,
    gid: str = "2030.01",
    weights: Mapping[str, int] = CORE_WEIGHTS,
    cutoff: int = 74,
    tests: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    admin: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """A schema-2.0 guideline document: one component, capability -> status."""
    lists: dict[str, list[str]] = {"required": [], "advisory": [], "deprecated": [], "removed": []}
    for name, status in statuses.items():
        lists[status].append(name)
    capabilities = {}
    for name in statuses:
        entries = (tests or {}).get(
            name,
            [
                {
                    "name": f"tempest.api.{name}.Test.test_one",
                    "idempotent_id": f"id-{uuid.uuid5(uuid.NAMESPACE_URL, name)}",
                }
            ],
        )
        capabilities[name] = {
            "achievements": [],
            "admin": (admin or {}).get(name, False),
            "description": name,
            "project": "nova",
            "tests": {e["name"]: {k: v for k, v in e.items() if k != "name"} for e in entries},
        }
    return {
        "metadata": {
            "id": gid,
            "schema": "2.0",
            "scoring": {
                "cutoff_score": cutoff,
                "criteria": {k: {"name": k.title(), "description": "", "weight": w} for k, w in weights.items()},
            },
            "os_trademark_approval": {"target_approval": gid, "replaces": None, "releases": [], "status": "approved"},
        },
        "platforms": {
            "OpenStack Powered Platform": {"description": "all", "components": [{"name": "os_powered_compute"}]}
        },
        "components": {"os_powered_compute": {"capabilities": lists, "designated_sections": {"required": ["nova"]}}},
        "capabilities": capabilities,
        "designated_sections": {},
        "test_repositories": {"tempest": {"repository": "https://opendev.org/openstack/tempest/", "reference": "abc"}},
    }


@pytest.fixture
def make_guideline() -> Callable[..., Guideline]:
    """Build a small guideline: make_guideline({"cap-a": "required"}, gid=..., cutoff=...)."""

    def build(statuses: Mapping[str, str], **kwargs: Any) -> Guideline:
        document = guideline_document(statuses, **kwargs)
        return guideline_from_dict(document, source=f"{kwargs.get('gid', '2030.01')}.json")

    return build


@pytest.fixture(scope="session")
def load(interop_dir: Path) -> Callable[[str], Guideline]:
    """Load a real guideline by its path under ../shared/interop."""
    cache: dict[str, Guideline] = {}

    def read(relative: str) -> Guideline:
        if relative not in cache:
            path = interop_dir / relative
            cache[relative] = load_guideline_text(path.read_text(encoding="utf-8"), source=str(path))
        return cache[relative]

    return read


@pytest.fixture(scope="session")
def materials(interop_dir: Path) -> Path:
    """../shared/interop/working_materials."""
    return interop_dir / "working_materials"


@pytest.fixture(scope="session")
def soffice() -> str:
    """The LibreOffice binary, or a skip saying how to get it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        skip_or_fail("LibreOffice is not installed (apt-get install -y libreoffice-calc)")
    return found
