"""``tcup devcloud up|down|status``: a thin click layer over :mod:`tcup.devcloud.cloud`.

Errors reach :mod:`tcup.cli`, which reports them in one line with exit status 2, as for every
command; ``status`` exits 1 when the devcloud is not running (a state, not an error).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tcup.devcloud.cloud import devcloud_status, start_devcloud, stop_devcloud
from tcup.devcloud.layout import default_dir

__all__ = ["devcloud_group"]

_DIR_OPTION = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="State directory [default: $TCUP_DEVCLOUD_DIR or ~/.local/share/tcup/devcloud].",
)


def _echo(message: str) -> None:
    click.echo(f"devcloud: {message}", err=True)


@click.group("devcloud")
def devcloud_group() -> None:
    """A real OpenStack on 127.0.0.1 for trying tcup: Keystone, Glance, Swift and Placement,
    plus Nova, Neutron and Cinder with --services platform.

    The services come from PyPI into a cached virtualenv; all state lives in one directory.
    """


@devcloud_group.command("up")
@_DIR_OPTION
@click.option(
    "--port-base",
    type=click.IntRange(1024, 65476),
    default=None,
    help="First of 60 loopback ports: keystone +0, glance +10, placement +20, swift +30..33, "
    "nova +40, neutron +41, cinder +42, rabbitmq +50..52, mariadb +53 "
    "[default: 25000, or the base the state was created with].",
)
@click.option(
    "--services",
    type=click.Choice(["storage", "platform"]),
    default=None,
    help="storage: Keystone, Glance, Placement, Swift; platform: those plus Nova, Neutron, Cinder, "
    "RabbitMQ and MariaDB [default: storage, or what the state was created with].",
)
def up_command(directory: Path | None, port_base: int | None, services: str | None) -> None:
    """Install (once), configure and start the devcloud; do nothing if it is already running."""
    root = directory or default_dir()
    result = start_devcloud(root=root, port_base=port_base, services=services, echo=_echo)
    info = result.info
    if result.already_running:
        _echo(f"already running in {info['dir']}")
    else:
        _echo(f"ready in {result.seconds:.0f} s, {result.rss_mib} MiB resident")
    click.echo(f"identity:  {info['urls']['identity']}")
    click.echo(
        f"clouds:    {info['files']['clouds_yaml']} (clouds: {', '.join(c['cloud'] for c in info['clouds'].values())})"
    )
    click.echo(f"openrc:    {info['files']['demo_openrc']} (non-admin), {info['files']['admin_openrc']}")
    click.echo(f"accounts:  {info['files']['accounts_yaml']}")
    click.echo(f"details:   {Path(info['dir']) / 'etc' / 'devcloud.json'}")


@devcloud_group.command("down")
@_DIR_OPTION
@click.option("--purge", is_flag=True, help="Also delete the state directory.")
def down_command(directory: Path | None, purge: bool) -> None:
    """Stop the processes this devcloud started (by recorded pid and start time only)."""
    root = directory or default_dir()
    stopped = stop_devcloud(root=root, purge=purge)
    _echo(f"stopped {len(stopped)} process(es) in {root}" + (" and deleted it" if purge else ""))


@devcloud_group.command("status")
@_DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_command(directory: Path | None, as_json: bool) -> None:
    """Report each service: recorded pid alive, port answering. Exit 1 unless all are up."""
    root = directory or default_dir()
    status = devcloud_status(root=root)
    if as_json:
        click.echo(json.dumps(status.as_dict(), indent=2))
    elif not status.services:
        click.echo(f"no devcloud in {root}")
    else:
        for svc in status.services:
            answer = {True: "answering", False: "NOT answering", None: "-"}[svc.answering]
            port = str(svc.port) if svc.port else "-"
            state = f"pid {svc.pid}" if svc.alive else "stopped"
            click.echo(f"{svc.name:<24} {state:<12} port {port:<6} {answer:<14} {svc.rss_kib // 1024:>5} MiB")
        click.echo("running" if status.running else "not running")
    raise SystemExit(0 if status.running else 1)
