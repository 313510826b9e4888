"""The ``tcup`` command line: parse arguments, call one function, report errors once.

Each sub-command lives beside the code it drives and is attached here.
"""

from __future__ import annotations

import logging
import sys

import click

from interop_model.errors import InteropModelError
from tcup.errors import TcupError


def _self_check(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from tcup.commands.self_check import self_check_command

    ctx.exit(ctx.invoke(self_check_command) or 0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    except (TcupError, InteropModelError) as exc:
        click.echo(f"tcup: error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    if isinstance(rv, int) and rv:
        sys.exit(rv)
