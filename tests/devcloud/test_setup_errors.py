"""Quick checks without a cloud: layout defaults, pins, venv keys and the errors users see."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tcup.devcloud import start_devcloud
from tcup.devcloud.layout import Layout, Ports, default_dir
from tcup.errors import DevcloudError, TempestNotFound
from tcup.tempest_env import find_tempest, pinned_version, tempest_spec
from tcup.venv_cache import VenvSpec, venv_path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_default_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TCUP_DEVCLOUD_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_dir() == tmp_path / "tcup" / "devcloud"
    monkeypatch.setenv("TCUP_DEVCLOUD_DIR", str(tmp_path / "explicit"))
    assert default_dir() == tmp_path / "explicit"


def test_ports_sit_at_fixed_offsets_from_the_base() -> None:
    ports = Ports(25000)
    assert ports.as_dict() == {
        "keystone": 25000,
        "glance": 25010,
        "placement": 25020,
        "swift_proxy": 25030,
        "swift_account": 25031,
        "swift_container": 25032,
        "swift_object": 25033,
    }
    with pytest.raises(ValueError):
        Ports(80)


def test_a_busy_port_is_reported_with_the_fix(tmp_path: Path, busy_port: int) -> None:
    with pytest.raises(DevcloudError, match=rf"{busy_port} \(keystone\).*--port-base"):
        start_devcloud(root=tmp_path, port_base=busy_port)


def test_the_cli_reports_errors_without_a_traceback(tmp_path: Path, busy_port: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tcup", "devcloud", "up", "--dir", str(tmp_path), "--port-base", str(busy_port)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "already in use" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_state_made_with_another_port_base_is_refused(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.create()
    layout.settings_file.write_text(json.dumps({"port_base": 25000}))
    with pytest.raises(DevcloudError, match="created with port base 25000.*down --purge"):
        start_devcloud(root=tmp_path, port_base=25100)


def test_status_and_down_of_an_empty_directory(tmp_path: Path) -> None:
    status = subprocess.run(
        [sys.executable, "-m", "tcup", "devcloud", "status", "--dir", str(tmp_path)], capture_output=True, text=True
    )
    assert status.returncode == 1 and "no devcloud" in status.stdout
    down = subprocess.run(
        [sys.executable, "-m", "tcup", "devcloud", "down", "--dir", str(tmp_path)], capture_output=True, text=True
    )
    assert down.returncode == 0 and "stopped 0" in down.stderr


def test_tempest_pins_live_in_one_file() -> None:
    assert pinned_version("tempest") == "47.0.0"
    assert pinned_version("stestr") == "4.2.1"
    assert pinned_version("python-tempestconf") == "3.5.4"
    assert tempest_spec().requirements == ("tempest==47.0.0", "stestr==4.2.1", "python-tempestconf==3.5.4")


def test_venv_key_changes_with_the_pins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    one = VenvSpec(name="x", requirements=("a==1",), constraints="a==1\n")
    two = VenvSpec(name="x", requirements=("a==1",), constraints="a==1\nb==2\n")
    assert venv_path(one).parent == tmp_path / "tcup" / "venvs"
    assert venv_path(one).name.startswith("x-")
    assert venv_path(one) == venv_path(one) != venv_path(two)


def test_an_interpreter_without_tempest_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCUP_TEMPEST_PYTHON", "/bin/false")
    with pytest.raises(TempestNotFound, match="TCUP_TEMPEST_PYTHON.*install-tempest"):
        find_tempest()
    with pytest.raises(TempestNotFound, match="--python"):
        find_tempest(python="/bin/false")


def test_no_tempest_anywhere_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TCUP_TEMPEST_PYTHON", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty venv cache
    probe = subprocess.run([sys.executable, "-c", "import tempest"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this interpreter can import tempest (the Docker image case)")
    with pytest.raises(TempestNotFound, match="tcup install-tempest.*Docker image"):
        find_tempest()
