"""Fixtures of the runner's tests: recorded subunit streams and throwaway signing keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("TCUP_SUBUNIT_FIXTURES", REPO.parent / "shared" / "fixtures" / "subunit"))


@pytest.fixture(scope="session")
def subunit_fixtures() -> Path:
    """The recorded Tempest streams (../shared/fixtures/subunit), or a skip saying why."""
    if not any(FIXTURES.glob("*.subunit")):
        pytest.skip(f"no recorded subunit streams in {FIXTURES} (set TCUP_SUBUNIT_FIXTURES)")
    return FIXTURES


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key, made once per session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
