"""The platform's message queue and database: RabbitMQ and MariaDB from Debian, private to a devcloud.

Neither is a system service here: each runs as a plain process of the devcloud, on its own
loopback port, with all its files under ``DIR/state``, and ``down`` stops it like any other.

* **MariaDB** (``mariadb-server``): ``mysqld --no-defaults`` with its own datadir
  (``state/mariadb/data``), unix socket and port; no ``/etc/mysql`` file is read. Nova (API,
  cell0 and cell1), Neutron and Cinder keep their databases there: Neutron's migrations use
  MySQL-only SQL, and Nova's conductor, scheduler and compute write concurrently, which SQLite
  cannot take. Durability is traded for speed (no fsync per commit): it is a test cloud.
* **RabbitMQ** (``rabbitmq-server``): the broker started in the foreground with its mnesia,
  log and configuration under ``state/rabbitmq`` and ``HOME`` there too (the Erlang cookie),
  and Erlang's port mapper ``epmd`` started first as a process of its own on a private port,
  so that RabbitMQ neither starts nor finds a shared, detached one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tcup.devcloud.configs import CloudContext, CloudPaths, current_user, write_private
from tcup.devcloud.layout import HOST
from tcup.errors import DevcloudError

__all__ = [
    "DATABASES",
    "DB_USER",
    "RABBIT_USER",
    "create_databases",
    "database_url",
    "epmd_argv",
    "init_mariadb",
    "mariadb_argv",
    "mariadb_socket",
    "rabbitmq_argv",
    "rabbitmq_env",
    "transport_url",
    "write_rabbitmq_config",
]

DATABASES = ("nova_api", "nova_cell0", "nova", "neutron", "cinder")
DB_USER = "devcloud"
RABBIT_USER = "devcloud"
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/libexec")
_RABBIT_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
_APT_HINT = "install the Debian packages in scripts/apt-packages.txt (apt-get install mariadb-server rabbitmq-server)"


def _program(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SBIN))
        if found:
            return found
    raise DevcloudError(f"{names[0]} not found; {_APT_HINT}")


def _mariadb_home(ctx: CloudPaths) -> Path:
    return ctx.layout.service_dir("mariadb")


def mariadb_socket(ctx: CloudPaths) -> Path:
    """The unix socket of the devcloud's MariaDB (only the owner may use it)."""
    return _mariadb_home(ctx) / "mysqld.sock"


def _tuning() -> list[str]:
    # small buffers, no per-commit fsync, no performance schema: a test database of ~60 MB RSS
    return [
        "--innodb-buffer-pool-size=64M",
        "--innodb-log-file-size=16M",
        "--innodb-flush-log-at-trx-commit=0",
        "--innodb-doublewrite=0",
        "--performance-schema=off",
        "--skip-name-resolve",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_general_ci",
        "--max-connections=400",
        "--table-open-cache=400",
    ]


def _user_option() -> list[str]:
    return ["--user=root"] if os.geteuid() == 0 else []


def init_mariadb(ctx: CloudPaths, log_file: Path) -> None:
    """Create the datadir with ``mariadb-install-db`` (once; about 4 s).

    :raises DevcloudError: when MariaDB is not installed or the initialisation fails.
    """
    home = _mariadb_home(ctx)
    data = home / "data"
    if (data / "mysql").is_dir():
        return
    program = _program("mariadb-install-db", "mysql_install_db")
    shutil.rmtree(data, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = [
        program,
        "--no-defaults",
        f"--datadir={data}",
        *_user_option(),
        "--auth-root-authentication-method=socket",
        f"--auth-root-socket-user={current_user()}",
        "--skip-test-db",
        *_tuning(),
    ]
    with open(log_file, "ab") as log:
        log.write(f"+ {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        raise DevcloudError(f"mariadb-install-db failed (exit {proc.returncode}); read {log_file}")


def mariadb_argv(ctx: CloudPaths) -> list[str]:
    """The command line of the devcloud's ``mysqld``: no option file, loopback only."""
    home = _mariadb_home(ctx)
    mysqld = "/usr/sbin/mysqld"
    if not Path(mysqld).is_file():
        mysqld = _program("mariadbd", "mysqld")
    return [
        mysqld,
        "--no-defaults",
        *_user_option(),
        f"--datadir={home / 'data'}",
        f"--socket={mariadb_socket(ctx)}",
        f"--pid-file={home / 'mysqld.pid'}",
        f"--port={ctx.ports.mariadb}",
        f"--bind-address={HOST}",
        f"--log-error={ctx.layout.logs / 'mariadb-app.log'}",
        *_tuning(),
    ]


def create_databases(ctx: CloudContext, log_file: Path) -> None:
    """Create the services' databases and their user (idempotent; the password is kept in step).

    The SQL goes to the ``mariadb`` client on stdin, so the password is never on a command line.

    :raises DevcloudError: when the client fails.
    """
    password = ctx.secrets.database_password.replace("'", "")
    account = f"'{DB_USER}'@'{HOST}'"
    statements = [f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{password}';"]
    statements.append(f"ALTER USER {account} IDENTIFIED BY '{password}';")
    for name in DATABASES:
        statements.append(f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4;")
        statements.append(f"GRANT ALL PRIVILEGES ON {name}.* TO {account};")
    argv = [_program("mariadb", "mysql"), "--no-defaults", f"--socket={mariadb_socket(ctx)}", "-u", current_user()]
    with open(log_file, "ab") as log:
        log.write(f"+ {' '.join(argv)} < (CREATE DATABASE {', '.join(DATABASES)}; CREATE USER {DB_USER})\n".encode())
        log.flush()
        proc = subprocess.run(
            argv, input="\n".join(statements).encode(), stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if proc.returncode != 0:
        raise DevcloudError(f"creating the MariaDB databases failed (exit {proc.returncode}); read {log_file}")


def database_url(ctx: CloudContext, name: str) -> str:
    """The SQLAlchemy URL of one of :data:`DATABASES` (PyMySQL over loopback TCP)."""
    return (
        f"mysql+pymysql://{DB_USER}:{ctx.secrets.database_password}@{HOST}:{ctx.ports.mariadb}/{name}?charset=utf8mb4"
    )


def transport_url(ctx: CloudContext) -> str:
    """oslo.messaging's URL of the devcloud's RabbitMQ."""
    return f"rabbit://{RABBIT_USER}:{ctx.secrets.rabbitmq_password}@{HOST}:{ctx.ports.rabbitmq}/"


def _rabbit_home(ctx: CloudPaths) -> Path:
    return ctx.layout.service_dir("rabbitmq")


def write_rabbitmq_config(ctx: CloudContext) -> None:
    """Write ``state/rabbitmq/rabbitmq.conf`` (loopback listener, our user) and an empty plugin list."""
    home = _rabbit_home(ctx)
    for sub in ("mnesia", "log"):
        (home / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = [
        f"listeners.tcp.1 = {HOST}:{ctx.ports.rabbitmq}",
        f"default_user = {RABBIT_USER}",
        f"default_pass = {ctx.secrets.rabbitmq_password}",
        # the test cloud's disk may be nearly full; RabbitMQ would block every publisher
        "disk_free_limit.absolute = 50MB",
        "log.console = false",
        f"log.file = {ctx.layout.logs / 'rabbitmq-app.log'}",
        "log.file.level = warning",
    ]
    write_private(home / "rabbitmq.conf", "\n".join(lines) + "\n")
    (home / "enabled_plugins").write_text("[].\n")


def epmd_argv(ctx: CloudPaths) -> list[str]:
    """Erlang's port mapper in the foreground, on the devcloud's own port, loopback only."""
    return [_program("epmd"), "-port", str(ctx.ports.epmd), "-address", HOST]


def rabbitmq_argv() -> list[str]:
    """The broker's start script (Debian's wrapper would switch to the rabbitmq user)."""
    if not _RABBIT_SERVER.is_file():
        raise DevcloudError(f"{_RABBIT_SERVER} not found; {_APT_HINT}")
    return [str(_RABBIT_SERVER)]


def rabbitmq_env(ctx: CloudPaths) -> dict[str, str]:
    """The environment that keeps RabbitMQ's files, ports and cookie inside the devcloud."""
    home = _rabbit_home(ctx)
    return {
        "HOME": str(home),  # .erlang.cookie
        "RABBITMQ_NODENAME": "devcloud@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(ctx.ports.rabbitmq),
        "RABBITMQ_DIST_PORT": str(ctx.ports.rabbitmq_dist),
        "ERL_EPMD_PORT": str(ctx.ports.epmd),
        "ERL_EPMD_ADDRESS": HOST,
        "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
        "RABBITMQ_LOG_BASE": str(home / "log"),
        "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(home / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(home / "rabbitmq.pid"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        # the script then replaces itself with the Erlang VM: the recorded pid is the broker's
        "RUNNING_UNDER_SYSTEMD": "true",
    }
