"""tcup-server: every command documented and working, through click and through flask."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from webapp import cli, settings

README = Path(cli.__file__).with_name("README.md").read_text()


@pytest.mark.parametrize("command", [*cli.COMMANDS, cli.serve_command], ids=lambda c: c.name)
def test_every_command_has_help_and_is_documented(command) -> None:  # type: ignore[no-untyped-def]
    assert command.help
    assert f"`{command.name}`" in README


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: settings.Setting) -> None:
    assert setting.help and f"`{setting.name}`" in README


def test_commands_end_to_end(tmp_path: Path, interop_dir: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite"}
    runner = CliRunner()
    result = runner.invoke(cli.cli, ["init-db"], env=env)
    assert result.exit_code == 0 and "revision" in result.output, result.output
    guidelines = tmp_path / "g"
    (guidelines / "add-ons").mkdir(parents=True)
    (guidelines / "2020.06.json").symlink_to(interop_dir / "2020.06.json")
    (guidelines / "add-ons" / "dns.2020.06.json").symlink_to(interop_dir / "add-ons" / "dns.2020.06.json")
    (guidelines / "readme.json").write_text("[]")
    result = runner.invoke(cli.cli, ["import-guidelines", str(guidelines)], env=env)
    assert result.exit_code == 0, result.output
    # a summary by default: the counts and the skip reasons, no warning lines
    lines = result.output.splitlines()
    assert lines[-1].startswith("2 imported, 0 unchanged, 1 skipped, ") and lines[-1].endswith("(--verbose lists them)")
    assert "skipped   1 file: not a guideline" in lines
    assert not any(line.startswith(("warning", "imported")) for line in lines) and len(lines) == 2
    result = runner.invoke(cli.cli, ["import-guidelines", "--verbose", str(guidelines)], env=env)
    assert result.exit_code == 0, result.output
    assert "unchanged 2020.06.json" in result.output and "unchanged dns.2020.06.json" in result.output
    assert "skipped   readme.json: not a guideline" in result.output
    assert any(line.startswith("warning   ") for line in result.output.splitlines())
    result = runner.invoke(cli.cli, ["create-admin", "--openid", "boss"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tcup_")
    assert runner.invoke(cli.cli, ["create-admin", "--openid", "boss"], env=env).exit_code != 0
    result = runner.invoke(cli.cli, ["create-user", "alice"], env=env)
    assert result.exit_code == 0 and result.output.strip().splitlines()[-1].startswith("tcup_")
    from webapp import create_app

    app = create_app({"DATABASE_URL": env["DATABASE_URL"]})
    profile = app.test_client().get("/v1/profile", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert profile == {"openid": "boss", "fullname": "Foundation admin", "email": "", "is_admin": True}
    assert "DATABASE_URL" in runner.invoke(cli.cli, ["settings"]).output


def test_flask_cli_knows_the_commands(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/flask.sqlite"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "init-db"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "revision" in done.stdout
