"""``tcup accounts``: build Tempest's accounts file from clouds.yaml entries, without editing YAML."""

from __future__ import annotations

from pathlib import Path

import click

from tcup.accounts_file import accounts_from_clouds, write_accounts_file

__all__ = ["accounts_command"]


@click.command("accounts")
@click.option(
    "--from-cloud",
    "clouds",
    multiple=True,
    required=True,
    metavar="NAME",
    help="A clouds.yaml entry to add as an account (repeatable; e.g. a member, a reader in the same "
    "project, a user of a second project).",
)
@click.option(
    "--os-client-config-file",
    "clouds_file",
    envvar="OS_CLIENT_CONFIG_FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="clouds.yaml to read the entries from [env: OS_CLIENT_CONFIG_FILE].",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The accounts file to write (mode 0600).",
)
@click.option("--force", is_flag=True, help="Replace the file when it exists.")
def accounts_command(clouds: tuple[str, ...], clouds_file: str | None, output: Path, force: bool) -> None:
    """Write a Tempest accounts file for `tcup run --accounts-file`, from clouds.yaml entries.

    Each entry is checked by logging in with it; its roles decide the persona Tempest sees. Admin
    accounts are refused. Passwords go to the file only, never to the terminal.
    """
    accounts = accounts_from_clouds(clouds, config_file=clouds_file)
    write_accounts_file(output, accounts, overwrite=force)
    for account in accounts:
        click.echo(f"  {account.username} in project {account.project_name} ({', '.join(account.roles)})", err=True)
    click.echo(f"{output}: {len(accounts)} accounts")
