"""Reassess every record of a force under its current retention policy: after the policy (or its version) changes,
and for records written before retention existed or by the bulk import, which writes past the ORM."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import Databases, TenantContext, record_class, tenant_context
from app.retention import policy
from app.tenancy.config import Tenant

BATCH = 1000
USER = "retention-recompute"


def recompute(databases: Databases, tenant: Tenant) -> dict[str, int]:
    """Reassess the force's records, restricted ones too; how many changed group or review date, by type."""
    session = databases.session(tenant)
    context = TenantContext(tenant.id, USER, "reassessing retention", restricted_access=True)
    changed: dict[str, int] = {}
    try:
        with tenant_context(context):
            for record_type in policy.REVIEWED_TYPES:
                changed[record_type] = _recompute_type(session, tenant, record_class(record_type))
    finally:
        session.close()
    return changed


def _recompute_type(session: Any, tenant: Tenant, model: Any) -> int:
    count, after = 0, None
    while True:
        with session.begin():  # the flush hook reassesses each changed record as it is written
            stmt = select(model).where(model.tenant_id == tenant.id).order_by(model.id).limit(BATCH)
            batch = list(session.scalars(stmt if after is None else stmt.where(model.id > after)))
            if not batch:
                return count
            for record in batch:
                before = (record.retention_group, record.review_on)
                policy.apply(tenant.settings["retention"], record)
                count += before != (record.retention_group, record.review_on)
            after = batch[-1].id
