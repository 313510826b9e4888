"""Reusable fixtures: a throwaway PostgreSQL server, a database per test, a live collector.

Import them into a conftest (``from tests.pg_fixtures import *``, or list this module in
the root conftest's ``pytest_plugins``)::

    postgres_server   session: one PostgreSQL cluster (Debian's binaries, run as the
                      ``postgres`` user, which refuses root) on a free loopback port in a
                      temp dir; stopped at the end. Skips saying why when it cannot start,
                      but fails when CI=true.
    postgres_url      function: a fresh, empty database on that server
    database_url      function: parametrised ``sqlite`` (a temp file) and ``postgresql``, both
                      already at the collector's newest schema (copied from a template);
                      pin one with ``@pytest.mark.parametrize("database_url", ["sqlite"],
                      indirect=True)``
    live_server       function: the collector over ``database_url`` served by
                      ``make_server("127.0.0.1", 0, app)`` in a thread: ``.url`` (base
                      URL), ``.admin_token`` (a Foundation admin's API token), ``.app``,
                      ``.create_user(openid) -> token``

The server is shared process-wide (reference-counted), so importing these fixtures into
more than one conftest still starts one cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["LiveServer", "PostgresServer", "database_url", "live_server", "postgres_server", "postgres_url"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_START_TIMEOUT = 90


def _skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_pg_bin() -> Path | None:
    """The directory of Debian's PostgreSQL server binaries (newest version), or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def _install_postgresql() -> str:
    """apt-get install postgresql (root only); returns what happened, for the skip reason."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "PostgreSQL is not installed (apt-get install postgresql)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        return f"apt-get install postgresql failed: {done.stderr.strip()[-300:]}"
    return "installed"


@dataclass
class PostgresServer:
    """A running throwaway cluster; trust authentication for ``postgres`` on loopback only."""

    bin_dir: Path
    root: Path
    port: int = 0
    _counter: Any = field(default_factory=lambda: itertools.count(1))
    _template: str = ""
    _clean: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, timeout: float = _START_TIMEOUT) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:  # postgres refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        """initdb and start on a free loopback port (retrying if the port was taken meanwhile)."""
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")
        for _attempt in range(3):
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400 "
                "-c shared_buffers=128MB"
            )
            done = self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-o",
                options,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            )
            if done.returncode == 0:
                return
        log_file = self.root / "server.log"
        log = log_file.read_text(errors="replace")[-800:] if log_file.exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()[-300:]} {log}")

    def stop(self) -> None:
        """Stop the cluster (the postmaster this fixture started, by its pid if pg_ctl fails) and remove it."""
        pid_file = self.data_dir / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        if self.data_dir.exists():
            try:
                done = self._run(
                    str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", timeout=60
                )
                stopped = done.returncode == 0
            except subprocess.TimeoutExpired:
                stopped = False
            if not stopped and pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3) for ``database``."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a database (empty, or a copy of ``template``) and return its URL."""
        import psycopg

        name = name or f"test_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def migrated_template(self) -> str:
        """The name of a database migrated to the collector's newest schema (made once)."""
        with _lock:
            if not self._template:
                from webapp.store.database import make_engine, upgrade_database

                url = self.create_database("tcup_template")
                engine = make_engine(url)
                upgrade_database(engine)
                engine.dispose()
                self._template = "tcup_template"
        return self._template

    def lease_database(self) -> str:
        """A database at the newest schema with no rows: a recycled one, or a new template copy.

        Creating a database costs about a second on a busy machine; emptying one costs
        milliseconds, so :meth:`return_database` empties and keeps them.
        """
        with _lock:
            if self._clean:
                return self.url(self._clean.pop())
        return self.create_database(template=self.migrated_template())

    def return_database(self, url: str) -> None:
        """Empty a leased database's tables for the next test (dropped from the pool if that fails)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        try:
            with psycopg.connect(
                f"host=127.0.0.1 port={self.port} user=postgres dbname={name}", autocommit=True
            ) as conn:
                conn.execute("SET lock_timeout = '5s'")
                tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
                emptied = [t for t in tables if t not in ("alembic_version", "run_counts")]
                if emptied:
                    conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in emptied) + " RESTART IDENTITY CASCADE")
                if "run_counts" in tables:  # maintained counters: rows the migration made, reset to zero
                    conn.execute("UPDATE run_counts SET count = 0")
        except psycopg.Error:
            return
        with _lock:
            self._clean.append(name)


_lock = threading.RLock()
_server: PostgresServer | None = None
_users = 0
_failure: str | None = None


def acquire_postgres() -> PostgresServer:
    """Start the shared cluster on first use; raises RuntimeError saying why it cannot."""
    global _server, _users, _failure
    with _lock:
        if _failure:
            raise RuntimeError(_failure)
        if _server is None:
            bin_dir = find_pg_bin()
            if bin_dir is None:
                outcome = _install_postgresql()
                bin_dir = find_pg_bin()
                if bin_dir is None:
                    _failure = outcome
                    raise RuntimeError(outcome)
            if os.geteuid() == 0:
                try:
                    pwd.getpwnam("postgres")
                except KeyError:
                    _failure = "running as root and there is no 'postgres' user to run PostgreSQL as"
                    raise RuntimeError(_failure) from None
            server = PostgresServer(bin_dir=bin_dir, root=Path(tempfile.mkdtemp(prefix="tcup-pg-")))
            try:
                server.start()
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                server.stop()
                _failure = f"cannot start PostgreSQL from {bin_dir}: {exc}"
                raise RuntimeError(_failure) from exc
            _server = server
            atexit.register(server.stop)
        _users += 1
        return _server


def release_postgres() -> None:
    """Stop the shared cluster when its last user is done."""
    global _server, _users
    with _lock:
        _users -= 1
        if _users <= 0 and _server is not None:
            _server.stop()
            _server = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the test session."""
    try:
        server = acquire_postgres()
    except RuntimeError as exc:
        _skip_or_fail(str(exc))
        raise  # not reached
    try:
        yield server
    finally:
        release_postgres()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's cluster."""
    return postgres_server.create_database()


_sqlite_template: Path | None = None


def _sqlite_copy(directory: Path) -> str:
    """A SQLite file at the newest schema: a copy of one migrated once per process."""
    global _sqlite_template
    with _lock:
        if _sqlite_template is None:
            from webapp.store.database import make_engine, upgrade_database

            path = Path(tempfile.mkdtemp(prefix="tcup-sqlite-")) / "template.sqlite"
            engine = make_engine(f"sqlite:///{path}")
            upgrade_database(engine)
            engine.dispose()
            atexit.register(shutil.rmtree, path.parent, True)
            _sqlite_template = path
    target = directory / "tcup.sqlite"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the collector's newest schema: a SQLite file, or a PostgreSQL database.

    Dispose of every engine opened on it before the test ends (the app fixtures do).
    """
    if request.param == "sqlite":
        yield _sqlite_copy(tmp_path)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.lease_database()
    yield url
    server.return_database(url)


@dataclass
class LiveServer:
    """A collector served over HTTP on loopback."""

    url: str
    admin_token: str
    app: Any
    database_url: str

    def create_user(self, openid: str, *, foundation: bool = False) -> str:
        """Create a user and return a new API token for it."""
        from webapp.sessions import database
        from webapp.store import accounts

        with database(self.app).sessions() as sess:
            account = accounts.create_user(sess, openid=openid, foundation=foundation)
            return accounts.issue_token(sess, account.id)


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    """The collector over ``database_url``, served in a thread; stopped after the test."""
    from werkzeug.serving import make_server

    from webapp import create_app
    from webapp.sessions import database

    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", admin_token="", app=app, database_url=database_url)
    live.admin_token = live.create_user("admin", foundation=True)
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        database(app).engine.dispose()
