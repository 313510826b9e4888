"""Credentials from OS_* variables, clouds.yaml (openstacksdk's loader) and flags; secrets stay hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tcup.credentials import (
    Secret,
    credentials_from_cloud,
    credentials_from_env,
    read_accounts_file,
    redact_text,
    resolve_credentials,
)
from tcup.errors import CredentialsError

PASSWORD = "s3cret-Pa55word"
ENV = {
    "OS_AUTH_URL": "https://keystone.example:5000/v3",
    "OS_USERNAME": "demo",
    "OS_PASSWORD": PASSWORD,
    "OS_PROJECT_NAME": "demo",
    "OS_USER_DOMAIN_NAME": "Default",
    "OS_PROJECT_DOMAIN_NAME": "Default",
    "OS_REGION_NAME": "RegionOne",
    "OS_INTERFACE": "publicURL",
}


def _clouds(tmp_path: Path) -> Path:
    path = tmp_path / "clouds.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "mine": {
                        "auth": {
                            "auth_url": "http://127.0.0.1:5000/v3",
                            "username": "alice",
                            "password": PASSWORD,
                            "project_name": "p1",
                            "user_domain_name": "Default",
                            "project_domain_name": "Default",
                        },
                        "region_name": "R2",
                        "interface": "internal",
                        "verify": False,
                    },
                    "tokens": {"auth_type": "v3token", "auth": {"auth_url": "http://x/v3", "token": "t"}},
                }
            }
        )
    )
    return path


def test_secret_never_shows() -> None:
    secret = Secret(PASSWORD)
    assert repr(secret) == str(secret) == f"{secret}" == "***"
    assert secret.reveal() == PASSWORD
    creds = credentials_from_env(ENV)
    assert PASSWORD not in repr(creds) and PASSWORD not in creds.describe()


def test_from_env() -> None:
    creds = credentials_from_env(ENV)
    assert (creds.auth_url, creds.username, creds.project_name, creds.region_name, creds.interface) == (
        "https://keystone.example:5000/v3",
        "demo",
        "demo",
        "RegionOne",
        "public",
    )
    assert creds.password.reveal() == PASSWORD
    args = creds.keystone_auth_args()
    assert args["password"] == PASSWORD and args["user_domain_name"] == "Default"


def test_from_clouds_yaml(tmp_path: Path) -> None:
    creds = credentials_from_cloud("mine", config_file=_clouds(tmp_path))
    assert (creds.username, creds.project_name, creds.region_name, creds.interface, creds.insecure) == (
        "alice",
        "p1",
        "R2",
        "internal",
        True,
    )
    assert "cloud 'mine'" in creds.source


def test_unknown_cloud_and_token_auth_are_explained(tmp_path: Path) -> None:
    path = _clouds(tmp_path)
    with pytest.raises(CredentialsError, match="cloud 'nope' not found"):
        credentials_from_cloud("nope", config_file=path)
    with pytest.raises(CredentialsError, match="auth_type 'v3token'"):
        credentials_from_cloud("tokens", config_file=path)
    with pytest.raises(CredentialsError, match="does not exist"):
        credentials_from_cloud("mine", config_file=tmp_path / "absent.yaml")


def test_flags_override_cloud_and_env(tmp_path: Path) -> None:
    creds = resolve_credentials(
        cloud="mine",
        config_file=_clouds(tmp_path),
        overrides={"project_name": "p2", "password": "other", "region_name": None},
    )
    assert creds.project_name == "p2" and creds.password.reveal() == "other" and creds.region_name == "R2"
    creds = resolve_credentials(environ=ENV, overrides={"username": "bob"})
    assert creds.username == "bob"


def test_incomplete_credentials_say_what_is_missing() -> None:
    with pytest.raises(CredentialsError) as info:
        resolve_credentials(environ={"OS_AUTH_URL": "keystone:5000"})
    text = str(info.value)
    for part in ("does not start with http", "no user", "no password", "no project", "--os-cloud"):
        assert part in text


def test_accounts_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(
        yaml.safe_dump(
            [
                {"username": "demo", "password": PASSWORD, "project_name": "demo", "roles": ["member"]},
                {
                    "username": "demo_reader",
                    "password": PASSWORD,
                    "tenant_name": "demo",
                    "domain_name": "D2",
                    "roles": ["reader"],
                    "resources": {"network": "n1"},
                },
            ]
        )
    )
    first, second = read_accounts_file(path)
    assert first.key == ("Default", "demo", "demo") and first.roles == ("member",)
    assert second.project_name == "demo" and second.extra == {"resources": {"network": "n1"}}
    assert second.to_yaml_dict()["password"] == PASSWORD
    assert PASSWORD not in repr(second)
    path.write_text(yaml.safe_dump([{"username": "x"}]))
    with pytest.raises(CredentialsError, match="lacks password, project_name"):
        read_accounts_file(path)


def test_redact_text() -> None:
    assert redact_text(f"pw={PASSWORD} again {PASSWORD}", [PASSWORD, ""]) == "pw=*** again ***"
