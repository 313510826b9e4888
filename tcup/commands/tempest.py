"""``tcup install-tempest``: build the cached venv of the pinned Tempest."""

from __future__ import annotations

import click

from tcup.tempest_env import install_tempest

__all__ = ["install_tempest_command"]


@click.command("install-tempest")
def install_tempest_command() -> None:
    """Install the pinned Tempest, stestr and python-tempestconf into a cached virtualenv.

    The venv lives under ~/.cache/tcup/venvs/ and is reused while the pins stay the same.
    """
    env = install_tempest(echo=lambda msg: click.echo(msg, err=True))
    click.echo(f"tempest {env.version}: {env.python}")
