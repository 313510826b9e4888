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
from webapp.store.database import check_writable, describe_failure, safe_url, upgrade_database
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
@click.option("--verbose", "-v", is_flag=True, help="list every file imported, unchanged or skipped, and every warning")
@with_appcontext
def import_guidelines_command(directory: Path, verbose: bool) -> None:
    """Import every guideline file found in DIRECTORY, recursively (detected by shape).

    Prints a summary: counts, and the skipped files grouped by reason; --verbose lists every
    file and every data-quality warning of the files (`tcup check-guideline` shows them too).
    """
    with sessions.database().sessions() as sess:
        report = catalog.import_guidelines(sess, directory)
    if verbose:
        for name in report.imported:
            click.echo(f"imported  {name}")
        for name in report.unchanged:
            click.echo(f"unchanged {name}")
        for where, why in report.skipped:
            click.echo(f"skipped   {where}: {why}")
        for warning in report.warnings:
            click.echo(f"warning   {warning}")
    else:
        reasons: dict[str, int] = {}
        for _where, why in report.skipped:
            reason = why.split(" (", 1)[0]
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            click.echo(f"skipped   {count} file{'s' if count > 1 else ''}: {reason}")
    click.echo(
        f"{len(report.imported)} imported, {len(report.unchanged)} unchanged, "
        f"{len(report.skipped)} skipped, {len(report.warnings)} warnings"
        + ("" if verbose or not (report.skipped or report.warnings) else " (--verbose lists them)")
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


def _warm_worker(worker: object) -> None:
    """After a worker has built its app, before it takes requests: compile every page template
    (a sixth of a second, which the first visitor of each page would wait for otherwise), then
    keep the start-up heap out of every garbage collection.

    An upload allocates thousands of objects; without the freeze, each collection walks the
    app's whole heap as well (about a tenth of an upload's CPU time).
    """
    import gc

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        for name in app.jinja_env.list_templates():
            app.jinja_env.get_template(name)
    gc.freeze()


def _preload_scoring() -> float:
    """Import the scoring engine in the master, so that every worker forks with it loaded
    (sharing its pages) instead of importing it on its first scoring request; the seconds taken."""
    import os
    import time

    from webapp.api.scoring import load_engine

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS thread pool to carry across fork
    began = time.perf_counter()
    load_engine()
    return time.perf_counter() - began


def _metrics_dir() -> str:
    """Set up prometheus-client's multiprocess mode for gunicorn's workers; returns the folder.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is emptied of the files of an earlier run;
    without one, a private temporary folder is made (and removed at exit).
    """
    import atexit
    import os
    import shutil
    import tempfile

    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return given
    made = tempfile.mkdtemp(prefix="tcup-metrics-")
    atexit.register(shutil.rmtree, made, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made


def _worker_exit(_server: object, worker: Any) -> None:
    """A worker ended: drop its share of the live gauges (prometheus-client multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


@click.command("serve")
@click.option(
    "--bind", "-b", default="127.0.0.1:8000", show_default=True, envvar="TCUP_BIND", help="address:port to listen on"
)
@click.option(
    "--workers",
    "-w",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="TCUP_WORKERS",
    help="gunicorn worker processes",
)
@click.option(
    "--threads",
    default=16,
    show_default=True,
    type=click.IntRange(1, 256),
    help="request threads per worker (gunicorn's gthread workers): slow clients hold a thread, never a worker",
)
@click.option("--timeout", default=60, show_default=True, type=int, help="worker timeout in seconds")
@click.option("--access-log/--no-access-log", default=False, help="gunicorn's own access log too (stderr)")
def serve_command(bind: str, workers: int, threads: int, timeout: int, access_log: bool) -> None:
    """Serve the API with gunicorn's threaded workers (migrating the database first unless TCUP_AUTO_MIGRATE=false).

    Each worker answers up to --threads requests at once. A request body must arrive within
    REQUEST_BODY_TIMEOUT seconds (a 408 otherwise), so a stalled client holds one thread for
    that long at most; in production, a buffering proxy in front (nginx) holds none. Every
    request is logged as one JSON line on stderr (TCUP_REQUEST_LOG). /metrics sums the figures
    of every worker through PROMETHEUS_MULTIPROC_DIR (made if unset).
    """
    import gc
    import sys

    if "prometheus_client" in sys.modules:  # NOTE: it picks its storage when first imported
        raise click.ClickException("internal: prometheus_client was imported before serve set up its folder")
    metrics_dir = _metrics_dir()
    from gunicorn.app.base import BaseApplication

    from webapp import create_app

    app = create_app()  # migrates once, in the master, before workers start
    check_writable(sessions.database(app).engine)  # a read-only database would fail every upload
    preloaded = f", scoring engine loaded in {_preload_scoring():.1f} s" if app.config["SCORING_PRELOAD"] else ""
    click.echo(
        f"serving {safe_url(app.config['DATABASE_URL'])} on http://{bind} with {workers} workers of {threads} threads "
        f"(metrics in {metrics_dir}{preloaded})",
        err=True,
    )
    if not app.config["PUBLIC_URL"]:
        click.echo(
            "PUBLIC_URL is not set: links in answers are relative (/results/<id>); "
            "set TCUP_PUBLIC_URL to the address users reach",
            err=True,
        )
    sessions.database(app).engine.dispose()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": bind,
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": timeout,
                "accesslog": "-" if access_log else None,
                "keepalive": 5,
                "post_worker_init": _warm_worker,
                "child_exit": _worker_exit,
            }
            # NOTE: gunicorn 25.1+ opens a control socket at one path per user ($HOME/.gunicorn), which
            # replicas on one host would share and a read-only root file system refuses; nothing here uses it
            if "control_socket_disable" in self.cfg.settings:
                options["control_socket_disable"] = True
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return create_app({"AUTO_MIGRATE": False})

    # NOTE: objects the master made so far (the preloaded engine's above all) are kept out of every
    # collection, so that no worker's collector writes to their pages and copies them on write
    gc.freeze()
    _Server().run()


class DatabaseFailure(click.ClickException):
    """A database that cannot be opened, reached or written: one line, exit status 2."""

    exit_code = 2


class _Commands(click.Group):
    """The command group; a database fault in any command is one line saying what to fix."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            problem = describe_failure(exc, opening=True)
            if problem is None:
                raise
            raise DatabaseFailure(problem) from None


@click.group(cls=_Commands)
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
