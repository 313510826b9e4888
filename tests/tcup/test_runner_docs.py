"""Every runner command documents itself."""

from __future__ import annotations

import click
import pytest

from tcup.commands.run import run_command
from tcup.commands.self_check import self_check_command
from tcup.commands.upload import sign_command, upload_command, upload_subunit_command

COMMANDS = [run_command, upload_command, upload_subunit_command, sign_command, self_check_command]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_command_has_help(command: click.Command) -> None:
    assert command.help and len(command.help) > 40
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{command.name} {param.opts} has no help"
