"""Discovery: RefStack's cpid rule, the fingerprint, and a login against a fake Keystone."""

from __future__ import annotations

import hashlib

import pytest

from tcup.credentials import CloudCredentials, Secret
from tcup.discovery import auth_fingerprint, cpid_from_catalog, cpid_from_url, discover_cloud
from tcup.errors import CredentialsError, DiscoveryError
from tests.tcup.fake_keystone import PASSWORD, TOKEN, FakeKeystone, fake_keystone
from tests.tcup.fake_server import closed_port_url


def _creds(url: str, password: str = PASSWORD) -> CloudCredentials:
    return CloudCredentials(
        auth_url=f"{url}/v3",
        password=Secret(password),
        username="demo",
        project_name="demo",
        user_domain_name="Default",
        project_domain_name="Default",
    )


def test_cpid_from_url_is_md5_of_the_hostname() -> None:
    expected = hashlib.md5(b"keystone.example.com").hexdigest()
    assert cpid_from_url("https://keystone.example.com:5000/v3") == expected
    assert cpid_from_url("http://keystone.example.com/identity") == expected  # no port, no scheme


def test_cpid_from_url_refuses_other_schemes() -> None:
    with pytest.raises(DiscoveryError, match="not an http"):
        cpid_from_url("keystone.example.com:5000")


def test_cpid_from_catalog_v3_and_v2() -> None:
    v3 = [{"type": "image", "id": "x"}, {"type": "identity", "id": "abc", "endpoints": []}]
    v2 = [{"type": "identity", "endpoints": [{"id": "ep1", "publicURL": "http://k/v2.0"}]}]
    assert cpid_from_catalog(v3) == "abc"
    assert cpid_from_catalog(v2) == "ep1"
    assert cpid_from_catalog([{"type": "identity", "endpoints": []}]) is None


def test_fingerprint_is_stable_and_region_aware() -> None:
    a = auth_fingerprint("https://K.example/v3/", "R1")
    assert a == auth_fingerprint("https://k.example:443/v3", "R1")
    assert a != auth_fingerprint("https://k.example/v3", "R2")
    assert a != auth_fingerprint("https://k.example:8443/v3", "R1")


def test_discover_cloud_against_a_fake_keystone() -> None:
    with fake_keystone() as fake:
        facts = discover_cloud(_creds(fake.url), timeout=5)
    assert facts.cpid == fake.identity_id and facts.cpid_source == "identity service id"
    assert facts.region == "R1" and facts.roles == ("member", "reader") and facts.project_name == "demo"
    assert repr(facts.token) == "***" and facts.token.reveal() == TOKEN
    image = facts.services["image"]
    assert image.versions == ("v2.15", "v2.9")
    assert image.facts["import_methods"] == ["glance-direct", "web-download"]
    assert image.facts["disk_formats"] == ["raw", "qcow2", "vhd", "ami"]
    assert facts.services["object-store"].facts["info"]["tempurl"] == {}
    assert "/swift/info" in fake.gets


def test_catalog_without_identity_id_falls_back_to_md5_of_hostname() -> None:
    with fake_keystone(FakeKeystone(identity_id=None)) as fake:
        facts = discover_cloud(_creds(fake.url), timeout=5, probe=False)
    assert facts.cpid == hashlib.md5(b"127.0.0.1").hexdigest()
    assert facts.cpid_source == "md5 of the auth URL hostname"


def test_refused_credentials_and_unreachable_keystone() -> None:
    with fake_keystone() as fake, pytest.raises(CredentialsError, match="refused the credentials") as info:
        discover_cloud(_creds(fake.url, "wrong-password"), timeout=5)
    assert "wrong-password" not in str(info.value)
    assert str(info.value).count(fake.url) == 1  # the URL once, not again in the account's description
    url = closed_port_url()
    with pytest.raises(DiscoveryError, match="cannot reach Keystone") as unreachable:
        discover_cloud(_creds(url), timeout=2)
    assert str(unreachable.value).endswith(": connection refused")  # no urllib3 pool text
