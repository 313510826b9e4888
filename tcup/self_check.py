"""``tcup self-check``: prove an install works without any cloud (the Docker image's smoke test).

Checks, each reported on one line: the runtime libraries import; Tempest and stestr are found
(and Tempest is the pinned version); the index of Tempest's tests can be built or read; a request
can be signed and verified with the RefStack scheme; the subunit reader reads a stream it wrote.
"""

from __future__ import annotations

import importlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CheckResult", "run_self_check"]

_MODULES = (
    "click",
    "requests",
    "subunit",
    "testtools",
    "keystoneauth1",
    "openstack.config.loader",
    "cryptography",
    "rich",
    "yaml",
    "interop_model",
    "tcup.run_flow",
    "tcup.commands.upload",
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its name, whether it passed, and what it found."""

    name: str
    ok: bool
    detail: str


def _imports() -> str:
    for name in _MODULES:
        importlib.import_module(name)
    return f"{len(_MODULES)} modules"


def _tempest() -> str:
    from tcup.tempest_env import find_tempest, pinned_version

    env = find_tempest()
    env.stestr  # noqa: B018 (raises TempestNotFound when missing)
    pinned = pinned_version("tempest")
    note = "" if env.version == pinned else f" (pinned {pinned})"
    return f"tempest {env.version}{note} at {env.python}"


def _index() -> str:
    from tcup.tempest_env import find_tempest
    from tcup.test_index import load_test_index

    started = time.monotonic()
    index = load_test_index(find_tempest())
    plugins = ", ".join(f"{n} {v}" for n, v in index.install.plugins) or "no plugins"
    return f"{len(index.ids)} tests ({plugins}) in {time.monotonic() - started:.1f} s"


def _signing() -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from tcup.signing import sign_body

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = sign_body(b'{"cpid": "x"}', key)
    key.public_key().verify(
        bytes.fromhex(headers["X-Signature"]), b'{"cpid": "x"}', padding.PKCS1v15(), hashes.SHA256()
    )
    return "RSA PKCS#1 v1.5 / SHA-256 signature verified"


def _subunit() -> str:
    import subunit

    from tcup.subunit_reader import read_results

    buffer = io.BytesIO()
    writer = subunit.StreamResultToBytes(buffer)
    writer.status(test_id="tcup.self_check[id-00000000-0000-4000-8000-000000000000]", test_status="success")
    results = read_results(io.BytesIO(buffer.getvalue()))
    if len(results) != 1 or not results[0].passed or results[0].idempotent_id is None:
        raise RuntimeError(f"read back {results!r}")
    return "subunit v2 written and read back"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("imports", _imports),
    ("tempest", _tempest),
    ("test index", _index),
    ("signing", _signing),
    ("subunit", _subunit),
)


def run_self_check() -> list[CheckResult]:
    """Run every check; a failing check does not stop the others."""
    results = []
    for name, check in CHECKS:
        try:
            results.append(CheckResult(name, True, check()))
        except Exception as exc:  # noqa: BLE001 - each check reports its own failure
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))
    return results
