"""The devcloud for real: services answer, the non-admin accounts work, up/down/status behave."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
import uuid

import openstack
import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tcup.devcloud import devcloud_status, start_devcloud, stop_devcloud
from tcup.devcloud.processes import load_records
from tests.cloud_fixtures import DevcloudHandle
from tests.devcloud.conftest import alive

pytestmark = pytest.mark.cloud

SERVICES = {
    "keystone",
    "glance",
    "placement",
    "swift-proxy",
    "swift-account",
    "swift-container",
    "swift-object",
    "swift-container-updater",
    "swift-container-sync",
}


def _member_session(cloud: DevcloudHandle, name: str = "devcloud") -> ks_session.Session:
    auth = cloud.cloud(name)["auth"]
    plugin = v3.Password(
        auth_url=auth["auth_url"],
        username=auth["username"],
        password=auth["password"],
        project_name=auth["project_name"],
        user_domain_name="Default",
        project_domain_name="Default",
    )
    return ks_session.Session(auth=plugin)


def _tcup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tcup", *args], capture_output=True, text=True, timeout=600)


def test_every_service_answers(devcloud: DevcloudHandle) -> None:
    status = devcloud_status(root=devcloud.dir)
    assert status.running
    assert {svc.name for svc in status.services} == SERVICES
    assert all(svc.alive and svc.pid for svc in status.services)
    assert requests.get(devcloud.identity_url, timeout=10).json()["version"]["id"] == "v3.14"
    assert requests.get(f"{devcloud.image_url}/versions", timeout=10).status_code == 200
    assert requests.get(devcloud.placement_url, timeout=10).status_code == 200
    info = requests.get(f"{devcloud.swift_url}/info", timeout=10).json()
    assert {policy["name"] for policy in info["swift"]["policies"]} == {"Policy-0", "silver"}


def test_client_files_hold_passwords_privately(devcloud: DevcloudHandle) -> None:
    for path in (devcloud.clouds_yaml, devcloud.accounts_yaml, devcloud.admin_openrc, devcloud.demo_openrc):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    info_text = devcloud.info_file.read_text()
    for name in ("devcloud", "devcloud-alt", "devcloud-admin"):
        assert devcloud.cloud(name)["auth"]["password"] not in info_text
    info = json.loads(info_text)
    assert info["clouds"]["member"] == {"cloud": "devcloud", "username": "demo", "project": "demo"}
    assert devcloud.openrc("demo")["OS_USERNAME"] == "demo"
    assert devcloud.openrc("admin")["OS_AUTH_URL"] == devcloud.identity_url


def test_non_admin_member_authenticates_with_keystoneauth(devcloud: DevcloudHandle) -> None:
    sess = _member_session(devcloud)
    access = sess.auth.get_access(sess)  # type: ignore[union-attr]
    assert access.project_name == "demo"
    assert "member" in access.role_names and "admin" not in access.role_names
    assert sess.get_endpoint(service_type="image", interface="public").rstrip("/") == devcloud.image_url
    swift_endpoint = sess.get_endpoint(service_type="object-store", interface="public")
    assert swift_endpoint == f"{devcloud.swift_url}/v1/AUTH_{access.project_id}"


# NOTE: openstacksdk warns about its own deprecations (InfluxDB on every connection, upload_image)
@pytest.mark.filterwarnings("ignore::openstack.warnings._RemovedInSDKWarning")
def test_member_uploads_and_downloads_an_image_with_openstacksdk(devcloud: DevcloudHandle) -> None:
    config = openstack.config.OpenStackConfig(config_files=[str(devcloud.clouds_yaml)])
    conn = openstack.connection.Connection(config=config.get_one("devcloud"))
    payload = uuid.uuid4().bytes * 4096
    name = f"tcup-test-{uuid.uuid4().hex[:8]}"
    image = conn.image.create_image(
        name=name, data=payload, disk_format="raw", container_format="bare", allow_duplicates=True
    )
    try:
        assert conn.image.get_image(image.id).status == "active"
        assert conn.image.download_image(image.id).content == payload
        assert [found.id for found in conn.image.images(name=name)] == [image.id]
    finally:
        conn.image.delete_image(image.id)
    conn.close()


def test_member_creates_a_container_and_an_object_in_swift(devcloud: DevcloudHandle) -> None:
    sess = _member_session(devcloud)
    account = sess.get_endpoint(service_type="object-store", interface="public")
    headers = {"X-Auth-Token": sess.get_token()}
    container = f"{account}/tcup-test-{uuid.uuid4().hex[:8]}"
    assert requests.put(container, headers=headers, timeout=30).status_code == 201
    assert requests.put(f"{container}/hello.txt", data=b"hello", headers=headers, timeout=30).status_code == 201
    assert requests.get(f"{container}/hello.txt", headers=headers, timeout=30).content == b"hello"
    assert requests.get(container, headers=headers, timeout=30).text.split() == ["hello.txt"]
    assert requests.delete(f"{container}/hello.txt", headers=headers, timeout=30).status_code == 204
    assert requests.delete(container, headers=headers, timeout=30).status_code == 204


def test_alt_account_cannot_read_the_member_account(devcloud: DevcloudHandle) -> None:
    member_account = _member_session(devcloud).get_endpoint(service_type="object-store", interface="public")
    alt = _member_session(devcloud, "devcloud-alt")
    resp = requests.get(member_account, headers={"X-Auth-Token": alt.get_token()}, timeout=30)
    assert resp.status_code == 403


def test_status_command_reports_each_service(devcloud: DevcloudHandle) -> None:
    text = _tcup("devcloud", "status", "--dir", str(devcloud.dir))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[-1] == "running"
    assert "keystone" in text.stdout and "answering" in text.stdout
    as_json = _tcup("devcloud", "status", "--dir", str(devcloud.dir), "--json")
    report = json.loads(as_json.stdout)
    assert report["running"] is True
    ports = {svc["name"]: svc["port"] for svc in report["services"]}
    assert ports["keystone"] == devcloud.ports["keystone"] and ports["swift-proxy"] == devcloud.ports["swift_proxy"]


def test_up_again_reports_running_and_changes_nothing(devcloud: DevcloudHandle) -> None:
    before = {record.name: record for record in load_records(devcloud.dir / "run")}
    started = time.monotonic()
    result = _tcup("devcloud", "up", "--dir", str(devcloud.dir))
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stderr
    assert time.monotonic() - started < 20
    assert {record.name: record for record in load_records(devcloud.dir / "run")} == before


def test_up_with_another_port_base_is_refused(devcloud: DevcloudHandle) -> None:
    other = devcloud.ports["keystone"] + 500
    result = _tcup("devcloud", "up", "--dir", str(devcloud.dir), "--port-base", str(other))
    assert result.returncode == 2  # an error, as for every tcup command
    assert f"created with port base {devcloud.ports['keystone']}, not {other}" in result.stderr
    assert devcloud_status(root=devcloud.dir).running


def test_down_stops_only_its_own_processes_and_up_restarts(
    devcloud: DevcloudHandle, bystander: subprocess.Popen[bytes]
) -> None:
    records = load_records(devcloud.dir / "run")
    assert {record.name for record in records} == SERVICES
    started = time.monotonic()
    stopped = stop_devcloud(root=devcloud.dir)
    down_seconds = time.monotonic() - started
    assert set(stopped) == SERVICES
    assert not any(alive(record.pid) for record in records)
    assert alive(bystander.pid)
    assert load_records(devcloud.dir / "run") == []
    assert _tcup("devcloud", "status", "--dir", str(devcloud.dir)).returncode == 1
    assert (devcloud.dir / "state" / "keystone" / "keystone.db").is_file()  # state is kept
    result = start_devcloud(root=devcloud.dir)  # a warm restart, for the tests after this one
    print(f"down {down_seconds:.1f} s, warm up {result.seconds:.0f} s, {result.rss_mib} MiB")
    assert not result.already_running
    assert result.info["ports"] == devcloud.ports
    assert devcloud_status(root=devcloud.dir).running
    assert alive(bystander.pid)
