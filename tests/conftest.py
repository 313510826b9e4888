"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Session fixtures shared by several test packages (one loopback cloud per session).
pytest_plugins = ["tests.cloud_fixtures"]

REPO = Path(__file__).resolve().parent.parent
INTEROP = Path(os.environ.get("TCUP_INTEROP_DIR", REPO.parent / "shared" / "interop"))


@pytest.fixture(scope="session")
def interop_dir() -> Path:
    """The real interop guideline files (../shared/interop), or a skip saying why."""
    if not (INTEROP / "2020.06.json").is_file():
        skip_or_fail(f"the interop guideline files are not at {INTEROP} (set TCUP_INTEROP_DIR)")
    return INTEROP


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI (CI=true) a missing part is a failure, never a silent skip."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
