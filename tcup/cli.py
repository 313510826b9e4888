"""The ``tcup`` command line: parse arguments, call one function, report errors once.

The sub-commands live in :mod:`tcup.commands`. Exit status of every command: 0 success (for
``tcup run``: compliant), 1 the tests did not pass (not compliant), 2 could not run (every error,
usage errors included), 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from interop_model.errors import InteropModelError
from tcup.errors import TcupError


def _self_check(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from tcup.commands.self_check import self_check_command

    ctx.exit(ctx.invoke(self_check_command) or 0)


class CommandFailed(click.ClickException):
    """A TcupError (or a bad guideline or run document) as the user sees it: one line, exit status 2."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message

    def show(self, file: Any = None) -> None:
        click.echo(f"tcup: error: {self.format_message()}", err=True)


class TcupGroup(click.Group):
    """The tcup group: the one place that turns library errors into a message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (TcupError, InteropModelError) as exc:
            raise CommandFailed(str(exc)) from exc


@click.group(cls=TcupGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tcup")
@click.option(
    "--self-check",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_self_check,
    help="Check the installation (Python packages, Tempest, its test index) without a cloud, and exit.",
)
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
def cli(verbose: int) -> None:
    """tcup: test, collect, upload and publish interoperability results.

    Runs the Tempest tests of an interop guideline against a cloud, reports
    compliance per capability, and uploads the results to a collector service.
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbose == 0:
        # NOTE: keystoneauth warns before every failed login; tcup's own error line says it better
        logging.getLogger("keystoneauth").setLevel(logging.ERROR)


def _register() -> None:
    from tcup import commands

    for command in commands.COMMANDS:
        cli.add_command(command)


_register()


def main() -> None:
    """Entry point of the ``tcup`` console script."""
    try:
        rv = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (TcupError, InteropModelError) as exc:  # NOTE: raised outside a command (the group's own options)
        click.echo(f"tcup: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    if isinstance(rv, int) and rv:
        sys.exit(rv)
