"""`concord tenants plan` / `apply`: compare the config files with the registry and apply the difference.

A change that would strand a force's records (moving it between pooled and dedicated, or removing it, while it
holds records) is dangerous: the plan says so, and apply refuses it unless the operator says they mean it. Those
are jobs for verified commands (DESIGN.md §3), not for an edit to the force's file.
"""
from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import Connection, text

from app.tenancy.config import PlatformConfig, Tenant, tenant_id

# How many records a force holds, by table, given its slug and its stored settings; None when it cannot be told.
Holdings = Callable[[str, dict[str, Any]], "dict[str, int] | None"]


@dataclass(frozen=True)
class Change:
    """One line of a plan: kind is 'add', 'change' or 'remove'."""

    kind: str
    entity: str  # 'force' or 'collaboration'
    slug: str
    field: str = ""
    before: Any = None
    after: Any = None
    danger: str = dataclasses.field(default="", compare=False)  # why apply refuses it without --allow-dangerous

    def __str__(self) -> str:
        sign = {"add": "+", "change": "~", "remove": "-"}[self.kind]
        if self.kind == "change":
            return f"{sign} {self.entity} {self.slug}: {self.field}: {_show(self.before)} -> {_show(self.after)}"
        return f"{sign} {self.entity} {self.slug}"


def plan(conn: Connection | None, platform: PlatformConfig, holdings: Holdings | None = None) -> list[Change]:
    """What apply would change (reading only): forces and collaborations added, settings changed, entries removed,
    each dangerous one saying why. No connection: nothing has been applied yet."""
    if conn is not None and not conn.scalar(text("SELECT to_regclass('public.tenant') IS NOT NULL")):
        conn = None  # the pooled database is not migrated yet: nothing applied
    changes: list[Change] = []
    current_tenants = _current(conn, "SELECT slug, settings FROM tenant WHERE active")
    wanted_tenants = {slug: t.settings for slug, t in platform.tenants.items()}
    changes += _diff("force", current_tenants, wanted_tenants)
    current_collabs = _current(conn, "SELECT slug, settings FROM collaboration WHERE active")
    wanted_collabs = {slug: c.settings for slug, c in platform.collaborations.items()}
    changes += _diff("collaboration", current_collabs, wanted_collabs)
    if conn is not None:  # with nothing applied, nothing can be stranded
        changes = [_with_danger(change, current_tenants, holdings or _pooled_holdings(conn)) for change in changes]
    return changes


def _pooled_holdings(conn: Connection) -> Holdings:
    """Counts in this (the pooled) database; a dedicated force's records are elsewhere, so not counted: unknown."""
    return lambda slug, stored: None if stored.get("deployment") == "dedicated" else records_held(conn, tenant_id(slug))


class DangerousChanges(Exception):
    """Apply refused: these changes would strand records; `changes` are the dangerous ones."""

    def __init__(self, changes: list[Change]):
        super().__init__("refused (nothing applied): " + "; ".join(f"{c.slug}: {c.danger}" for c in changes)
                         + ". To apply them anyway, run apply with --allow-dangerous")
        self.changes = changes


def apply(conn: Connection, platform: PlatformConfig, *, allow_dangerous: bool = False,
          holdings: Holdings | None = None) -> list[Change]:
    """Make the registry match the files, in the caller's single transaction. Removed forces are deactivated.

    Refuses (DangerousChanges, before writing anything) a change that would strand records, unless allowed."""
    changes = plan(conn, platform, holdings)
    dangerous = [change for change in changes if change.danger]
    if dangerous and not allow_dangerous:
        raise DangerousChanges(dangerous)
    refuse_tombstoned(conn, list(platform.tenants.values()))
    for tenant in platform.tenants.values():
        register(conn, tenant)
    for collab in platform.collaborations.values():
        conn.execute(
            text(
                """
                INSERT INTO collaboration (slug, name, settings, active)
                VALUES (:slug, :name, CAST(:settings AS jsonb), true)
                ON CONFLICT (slug) DO UPDATE SET name = excluded.name, settings = excluded.settings,
                    active = true, updated_at = now()
                WHERE collaboration.settings IS DISTINCT FROM excluded.settings OR NOT collaboration.active
                """
            ),
            {"slug": collab.slug, "name": collab.name, "settings": json.dumps(collab.settings)},
        )
    for change in changes:
        if change.kind == "remove":
            table = "tenant" if change.entity == "force" else "collaboration"
            conn.execute(text(f"UPDATE {table} SET active = false, updated_at = now() WHERE slug = :slug"),
                         {"slug": change.slug})
    return changes


def register(conn: Connection, tenant: Tenant) -> bool:
    """Add the force to the registry or bring its entry up to date; whether anything changed."""
    result = conn.execute(
        text(
            """
            INSERT INTO tenant (id, slug, name, deployment, issuer, settings, active)
            VALUES (:id, :slug, :name, :deployment, :issuer, CAST(:settings AS jsonb), true)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, deployment = excluded.deployment,
                issuer = excluded.issuer, settings = excluded.settings, active = true, updated_at = now()
            WHERE tenant.settings IS DISTINCT FROM excluded.settings OR NOT tenant.active
            """
        ),
        {
            "id": tenant.id,
            "slug": tenant.slug,
            "name": tenant.name,
            "deployment": tenant.deployment,
            "issuer": tenant.identity.issuer,
            "settings": json.dumps(tenant.settings),
        },
    )
    return bool(result.rowcount)


class Tombstoned(Exception):
    """A force's file names the slug or issuer of a force that was offboarded: refused, nothing applied."""


def refuse_tombstoned(conn: Connection, tenants: list[Tenant]) -> None:
    """Raise Tombstoned when one of these forces reuses an offboarded force's slug or issuer."""
    rows = conn.execute(text("SELECT slug, issuer, offboarded_at FROM tenant WHERE offboarded_at IS NOT NULL")).all()
    problems = []
    for row in rows:
        for tenant in tenants:
            reused = [what for what, same in (("slug", tenant.slug == row.slug),
                                              ("issuer", tenant.identity.issuer == row.issuer)) if same]
            if reused:
                problems.append(f"{tenant.slug}: its {' and '.join(reused)} belonged to force {row.slug}, offboarded "
                                f"on {row.offboarded_at:%Y-%m-%d} (a tombstone keeps them from being reused by "
                                "accident); give the force a new slug and issuer, or remove its file")
    if problems:
        raise Tombstoned("refused (nothing applied): " + "; ".join(problems))


def _with_danger(change: Change, current: dict[str, dict[str, Any]], holdings: Holdings) -> Change:
    moving = change.entity == "force" and change.kind == "change" and change.field == "deployment"
    removing = change.entity == "force" and change.kind == "remove"
    if not (moving or removing):
        return change
    held = holdings(change.slug, current[change.slug])
    if held == {}:
        return change  # nothing to strand
    what = (f"it holds {sum(held.values())} record(s) ({_largest(held)})" if held
            else "its records could not be counted")
    if moving:
        danger = (f"moves from {change.before} to {change.after} while {what}: its requests would go to a database "
                  f"without them. Use `concord tenants move {change.slug} --to {change.after}`, which "
                  "copies them and compares counts and checksums before it switches")
    else:
        danger = (f"is removed while {what}: nobody could read, review or dispose of them. Use "
                  f"`concord tenants export {change.slug}`, then `concord tenants offboard "
                  f"{change.slug}`, which disposes of them once an export verified")
    return Change(change.kind, change.entity, change.slug, change.field, change.before, change.after, danger)


def _largest(held: dict[str, int], shown: int = 3) -> str:
    tables = sorted(held.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} {count}" for name, count in tables[:shown]) + (", ..." if len(tables) > shown else "")


# Every table of this database with a tenant_id (partitions are counted through their parent).
TENANT_TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND a.attname = 'tenant_id' AND NOT a.attisdropped ORDER BY 1
"""


def records_held(conn: Connection, force: uuid.UUID) -> dict[str, int]:
    """The force's rows in each table of this database that has any, seen through RLS as the force itself."""
    tables = list(conn.scalars(text(TENANT_TABLES)))
    if not tables:
        return {}
    quote = conn.dialect.identifier_preparer.quote
    counts = ", ".join(f"(SELECT count(*) FROM {quote(t)} WHERE tenant_id = :t) AS c{i}" for i, t in enumerate(tables))
    savepoint = conn.begin_nested()  # its rollback also undoes the tenant setting
    try:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(force)})
        row = conn.execute(text(f"SELECT {counts}"), {"t": force}).one()
    finally:
        savepoint.rollback()
    return {table: count for table, count in zip(tables, row, strict=True) if count}


def _current(conn: Connection | None, sql: str) -> dict[str, dict[str, Any]]:
    return {row.slug: row.settings for row in conn.execute(text(sql))} if conn is not None else {}


def _diff(entity: str, current: dict[str, dict], wanted: dict[str, dict]) -> list[Change]:
    changes = [Change("add", entity, slug) for slug in sorted(wanted.keys() - current.keys())]
    for slug in sorted(wanted.keys() & current.keys()):
        before, after = _flatten(current[slug]), _flatten(wanted[slug])
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) != after.get(key):
                changes.append(Change("change", entity, slug, key, before.get(key), after.get(key)))
    changes += [Change("remove", entity, slug) for slug in sorted(current.keys() - wanted.keys())]
    return changes


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _show(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value)
