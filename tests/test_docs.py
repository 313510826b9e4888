"""Help texts and the README stay in step with the code."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

REPO = Path(__file__).resolve().parent.parent
CLIS = {"tcup": "tcup.cli:cli", "tcup-score": "scoring.cli:cli", "tcup-server": "webapp.cli:cli"}


def _load(spec: str) -> click.Command | None:
    module, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def _walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, f"{path} {name}")


def _all_commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for script, spec in CLIS.items():
        command = _load(spec)
        if command is not None:
            found.extend(_walk(command, script))
    return found


@pytest.mark.parametrize(("path", "command"), _all_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help(path: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`{path}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"`{path}` option {param.opts} has no help text"


def test_console_scripts_are_declared() -> None:
    text = (REPO / "pyproject.toml").read_text()
    for script, spec in CLIS.items():
        module = spec.split(":")[0]
        assert f'{script} = "{module}:main"' in text


@pytest.mark.parametrize("path", ["tcup list-tests", "tcup check-guideline", "tcup devcloud"])
def test_readme_mentions_commands(path: str) -> None:
    assert path in (REPO / "README.md").read_text()


def test_every_service_setting_is_in_the_readme() -> None:
    settings = pytest.importorskip("webapp.settings")
    readme = (REPO / "README.md").read_text()
    for setting in settings.SETTINGS:
        assert f"`{setting.name}`" in readme, f"README does not document {setting.name}"


def test_runner_report_exit_statuses_and_options_are_documented() -> None:
    """The README says what `tcup run` exits with, what each test state means, and the runner's options."""
    readme = (REPO / "README.md").read_text()
    from tcup.cli import cli
    from tcup.verdicts import STATES

    for state in STATES:
        assert f"| `{state.value}` |" in readme, f"README does not explain the state {state.value}"
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert status in readme
    for command, options in {
        "run": ("--format", "--exemptions", "--environment", "--timeout", "--token", "--accounts-file"),
        "upload": ("--timeout",),
        "accounts": ("--from-cloud", "--force", "--os-client-config-file"),
    }.items():
        assert f"tcup {command}" in readme
        known = {o for p in cli.commands[command].params for o in getattr(p, "opts", [])}
        for option in options:
            assert option in known and option in readme, f"tcup {command} {option}"
    assert "Idempotency-Key" in readme and "tcup/data/exemptions.yaml" in readme
