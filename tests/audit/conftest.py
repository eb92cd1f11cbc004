"""A force of its own for each sealing test (its trail, tree and checkpoints removed afterwards), audit rows
written and committed through the audit service as the runtime role, and the owner role to tamper with them."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text

from app.audit import seal as sealing
from app.audit import service as audit
from app.audit.verify import Report, external_from_storage, verify
from app.auth.principal import Principal
from app.db import TenantContext, tenant_context
from app.documents.storage import FilesystemStorage
from app.tenancy.config import Identity, Tenant
from tests.conftest import superuser_url

AUDIT_TABLES = ("audit_leaf", "audit_checkpoint", "audit_seal_state", "audit_event")


@dataclass
class Force:
    """A pooled force of the test's own, its object storage a directory, with helpers to write, seal, verify
    and tamper."""

    tenant: Tenant
    services: Any
    store: FilesystemStorage
    var_dir: Path
    owner_url: Any

    def write(self, count: int = 1, action: str = "consultation") -> list[str]:
        """`count` audit events in one committed transaction; their record ids."""
        principal = Principal(self.tenant, "pc-seal", frozenset({"officer"}), frozenset())
        ids = [str(uuid.uuid4()) for _ in range(count)]
        session = self.services.databases.session(self.tenant)
        try:
            with tenant_context(TenantContext(self.tenant.id, "pc-seal")), session.begin():
                audit.record_each(session, principal, action, "person", ids, {"via": "test"})
        finally:
            session.close()
        return ids

    def seal(self) -> sealing.Sealed:
        return sealing.seal(self.services.databases, self.tenant, self.var_dir, lambda tenant, var_dir: self.store)

    def verify(self, external: bool = True) -> Report:
        copies = external_from_storage(self.store) if external else []
        return verify(self.services.databases, self.tenant, self.var_dir, copies)

    def events(self) -> list[Any]:
        """The force's events in tree order (by the owner, who sees through RLS here)."""
        return self.owner(
            "SELECT e.id, e.record_id, l.tree_index FROM audit_event e JOIN audit_leaf l "
            "ON l.tenant_id = e.tenant_id AND l.event_id = e.id WHERE e.tenant_id = :t ORDER BY l.tree_index")

    def owner(self, *statements: str, **params: Any) -> list[Any]:
        """Run statements as the owner role with RLS lifted for it (as the tamperer would), in one transaction;
        the last one's rows."""
        engine = create_engine(self.owner_url)
        rows: list[Any] = []
        try:
            with engine.begin() as conn:
                for table in AUDIT_TABLES:
                    conn.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
                for statement in statements:
                    result = conn.execute(text(statement), {"t": self.tenant.id, **params})
                    rows = list(result) if result.returns_rows else []
                for table in AUDIT_TABLES:
                    conn.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))
        finally:
            engine.dispose()
        return rows


def remove_trail(tenant_id: uuid.UUID) -> None:
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        for table in AUDIT_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (tenant_id,))


@pytest.fixture
def force(services, settings, tmp_path) -> Iterator[Force]:
    slug = f"sealtest{uuid.uuid4().hex[:8]}"
    identity = Identity(f"http://127.0.0.1/{slug}", "concord", "roles", "sub", {})
    tenant = Tenant(uuid.uuid4(), slug, "Seal test force", "99", "pooled", "Europe/London", (), identity,
                    {"slug": slug, "audit": {"signing_key": "file"}})
    yield Force(tenant, services, FilesystemStorage(tmp_path / "store"), tmp_path / "var",
                settings.owner_url(settings.runtime_url()))
    remove_trail(tenant.id)
