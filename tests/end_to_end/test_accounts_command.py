"""``tcup accounts``: an accounts file from clouds.yaml entries of the devcloud, each checked by a login."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from tests.cloud_fixtures import DevcloudHandle
from tests.end_to_end.conftest import secrets_of, tcup, tcup_env

pytestmark = pytest.mark.cloud


def test_accounts_from_two_clouds(devcloud: DevcloudHandle, tempest_python: str, tmp_path: Path) -> None:
    out = tmp_path / "accounts.yaml"
    env = tcup_env(devcloud, tempest_python, OS_CLIENT_CONFIG_FILE=str(devcloud.clouds_yaml))
    proc = tcup("accounts", "--from-cloud", "devcloud", "--from-cloud", "devcloud-alt", "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    accounts = yaml.safe_load(out.read_text())
    assert [a["username"] for a in accounts] == [
        devcloud.cloud(n)["auth"]["username"] for n in ("devcloud", "devcloud-alt")
    ]
    assert len({a["project_name"] for a in accounts}) == 2 and all(a["password"] for a in accounts)
    for secret in secrets_of(devcloud):
        assert secret not in proc.stdout + proc.stderr
    again = tcup("accounts", "--from-cloud", "devcloud", "-o", str(out), env=env)
    assert again.returncode == 2 and "--force" in again.stderr


def test_admin_and_wrong_password_are_refused(devcloud: DevcloudHandle, tempest_python: str, tmp_path: Path) -> None:
    env = tcup_env(devcloud, tempest_python, OS_CLIENT_CONFIG_FILE=str(devcloud.clouds_yaml))
    proc = tcup("accounts", "--from-cloud", "devcloud-admin", "-o", str(tmp_path / "a.yaml"), env=env)
    assert proc.returncode == 2 and "admin role" in proc.stderr and not (tmp_path / "a.yaml").exists()
    clouds = yaml.safe_load(devcloud.clouds_yaml.read_text())
    clouds["clouds"]["devcloud"]["auth"]["password"] = "not-the-password"
    bad = tmp_path / "clouds.yaml"
    bad.write_text(yaml.safe_dump(clouds))
    proc = tcup(
        "accounts",
        "--from-cloud",
        "devcloud",
        "-o",
        str(tmp_path / "b.yaml"),
        env={**env, "OS_CLIENT_CONFIG_FILE": str(bad)},
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.count(devcloud.identity_url) <= 1 and "not-the-password" not in proc.stderr
