"""tempest.conf and accounts.yaml from discovered facts: non-admin, nothing created, secrets private."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import pytest
import yaml

from tcup.credentials import CloudCredentials, Secret, TestAccount
from tcup.discovery import CloudFacts, ServiceInfo
from tcup.errors import CredentialsError
from tcup.tempest_config import count_members, persona_roles, plan_accounts, tempest_settings, write_tempest_files

PASSWORD = "pw-0123456789"
CREDS = CloudCredentials(
    auth_url="https://k.example:5000/v3",
    password=Secret(PASSWORD),
    username="demo",
    project_name="demo",
    user_domain_name="Default",
    project_domain_name="Default",
)


def _facts(
    *, roles: tuple[str, ...] = ("member", "reader"), services: dict[str, ServiceInfo] | None = None
) -> CloudFacts:
    default = {
        "identity": ServiceInfo(
            type="identity", name="keystone", id="i", url="https://k.example:5000/v3", versions=("v3.14",)
        ),
        "image": ServiceInfo(
            type="image",
            name="glance",
            id="g",
            url="https://g.example",
            versions=("v2.15", "v2.9"),
            facts={
                "import_methods": ["glance-direct"],
                "disk_formats": ["qcow2", "raw", "zzz"],
                "container_formats": ["ami", "bare"],
            },
        ),
        "object-store": ServiceInfo(
            type="object-store",
            name="swift",
            id="s",
            url="https://s.example/v1/AUTH_p",
            versions=("v1",),
            facts={"info": {"swift": {}, "container_sync": {}}},
        ),
    }
    return CloudFacts(
        cpid="i",
        cpid_source="identity service id",
        auth_url=CREDS.auth_url,
        region="R1",
        fingerprint="f" * 32,
        identity_version="v3",
        user_id="u",
        user_domain_id="default",
        project_id="p",
        project_name="demo",
        roles=roles,
        services=services if services is not None else default,
        token=Secret("tok"),
    )


def _settings(facts: CloudFacts, tmp_path: Path, **overrides: str) -> dict[str, dict[str, str]]:
    return tempest_settings(
        facts,
        CREDS,
        accounts_file=tmp_path / "a.yaml",
        lock_dir=tmp_path / "l",
        log_dir=tmp_path / "g",
        overrides=overrides,
    )


def test_non_admin_pre_provisioned_settings(tmp_path: Path) -> None:
    conf = _settings(_facts(), tmp_path)
    assert conf["auth"]["use_dynamic_credentials"] == "false"
    assert conf["auth"]["test_accounts_file"] == str(tmp_path / "a.yaml")
    assert not any(k.startswith("admin_") for k in conf["auth"])
    assert conf["identity"]["uri_v3"] == "https://k.example:5000/v3"
    assert conf["identity-feature-enabled"]["access_rules"] == "true"
    assert conf["service_available"]["glance"] == conf["service_available"]["swift"] == "true"
    assert conf["service_available"]["nova"] == conf["service_available"]["neutron"] == "false"
    assert conf["object-storage"]["operator_role"] == "member"  # never admin (python-tempestconf's mistake)
    assert conf["image-feature-enabled"]["image_format_enforcement"] == "false"
    assert conf["image-feature-enabled"]["import_image"] == "true"
    assert conf["image-feature-enabled"]["os_glance_reserved"] == "true"
    assert conf["image"]["disk_formats"] == "raw,qcow2,zzz"
    assert conf["image"]["container_formats"] == "bare,ami"
    assert conf["object-storage-feature-enabled"] == {
        "discoverability": "true",
        "container_sync": "true",
        "object_versioning": "false",
    }
    assert conf["validation"]["run_validation"] == "false"
    assert "compute" not in conf


def test_missing_services_and_overrides(tmp_path: Path) -> None:
    conf = _settings(_facts(services={}), tmp_path, **{"compute.image_ref": "img-1", "auth.tempest_roles": "x"})
    assert "image" not in conf and conf["service_available"]["glance"] == "false"
    assert conf["identity"]["uri_v3"] == CREDS.auth_url
    assert conf["compute"]["image_ref"] == "img-1" and conf["auth"]["tempest_roles"] == "x"


def test_compute_uses_existing_images_and_flavors(tmp_path: Path) -> None:
    facts = _facts()
    services = dict(facts.services)
    services["compute"] = ServiceInfo(
        type="compute",
        name="nova",
        id="c",
        url="https://n.example/v2.1",
        facts={"flavors": [{"id": "big", "ram": 4096, "disk": 40}, {"id": "tiny", "ram": 512, "disk": 1}]},
    )
    services["image"] = ServiceInfo(
        type="image",
        name="glance",
        id="g",
        url="https://g.example",
        versions=("v2.9",),
        facts={
            "public_images": [
                {"id": "ubuntu", "name": "Ubuntu", "size": 9},
                {"id": "cir", "name": "cirros-0.6", "size": 20},
            ]
        },
    )
    conf = _settings(
        CloudFacts(**{**{f: getattr(facts, f) for f in facts.__dataclass_fields__}, "services": services}), tmp_path
    )
    assert conf["compute"]["flavor_ref"] == "tiny" and conf["compute"]["flavor_ref_alt"] == "big"
    assert conf["compute"]["image_ref"] == "cir"
    assert conf["service_available"]["nova"] == "true"


@pytest.mark.parametrize(
    ("roles", "persona"),
    [
        (("member", "reader"), ("member",)),
        (("reader",), ("reader",)),
        (("manager", "member", "reader"), ("manager",)),
        (("member", "ResellerAdmin"), ("ResellerAdmin",)),
        (("custom",), ("custom",)),
    ],
)
def test_persona_roles(roles: tuple[str, ...], persona: tuple[str, ...]) -> None:
    assert persona_roles(roles) == persona


def test_plan_accounts_puts_the_primary_first_and_drops_duplicates_and_admins() -> None:
    extra = [
        TestAccount(username="demo", password=Secret(PASSWORD), project_name="demo", roles=("member",)),
        TestAccount(username="demo_reader", password=Secret(PASSWORD), project_name="demo", roles=("reader",)),
        TestAccount(username="boss", password=Secret(PASSWORD), project_name="admin", roles=("admin",)),
        TestAccount(username="alt", password=Secret(PASSWORD), project_name="alt", roles=("member",)),
    ]
    accounts = plan_accounts(CREDS, _facts(), extra)
    assert [a.username for a in accounts] == ["demo", "demo_reader", "alt"]
    assert accounts[0].roles == ("member",)
    assert count_members(accounts) == 2


def test_an_admin_primary_is_refused() -> None:
    with pytest.raises(CredentialsError, match="admin role"):
        plan_accounts(CREDS, _facts(roles=("admin", "member", "reader")))


def test_written_files(tmp_path: Path) -> None:
    accounts = plan_accounts(CREDS, _facts())
    files = write_tempest_files(tmp_path / "private", _facts(), CREDS, accounts)
    assert stat.S_IMODE(files.accounts.stat().st_mode) == 0o600
    assert yaml.safe_load(files.accounts.read_text()) == [
        {
            "username": "demo",
            "project_name": "demo",
            "password": PASSWORD,
            "domain_name": "Default",
            "roles": ["member"],
        }
    ]
    text = files.conf.read_text()
    assert PASSWORD not in text and "tok" not in text.split("\n", 1)[1]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    assert parser["auth"]["test_accounts_file"] == str(files.accounts)
    assert parser["oslo_concurrency"]["lock_path"] == str(files.lock_dir)


def _platform_facts() -> CloudFacts:
    facts = _facts()
    services = dict(facts.services)
    services["compute"] = ServiceInfo(
        type="compute",
        name="nova",
        id="c",
        url="https://n.example/v2.1",
        versions=("v2.0", "v2.1"),
        facts={
            "flavors": [{"id": "tiny", "ram": 128, "disk": 1}],
            "microversions": {"min": "2.1", "max": "2.104"},
        },
    )
    services["network"] = ServiceInfo(
        type="network",
        name="neutron",
        id="n",
        url="https://q.example",
        facts={"external_networks": ["ext-1"], "project_networks": ["demo-net"], "extensions": ["router", "trunk"]},
    )
    services["block-storage"] = ServiceInfo(
        type="block-storage",
        name="cinder",
        id="v",
        url="https://v.example/v3/p",
        facts={
            "microversions": {"min": "3.0", "max": "3.71"},
            "availability_zones": ["az-1"],
            "default_type": "gold",
            "extensions": ["os-volume-actions"],
        },
    )
    return CloudFacts(**{**{f: getattr(facts, f) for f in facts.__dataclass_fields__}, "services": services})


def test_platform_settings_come_from_discovery(tmp_path: Path) -> None:
    conf = _settings(_platform_facts(), tmp_path)
    assert (conf["compute"]["min_microversion"], conf["compute"]["max_microversion"]) == ("2.1", "2.104")
    assert conf["compute-feature-enabled"]["resize"] == "true"
    assert conf["network"]["public_network_id"] == "ext-1"
    assert conf["network-feature-enabled"]["api_extensions"] == "router,trunk"
    volume = conf["volume"]
    assert (volume["min_microversion"], volume["max_microversion"]) == ("3.0", "3.71")
    assert volume["catalog_type"] == "block-storage"
    assert volume["availability_zone"] == "az-1" and volume["volume_type"] == "gold"
    assert conf["volume-feature-enabled"]["api_extensions"] == "os-volume-actions"
    assert conf["volume-feature-enabled"]["backup"] == "false"
    assert conf["service_available"]["cinder"] == "true"


def test_undiscoverable_values_name_their_tempest_option(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    facts = _platform_facts()
    services = dict(facts.services)
    services["compute"] = ServiceInfo(type="compute", name="nova", id="c", url="https://n.example/v2.1")
    services["block-storage"] = ServiceInfo(type="block-storage", name="cinder", id="v", url="https://v.example/v3")
    facts = CloudFacts(**{**{f: getattr(facts, f) for f in facts.__dataclass_fields__}, "services": services})
    with caplog.at_level("WARNING"):
        conf = _settings(facts, tmp_path)
    assert "min_microversion" not in conf["compute"] and "availability_zone" not in conf["volume"]
    text = caplog.text
    for option in (
        "compute.min_microversion",
        "compute.flavor_ref",
        "compute.image_ref",
        "volume.min_microversion",
        "volume.availability_zone",
    ):
        assert f"--tempest-option {option}" in text


def test_the_primary_account_keeps_its_network() -> None:
    listed = TestAccount(
        username="demo",
        password=Secret(PASSWORD),
        project_name="demo",
        roles=("member",),
        extra={"resources": {"network": "listed-net", "router": "r"}},
    )
    (primary,) = plan_accounts(CREDS, _platform_facts(), [listed])
    assert primary.to_yaml_dict()["resources"] == {"network": "listed-net", "router": "r"}
    (primary,) = plan_accounts(CREDS, _platform_facts())  # not listed: its project's only network
    assert primary.to_yaml_dict()["resources"] == {"network": "demo-net"}
