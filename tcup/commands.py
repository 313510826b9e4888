"""The list of ``tcup`` sub-commands, each defined beside the code it drives."""

from __future__ import annotations

import click

from tcup.devcloud.cli import devcloud_group
from tcup.list_tests import check_guideline_command, list_tests_command
from tcup.tempest_env import install_tempest_command

COMMANDS: list[click.Command] = [
    list_tests_command,
    check_guideline_command,
    devcloud_group,
    install_tempest_command,
]
