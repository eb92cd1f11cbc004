"""The embedded PostgreSQL (the `pgserver` package): started under var/, roles and databases bootstrapped.

Concord never runs as a superuser: the embedded server's superuser only creates the two roles
(owner, runtime) and the databases here; everything after runs as those roles.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

POOL_DATABASE = "concord"
RUNTIME_ROLE = "concord_app"
OWNER_ROLE = "concord_owner"

_server = None


def start(var_dir: Path):
    """Start (or attach to) the embedded server whose data lives in var_dir/pgdata."""
    global _server
    if _server is None:
        var_dir.mkdir(parents=True, exist_ok=True)
        # pgserver keeps its lock file in the user's runtime dir; give it one of ours (private, 0700)
        if not os.environ.get("XDG_RUNTIME_DIR"):
            (var_dir / "run").mkdir(exist_ok=True, mode=0o700)
            os.environ["XDG_RUNTIME_DIR"] = str(var_dir / "run")
        import pgserver  # imported late: only the embedded mode needs it

        _server = pgserver.get_server(var_dir / "pgdata", cleanup_mode="stop")
    return _server


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
