"""The databases a lifecycle command works on, as the owner role, and the force's tables found in the catalog.

The copy, the removal and the import run as the owner role, not the runtime role: the runtime role acts for one
force at a time through row-level security and has no DELETE on the append-only tables (audit, custody entries),
and COPY FROM is refused on a table whose RLS applies to the role. RLS is forced, so the owner is filtered too;
each write lifts FORCE on one table inside its own short transaction and restores it before commit (as
migrations/rls.py `owner_sees_all` does), so no other session ever sees the table unforced. Every statement also
names the force (`WHERE tenant_id = ...`).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from app.config import Settings

# The same text for the same row in every database: the row checksums compare rows as text.
SESSION_SETUP = ("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
                 "SET extra_float_digits = 3; SET lock_timeout = '2s'")
LOCK_ATTEMPTS = 30


def owner_url(settings: Settings, slug: str, deployment: str) -> URL:
    """The database holding a force deployed this way, as the owner role."""
    runtime = settings.dedicated_url(slug) if deployment == "dedicated" else settings.runtime_url()
    return settings.owner_url(runtime)


def pool_url(settings: Settings) -> URL:
    """The pooled database (and the registry), as the owner role."""
    return settings.owner_url(settings.runtime_url())


@contextmanager
def connect(url: URL, force: uuid.UUID | None = None) -> Iterator[psycopg.Connection]:
    """A connection (autocommit: open transactions explicitly) set up for this force's rows."""
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SESSION_SETUP)
        if force is not None:
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(force),))
        yield conn


@dataclass(frozen=True)
class TenantTable:
    """A table with a tenant_id column and the columns a copy carries (generated columns are recomputed)."""

    name: str
    columns: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()  # json and jsonb: their SQL NULL and JSON null are told apart
    force_column: str = "tenant_id"  # the column naming the force whose row it is

    def select(self, force: uuid.UUID) -> sql.Composed:
        """The force's rows of this table, its carried columns in order."""
        return sql.SQL("SELECT {} FROM {} WHERE {} = {}").format(
            sql.SQL(", ").join(map(sql.Identifier, self.columns)), sql.Identifier(self.name),
            sql.Identifier(self.force_column), sql.Literal(str(force)))

    def select_as_text_json(self, force: uuid.UUID) -> sql.Composed:
        """As `select`, the json(b) columns as their text, so that a JSON null stays apart from SQL NULL."""
        return sql.SQL("SELECT {} FROM {} WHERE {} = {}").format(
            sql.SQL(", ").join(sql.SQL("{}::text AS {}").format(sql.Identifier(c), sql.Identifier(c))
                               if c in self.json_columns else sql.Identifier(c) for c in self.columns),
            sql.Identifier(self.name), sql.Identifier(self.force_column), sql.Literal(str(force)))

    @property
    def column_list(self) -> sql.Composed:
        return sql.SQL(", ").join(map(sql.Identifier, self.columns))


_TABLES = """
    SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum) AS columns,
           coalesce(array_agg(a.attname::text) FILTER (WHERE a.atttypid IN ('json'::regtype, 'jsonb'::regtype)),
                    '{}') AS json_columns
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND a.attgenerated = ''
      AND (c.relname = ANY(%(by_provider)s) OR EXISTS (
           SELECT 1 FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attname = 'tenant_id' AND NOT t.attisdropped))
    GROUP BY c.relname
"""
_REFERENCES = """
    SELECT c.relname, p.relname FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
    WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace AND k.conparentid = 0 AND c.oid <> p.oid
"""


# What means something only in the database that holds it, so is never copied, exported or compared: the audit
# sealer's position in this database's transaction ids, and each audit row's transaction id (the copy's own
# transaction gives the copied rows theirs; the sealer finds the rows not yet in the force's tree afresh).
PER_DATABASE_TABLES = frozenset({"audit_seal_state"})
PER_DATABASE_COLUMNS = {"audit_event": frozenset({"xid"})}
# A force's rows keyed by another column: the access log of other forces' reads is the providing force's (it lives
# in the provider's database, whichever that is).
FORCE_COLUMNS = {"sharing_access": "provider_id"}


def tenant_tables(conn: psycopg.Connection) -> list[TenantTable]:
    """Every table holding forces' rows (found in the catalog, so a new domain's tables come along by themselves),
    parents before the tables whose foreign keys reference them."""
    tables = {name: TenantTable(name, tuple(c for c in columns if c not in PER_DATABASE_COLUMNS.get(name, ())),
                                frozenset(json_columns), FORCE_COLUMNS.get(name, "tenant_id"))
              for name, columns, json_columns in conn.execute(_TABLES, {"by_provider": sorted(FORCE_COLUMNS)})
              if name not in PER_DATABASE_TABLES}
    parents: dict[str, set[str]] = {name: set() for name in tables}
    for child, parent in conn.execute(_REFERENCES):
        if child in tables and parent in tables:
            parents[child].add(parent)
    ordered: list[TenantTable] = []
    while parents:
        ready = sorted(name for name, needs in parents.items() if not needs)
        if not ready:
            raise RuntimeError(f"foreign keys form a cycle among {', '.join(sorted(parents))}")
        for name in ready:
            ordered.append(tables[name])
            del parents[name]
        for needs in parents.values():
            needs.difference_update(ready)
    return ordered


def checksums(conn: psycopg.Connection, tables: list[TenantTable], force: uuid.UUID) -> dict[str, list[Any]]:
    """Per table, the force's row count and an order-independent checksum of every row (the sum of the first 64
    bits of each row's MD5), computed by the database."""
    out: dict[str, list[Any]] = {}
    for table in tables:
        query = sql.SQL("SELECT count(*), coalesce(sum(('x' || left(md5(r::text), 16))::bit(64)::bigint), 0)::text "
                        "FROM ({}) r").format(table.select(force))
        count, total = conn.execute(query).fetchone() or (0, "0")
        out[table.name] = [count, total]
    return out


def bypassing(conn: psycopg.Connection, table: str, work: Callable[[], Any]) -> Any:
    """Run `work` in a transaction of its own in which the owner's writes to `table` skip row-level security; retried
    when the table's lock is not granted within lock_timeout (so a waiting move never queues other forces' queries
    for long behind it)."""
    name = sql.Identifier(table)
    for attempt in range(LOCK_ATTEMPTS):
        try:
            with conn.transaction():
                conn.execute(sql.SQL("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY").format(name))
                result = work()
                conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(name))
            return result
        except psycopg.errors.LockNotAvailable:
            if attempt == LOCK_ATTEMPTS - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def remove_rows(conn: psycopg.Connection, tables: list[TenantTable], force: uuid.UUID,
                done: Callable[[str, int], None] = lambda table, count: None) -> dict[str, int]:
    """Delete every row of the force (with its per-database rows), children before parents, a table per
    transaction; the counts deleted."""
    present = {name for (name,) in conn.execute("SELECT relname::text FROM pg_class WHERE relkind = 'r' AND "
                                                "relnamespace = 'public'::regnamespace AND relname = ANY(%s)",
                                                [sorted(PER_DATABASE_TABLES)])}
    removed = {}
    columns = {table.name: table.force_column for table in tables}
    for name in [*sorted(present), *(table.name for table in reversed(tables))]:
        removed[name] = _delete_force_rows(conn, name, columns.get(name, "tenant_id"), force)
        if name not in PER_DATABASE_TABLES:
            done(name, removed[name])
    return removed


def remove_agreement_mirrors(conn: psycopg.Connection, force: uuid.UUID) -> None:
    """A dedicated database's copies of the force's agreements and grants (their home is the pool), once the force
    has left it."""
    for name in ("sharing_grant", "sharing_agreement"):
        _delete_force_rows(conn, name, "provider_id", force)


def _delete_force_rows(conn: psycopg.Connection, table: str, column: str, force: uuid.UUID) -> int:
    """Delete the rows of `table` whose `column` names the force, past row-level security; how many."""
    statement = sql.SQL("DELETE FROM {} WHERE {} = {}").format(sql.Identifier(table), sql.Identifier(column),
                                                               sql.Literal(str(force)))
    return bypassing(conn, table, lambda: conn.execute(statement).rowcount)


def revision(conn: psycopg.Connection) -> str | None:
    """The database's migration revision (None before any)."""
    if conn.execute("SELECT to_regclass('public.alembic_version')").fetchone() == (None,):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None
