"""``tcup-server``: serve the collector with gunicorn and run its admin commands.

Every command is a thin shell over an importable function. The same commands are
available as ``flask --app webapp <command>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from webapp import sessions, settings
from webapp.store import accounts, catalog, runs
from webapp.store.database import safe_url, upgrade_database
from webapp.store.errors import StoreError


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    revision = upgrade_database(sessions.database().engine)
    with sessions.database().sessions() as sess:
        public = runs.recount(sess)
    click.echo(f"{public} public runs")
    click.echo(f"database at revision {revision}: {safe_url(current_app.config['DATABASE_URL'])}")


@click.command("import-guidelines")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def import_guidelines_command(directory: Path) -> None:
    """Import every guideline file found in DIRECTORY, recursively (detected by shape)."""
    with sessions.database().sessions() as sess:
        report = catalog.import_guidelines(sess, directory)
    for name in report.imported:
        click.echo(f"imported  {name}")
    for name in report.unchanged:
        click.echo(f"unchanged {name}")
    for where, why in report.skipped:
        click.echo(f"skipped   {where}: {why}")
    for warning in report.warnings:
        click.echo(f"warning   {warning}")
    click.echo(
        f"{len(report.imported)} imported, {len(report.unchanged)} unchanged, "
        f"{len(report.skipped)} skipped, {len(report.warnings)} warnings"
    )


def _create(openid: str, fullname: str, email: str, *, foundation: bool) -> None:
    with sessions.database().sessions() as sess:
        try:
            account = accounts.create_user(sess, openid=openid, fullname=fullname, email=email, foundation=foundation)
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
        token = accounts.issue_token(sess, account.id, label="created by tcup-server")
    role = "Foundation admin" if foundation else "user"
    click.echo(f"created {role} {openid!r}")
    click.echo("API token (shown once; keep it secret, send it as 'Authorization: Bearer <token>'):")
    click.echo(token)


@click.command("create-admin")
@click.option("--openid", default="admin", show_default=True, help="the admin's user id")
@click.option("--fullname", default="Foundation admin", show_default=True, help="the admin's full name")
@click.option("--email", default="", help="the admin's e-mail address")
@with_appcontext
def create_admin_command(openid: str, fullname: str, email: str) -> None:
    """Create the Foundation group and an admin in it; print the admin's API token once."""
    _create(openid, fullname, email, foundation=True)


@click.command("create-user")
@click.argument("openid")
@click.option("--fullname", default="", help="the user's full name")
@click.option("--email", default="", help="the user's e-mail address")
@with_appcontext
def create_user_command(openid: str, fullname: str, email: str) -> None:
    """Create user OPENID and print an API token once (for key registration and private runs)."""
    _create(openid, fullname, email, foundation=False)


@click.command("settings")
def settings_command() -> None:
    """List every setting with its default (set them as TCUP_<NAME> environment variables)."""
    for name, default, text in settings.describe():
        click.echo(f"{name} = {default}\n    {text}")


COMMANDS = (init_db_command, import_guidelines_command, create_admin_command, create_user_command, settings_command)


def register(app: Flask) -> None:
    """Make the commands available as ``flask --app webapp <command>``."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _freeze_heap(_worker: object) -> None:
    """After a worker has built its app: keep the start-up heap out of every garbage collection.

    An upload allocates thousands of objects; without this, each collection walks the
    app's whole heap as well (about a tenth of an upload's CPU time).
    """
    import gc

    gc.freeze()


@click.command("serve")
@click.option("--bind", "-b", default="127.0.0.1:8000", show_default=True, help="address:port to listen on")
@click.option(
    "--workers", "-w", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes"
)
@click.option("--timeout", default=60, show_default=True, type=int, help="worker timeout in seconds")
@click.option("--access-log/--no-access-log", default=False, help="log every request to stderr")
def serve_command(bind: str, workers: int, timeout: int, access_log: bool) -> None:
    """Serve the API with gunicorn (migrating the database first)."""
    from gunicorn.app.base import BaseApplication

    from webapp import create_app

    app = create_app()  # migrates once, in the master, before workers start
    click.echo(f"serving {safe_url(app.config['DATABASE_URL'])} on http://{bind} with {workers} workers", err=True)
    sessions.database(app).engine.dispose()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": bind,
                "workers": workers,
                "timeout": timeout,
                "accesslog": "-" if access_log else None,
                "keepalive": 5,
                "post_worker_init": _freeze_heap,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return create_app({"AUTO_MIGRATE": False})

    _Server().run()


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """The tcup collector service (DATABASE_URL and TCUP_* settings come from the environment)."""
    if ctx.invoked_subcommand in ("serve", "settings", None):
        return
    from webapp import create_app

    app = create_app()
    ctx.with_resource(app.app_context())


for _command in (*COMMANDS, serve_command):
    cli.add_command(_command)


def main() -> None:
    """The ``tcup-server`` console script."""
    cli()


if __name__ == "__main__":
    main()
