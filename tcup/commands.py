"""The list of ``tcup`` sub-commands, each defined beside the code it drives."""

from __future__ import annotations

import click

from tcup.devcloud.cli import devcloud_group
from tcup.list_tests import check_guideline_command, list_tests_command
from tcup.run_command import run_command
from tcup.self_check import self_check_command
from tcup.tempest_env import install_tempest_command
from tcup.upload_command import sign_command, upload_command, upload_subunit_command

COMMANDS: list[click.Command] = [
    list_tests_command,
    check_guideline_command,
    devcloud_group,
    install_tempest_command,
    run_command,
    upload_command,
    upload_subunit_command,
    sign_command,
    self_check_command,
]
