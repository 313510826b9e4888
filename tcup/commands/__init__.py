"""The `tcup` sub-commands, one module per command group (as stestr's `commands/`).

Each module parses options, calls library code and returns an exit status; errors reach
:func:`tcup.cli.main`, which translates them once.
"""

from __future__ import annotations

import click

from tcup.commands.accounts import accounts_command
from tcup.commands.devcloud import devcloud_group
from tcup.commands.list_tests import check_guideline_command, list_tests_command
from tcup.commands.run import run_command
from tcup.commands.self_check import self_check_command
from tcup.commands.tempest import install_tempest_command
from tcup.commands.upload import sign_command, upload_command, upload_subunit_command

COMMANDS: list[click.Command] = [
    list_tests_command,
    check_guideline_command,
    devcloud_group,
    install_tempest_command,
    run_command,
    accounts_command,
    upload_command,
    upload_subunit_command,
    sign_command,
    self_check_command,
]
