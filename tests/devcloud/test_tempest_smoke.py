"""Run Tempest for real against the devcloud: the interop 2020.06 identity, image and object tests.

A hand-written tempest.conf for the non-admin pre-provisioned accounts of ``accounts.yaml`` (no
admin credentials anywhere), and an include list of one ``\\bid-<uuid>\\b`` regex per required,
unflagged test of the ``identity-v3-*``, ``images-v2-*`` and ``objectstore-*`` capabilities.
Seen here: 83 tests, 82 passed and 1 skipped by Tempest itself, in about 40 s.

Tempest comes from :func:`tcup.tempest_env.find_tempest`, else the cached venv is built
(``install_tempest``, about 40 s on a warm pip cache).
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tcup.errors import TempestNotFound
from tcup.tempest_env import TempestEnv, find_tempest, install_tempest
from tests.cloud_fixtures import DevcloudHandle

pytestmark = pytest.mark.cloud

CAPABILITIES = ("identity-v3-*", "images-v2-*", "objectstore-*")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def include_list(guideline: dict, patterns: tuple[str, ...]) -> list[str]:
    """Return one regex per required, unflagged test of the matching capabilities."""
    required = {
        name
        for component in guideline["components"].values()
        for name in component["capabilities"].get("required", [])
        if any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
    }
    regexes = set()
    for name in required:
        for test, details in guideline["capabilities"][name]["tests"].items():
            details = details or {}
            if "flagged" in details:
                continue
            found = _UUID.search(details.get("idempotent_id", ""))
            regexes.add(rf"\bid-{found.group(0)}\b" if found else "^" + re.escape(test) + r"(\[|$)")
    return sorted(regexes)


def tempest_conf(cloud: DevcloudHandle, log_file: Path) -> str:
    """Return a tempest.conf for the devcloud's pre-provisioned non-admin accounts."""
    return f"""\
[DEFAULT]
log_file = {log_file}
use_stderr = false

[auth]
use_dynamic_credentials = false
test_accounts_file = {cloud.accounts_yaml}
default_credentials_domain_name = Default
tempest_roles = member
create_isolated_networks = false

[identity]
uri_v3 = {cloud.identity_url}
auth_version = v3
region = RegionOne
v3_endpoint_type = public

[identity-feature-enabled]
api_v2 = false
api_v3 = true
trust = true
access_rules = true
security_compliance = false

[service_available]
glance = true
swift = true
nova = false
neutron = false
cinder = false
horizon = false

[image]
region = RegionOne
endpoint_type = publicURL
container_formats = bare,ami,ari,aki,ovf,ova,docker,compressed
disk_formats = ami,ari,aki,vhd,vmdk,raw,qcow2,vdi,iso,vhdx,ploop

[image-feature-enabled]
api_v2 = true
import_image = true
os_glance_reserved = true
image_format_enforcement = false

[object-storage]
region = RegionOne
endpoint_type = public
operator_role = member
reseller_admin_role = ResellerAdmin

[object-storage-feature-enabled]
discoverability = true
container_sync = true
object_versioning = true

[enforce_scope]
keystone = true
glance = true
placement = true

[validation]
run_validation = false
"""


def _totals(output: str) -> dict[str, int]:
    """Read stestr's 'Totals' block: Passed, Failed, Skipped..."""
    counts = {}
    for key in ("Passed", "Failed", "Skipped"):
        found = re.search(rf"^ - {key}: (\d+)$", output, re.MULTILINE)
        counts[key.lower()] = int(found.group(1)) if found else 0
    return counts


@pytest.fixture(scope="session")
def tempest() -> TempestEnv:
    """A Tempest installation: found, or the cached venv built now."""
    try:
        return find_tempest()
    except TempestNotFound:
        return install_tempest()


def test_interop_identity_image_object_tests_pass_non_admin(
    devcloud: DevcloudHandle, tempest: TempestEnv, interop_dir: Path, tmp_path: Path
) -> None:
    guideline = json.loads((interop_dir / "2020.06.json").read_text())
    tests = include_list(guideline, CAPABILITIES)
    assert len(tests) == 83
    (tmp_path / "include-list.txt").write_text("\n".join(tests) + "\n")
    workspace = tmp_path / "workspace"
    # --workspace-path keeps `tempest init` out of ~/.tempest
    subprocess.run(
        [str(tempest.tempest), "init", "--workspace-path", str(tmp_path / "workspaces.yaml"), str(workspace)],
        check=True,
        capture_output=True,
    )
    conf = workspace / "etc" / "tempest.conf"
    conf.write_text(tempest_conf(devcloud, tmp_path / "tempest.log"))
    command = [
        str(tempest.tempest),
        "run",
        "--config-file",
        str(conf),
        "--concurrency",
        "2",
        "--include-list",
        str(tmp_path / "include-list.txt"),
    ]
    started = time.monotonic()
    run = subprocess.run(command, cwd=workspace, capture_output=True, text=True, timeout=1200)
    seconds = time.monotonic() - started
    totals = _totals(run.stdout)
    print(f"tempest interop 2020.06 non-admin: {totals} in {seconds:.0f} s")
    failures = "\n".join(line for line in run.stdout.splitlines() if "... FAILED" in line)
    assert run.returncode == 0, f"tempest run failed (rc {run.returncode}):\n{failures}\n{run.stdout[-3000:]}"
    assert totals["failed"] == 0
    assert totals["passed"] + totals["skipped"] == len(tests)
    assert totals["passed"] >= 80
