"""``tcup run`` refuses bad option combinations before touching the cloud, with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tcup.cli import cli
from tests.tcup.fake_server import closed_port_url

ENV = {
    "OS_AUTH_URL": "http://127.0.0.1:1/v3",
    "OS_USERNAME": "demo",
    "OS_PASSWORD": "pw-123456",
    "OS_PROJECT_NAME": "demo",
    "OS_CLOUD": "",
}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "choose the tests"),
        (["-c", "identity-v3-*"], "--capability needs --guideline"),
        (["--regex", "x", "--all"], "exclude each other"),
        (["--all", "--sign", "key"], "--sign signs an upload"),
        (["--all", "--upload", "http://x", "--extended"], "--extended needs --upload URL and --sign KEY"),
        (
            ["--all", "--upload", "http://x", "--product-version", "v1"],
            "--product-version needs --upload URL and --sign",
        ),
        (["--all", "--product-version", "v1"], "--product-version needs --upload URL and --sign"),
        (["--all", "--tempest-option", "novalue"], "SECTION.KEY=VALUE"),
    ],
)
def test_usage_errors(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "-o", str(tmp_path / "out"), *args], env=ENV)
    assert result.exit_code == 2
    assert message in result.output


def test_incomplete_credentials_are_explained(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--all", "-o", str(tmp_path)], env={**ENV, "OS_PASSWORD": ""})
    assert result.exit_code == 2 and "no password (OS_PASSWORD" in result.output


def test_unreachable_keystone_is_reported_without_the_password(tmp_path: Path) -> None:
    url = closed_port_url()
    result = CliRunner().invoke(
        cli, ["run", "--all", "-o", str(tmp_path / "out")], env={**ENV, "OS_AUTH_URL": f"{url}/v3"}
    )
    assert result.exit_code == 2 and f"cannot reach Keystone at {url}/v3" in result.output
    assert "pw-123456" not in result.output
    assert "HTTPConnectionPool" not in result.output and result.output.rstrip().endswith("connection refused")


def test_unreachable_keystone_is_one_clean_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = closed_port_url()
    env = {**ENV, "OS_AUTH_URL": f"{url}/v3", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "tcup", "run", "--all", "-o", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower() or "WARNING" in line]
    assert errors == [f"tcup: error: cannot reach Keystone at {url}/v3: connection refused"], proc.stderr
