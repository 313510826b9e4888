"""``tcup run`` end to end: devcloud -> Tempest via stestr -> outputs -> compliance -> upload to the collector.

The 83 tests of the interop 2020.06 ``identity-v3-*``, ``images-v2-*`` and ``objectstore-*`` required
capabilities run against the loopback devcloud with one non-admin account plus the devcloud's
pre-provisioned accounts file. Tempest 47 passes 82 and skips one by itself
(``test_list_containers_with_marker``, "Skipped because of bug#2147232", whenever credentials are
static): tcup exempts it, named with its reason and source, so tcup's verdict is YES (exit 0) while
the RefStack-compatible verdict, which knows no exemption, stays NO and is shown beside it.

``tcup run --guideline 2020.06 --target object``, the whole object target, non-admin with the
devcloud's accounts file, says YES and exits 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from interop_model.wire import loads_extended, loads_v1
from tcup.subunit_reader import read_results_file
from tests.cloud_fixtures import DevcloudHandle
from tests.end_to_end.conftest import TOKEN_PATTERN, Collector, secrets_of, tcup, tcup_env

pytestmark = pytest.mark.cloud

SKIPPED = "tempest.api.object_storage.test_account_services.AccountTest.test_list_containers_with_marker"


def _compliance(output: Path) -> dict[str, Any]:
    (report,) = json.loads((output / "compliance.json").read_text())["reports"]
    return {c["name"]: c for c in report["capabilities"]}


def test_run_passes_the_identity_image_and_object_capabilities(interop_run: tuple[Any, Path]) -> None:
    proc, output = interop_run
    assert proc.returncode == 0, proc.stderr[-3000:]  # the one test Tempest skips by itself is exempted
    summary = json.loads((output / "summary.json").read_text())
    assert summary["selected_tests"] == 83 and not summary["interrupted"]
    assert summary["counts"] == {"success": 82, "fail": 0, "skip": 1, "xfail": 0, "uxsuccess": 0}
    caps = _compliance(output)
    selected = [c for c in caps.values() if c["name"].startswith(("identity-v3-", "images-v2-", "objectstore-"))]
    entries = [t for c in selected for t in c["tests"] if not t["flagged"]]  # flagged tests are not run
    assert len(entries) == 85 and len({t["name"] for t in entries}) == 83  # two tests are in two capabilities
    assert all(c["complete"] for c in selected)
    account_list = caps["objectstore-account-list"]
    assert account_list["passed"] == account_list["total"] - 1
    assert (account_list["failed"], account_list["skipped"], account_list["exempted"]) == (0, 0, 1)
    (exempted,) = [t for t in account_list["tests"] if t["state"] == "exempted"]
    assert exempted["name"] == SKIPPED and "bug#2147232" in exempted["detail"]
    for name in ("identity-v3-tokens-create", "images-v2-list", "objectstore-object-create"):
        assert caps[name]["complete"] and caps[name]["passed"] == caps[name]["total"] > 0
    assert "compute-servers-create" not in caps  # not selected, so not judged
    # the report is on stdout, progress and logs on stderr
    assert "Verdict: YES" in proc.stdout and "RefStack-compatible verdict: NO" in proc.stdout
    assert "exempted" in proc.stdout and "Verdict" not in proc.stderr
    for name in ("tempest.subunit", "refstack.json", "run.json", "compliance.json", "summary.json", "tempest.conf"):
        assert name in proc.stdout


def test_output_files_agree(interop_run: tuple[Any, Path]) -> None:
    _, output = interop_run
    stream = read_results_file(output / "tempest.subunit")
    assert stream.version == 2 and len(stream.results) == 83
    v1 = loads_v1((output / "refstack.json").read_bytes())
    extended = loads_extended((output / "run.json").read_bytes())
    assert len(v1.results) == 82 and len(extended.results) == 83
    skipped = [r for r in extended.results if r.outcome.value == "skip"]
    assert [r.test_id for r in skipped] == [SKIPPED] and "bug" in (skipped[0].reason or "")
    assert extended.provenance.tempest_version == "47.0.0" and extended.provenance.guideline == "2020.06"
    assert extended.provenance.auth_url_fingerprint and extended.cpid == v1.cpid
    assert all(r.duration is not None for r in extended.results)
    conf = (output / "tempest.conf").read_text()
    assert "use_dynamic_credentials = false" in conf and "admin_password" not in conf
    assert "tcup-run-" not in conf  # no private temporary path, deleted after the run
    assert "exit status" in (output / "stestr.log").read_text()
    assert extended.selection is not None and extended.selection.guideline == "2020.06"
    assert "objectstore-account-list" in extended.selection.capabilities
    assert extended.selection.capability_globs == ("identity-v3-*", "images-v2-*", "objectstore-*")


def test_results_reached_the_collector(interop_run: tuple[Any, Path], collector: Collector) -> None:
    proc, output = interop_run
    assert "Uploaded refstack.json" in proc.stdout and "Uploaded run.json" in proc.stdout
    headers = {"Authorization": f"Bearer {collector.token}"}
    listing = requests.get(f"{collector.url}/v1/results?signed=true", headers=headers, timeout=10).json()
    # NOTE: the object-target run, uploaded with --token, carries meta target=object; this one has none
    (item,) = [
        i
        for i in listing["results"]
        if "target"
        not in requests.get(f"{collector.url}/v1/results/{i['id']}/meta", headers=headers, timeout=10).json()
    ]
    detail = requests.get(f"{collector.url}/v1/results/{item['id']}", headers=headers, timeout=10).json()
    assert len(detail["results"]) == 82 and SKIPPED not in detail["results"]
    assert detail["cpid"] == json.loads((output / "refstack.json").read_text())["cpid"]
    full = requests.get(f"{collector.url}/v2/runs/{item['id']}", headers=headers, timeout=10)
    assert full.status_code == 200
    assert loads_extended(full.content) == loads_extended((output / "run.json").read_bytes())


def test_no_secret_in_any_output_or_log(
    interop_run: tuple[Any, Path], devcloud: DevcloudHandle, collector: Collector
) -> None:
    proc, output = interop_run
    secrets = [*secrets_of(devcloud), collector.passphrase]
    captured = {"stdout": proc.stdout.encode(), "stderr": proc.stderr.encode()}
    files = {str(p): p.read_bytes() for p in output.rglob("*") if p.is_file()}
    assert len(files) >= 8 and len(proc.stderr) > 1000  # debug logs were captured
    for where, data in {**captured, **files}.items():
        for secret in secrets:
            assert secret.encode() not in data, f"a password is in {where}"
        assert not TOKEN_PATTERN.search(data), f"a Keystone token is in {where}"


def test_format_json_prints_compliance_json(
    devcloud: DevcloudHandle, tempest_python: str, interop_dir: Path, tmp_path: Path, interop_run: object
) -> None:
    from tests.end_to_end.conftest import selection_args

    output = tmp_path / "json"
    proc = tcup(
        "run",
        *selection_args(interop_dir, ("identity-v3-tokens-create",)),
        "--accounts-file",
        str(devcloud.accounts_yaml),
        "--output",
        str(output),
        "--no-progress",
        "--format",
        "json",
        env=tcup_env(devcloud, tempest_python),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == json.loads((output / "compliance.json").read_text())
    (report,) = json.loads(proc.stdout)["reports"]
    assert report["verdicts"]["tcup"] == "YES" and report["judged_capabilities"] == ["identity-v3-tokens-create"]


def test_object_target_is_compliant_non_admin(object_target_run: tuple[Any, Path], collector: Collector) -> None:
    """The whole object target of 2020.06, chosen by version name, non-admin with the devcloud's
    accounts file: YES, exit 0; the upload carries its selection and, with the owner's token, its meta."""
    proc, output = object_target_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Verdict: YES" in proc.stdout
    (report,) = json.loads((output / "compliance.json").read_text())["reports"]
    assert report["target"] == "object" and report["verdicts"]["tcup"] == "YES"
    assert report["judged_capabilities"] is None  # the whole target
    states = report["required_states"]
    assert states["failed"] == states["skipped"] == states["needs-accounts"] == states["missing"] == 0
    assert [e["test"] for e in report["exemptions"]] == [SKIPPED]
    headers = {"Authorization": f"Bearer {collector.token}"}
    listing = requests.get(f"{collector.url}/v1/results?signed=true", headers=headers, timeout=10).json()
    metas = {
        item["id"]: requests.get(f"{collector.url}/v1/results/{item['id']}/meta", headers=headers, timeout=10).json()
        for item in listing["results"]
    }
    (test_id,) = [i for i, m in metas.items() if (m.get("guideline"), m.get("target")) == ("2020.06.json", "object")]
    full = loads_extended(requests.get(f"{collector.url}/v2/runs/{test_id}", headers=headers, timeout=10).content)
    assert full.selection is not None and full.selection.target == "object"


def test_one_account_names_what_is_missing_and_never_calls_it_a_failure(one_account_run: tuple[Any, Path]) -> None:
    """With the demo user alone, the object target cannot pass: the tests that need a second
    project's user or the ResellerAdmin role are `needs-accounts`, none is `failed`, and the exit
    status is 1 (not compliant), not 2."""
    proc, output = one_account_run
    assert proc.returncode == 1, proc.stderr[-3000:]
    (report,) = json.loads((output / "compliance.json").read_text())["reports"]
    states = report["required_states"]
    assert states["needs-accounts"] > 0 and states["failed"] == 0 and states["skipped"] == 0, states
    needs = {row["detail"] for row in report["not_passed"]}
    assert "needs a user with the ResellerAdmin role" in needs
    quotas = {c["name"]: c for c in report["capabilities"]}["objectstore-account-quotas"]
    assert quotas["failed"] == 0 and quotas["needs-accounts"] == quotas["total"] - quotas["passed"] > 0
    assert "needs-accounts" in proc.stdout and "tcup accounts" in proc.stdout
