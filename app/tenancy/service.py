"""`concord tenants plan` / `apply`: compare the config files with the registry and apply the difference."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from app.tenancy.config import PlatformConfig


@dataclass(frozen=True)
class Change:
    """One line of a plan: kind is 'add', 'change' or 'remove'."""

    kind: str
    entity: str  # 'force' or 'collaboration'
    slug: str
    field: str = ""
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        sign = {"add": "+", "change": "~", "remove": "-"}[self.kind]
        if self.kind == "change":
            return f"{sign} {self.entity} {self.slug}: {self.field}: {_show(self.before)} -> {_show(self.after)}"
        return f"{sign} {self.entity} {self.slug}"


def plan(conn: Connection, platform: PlatformConfig) -> list[Change]:
    """What apply would change: forces and collaborations added, settings changed, entries removed."""
    changes: list[Change] = []
    current_tenants = _current(conn, "SELECT slug, settings FROM tenant WHERE active")
    wanted_tenants = {slug: t.settings for slug, t in platform.tenants.items()}
    changes += _diff("force", current_tenants, wanted_tenants)
    current_collabs = _current(conn, "SELECT slug, settings FROM collaboration WHERE active")
    wanted_collabs = {slug: c.settings for slug, c in platform.collaborations.items()}
    changes += _diff("collaboration", current_collabs, wanted_collabs)
    return changes


def apply(conn: Connection, platform: PlatformConfig) -> list[Change]:
    """Make the registry match the files, in the caller's single transaction. Removed forces are deactivated."""
    changes = plan(conn, platform)
    for tenant in platform.tenants.values():
        conn.execute(
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


def _current(conn: Connection, sql: str) -> dict[str, dict[str, Any]]:
    return {row.slug: row.settings for row in conn.execute(text(sql))}


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
