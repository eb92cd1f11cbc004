"""Create, read and change any versioned POLE record: one transaction per use case, its audit event inside."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import fetch_page, transaction
from app.errors import Conflict, NotFound, PreconditionFailed
from app.sharing import service as sharing

T = TypeVar("T")

# A unique constraint's name -> the field and reason a client sees when it is broken.
CONFLICTS: dict[str, tuple[str, str]] = {
    "location_uprn_unique": ("uprn", "another location in this force already has this UPRN"),
}


def create(session: Session, principal: Principal, model: type[T], record_type: str, values: dict[str, Any]) -> T:
    with transaction(session):
        record = model(tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1,  # type: ignore[call-arg]
                       created_by=principal.user_id, updated_by=principal.user_id, **values)
        session.add(record)
        flush(session)
        audit_service.record(session, principal, "collection", record_type, record.id)  # type: ignore[attr-defined]
    return record


def get(session: Session, principal: Principal, model: type[T], record_type: str, record_id: uuid.UUID) -> T:
    with transaction(session):
        record: Any = load(session, model, record_type, record_id)
        audit_service.record(session, principal, "consultation", record_type, record_id)
        sharing.record_shared_reads(session, principal, record_type, [(record.tenant_id, record.id)])
    return record


def find(session: Session, principal: Principal, record_type: str, stmt: Any, page: int, page_size: int) -> tuple[list[Any], int]:
    """One page of an ordered select, each record returned audited as consulted."""
    with transaction(session):
        records, total = fetch_page(session, stmt, page, page_size)
        audit_service.record_each(session, principal, "consultation", record_type, [r.id for r in records],
                                  {"via": "search"})
        sharing.record_shared_reads(session, principal, record_type, [(r.tenant_id, r.id) for r in records])
    return records, total


def update(
    session: Session,
    principal: Principal,
    model: type[T],
    record_type: str,
    record_id: uuid.UUID,
    expected_version: int | None,
    changes: dict[str, Any],
    check: Callable[[T], None] | None = None,
) -> T:
    """Apply `changes` if the client saw the current version; `check` validates the changed record."""
    with transaction(session):
        record: Any = load(session, model, record_type, record_id, for_update=True)
        if expected_version is not None and record.version != expected_version:
            raise PreconditionFailed(
                f"The record has changed since you read it (now version {record.version}); read it again"
            )
        changed = [field for field, value in changes.items() if getattr(record, field) != value]
        if changed:
            for field in changed:
                setattr(record, field, changes[field])
            if check is not None:
                check(record)
            record.version += 1
            record.updated_by = principal.user_id
            record.updated_at = datetime.now(timezone.utc)
            flush(session)
            audit_service.record(session, principal, "alteration", record_type, record.id, {"fields": changed})
    return record


def load(session: Session, model: type[T], record_type: str, record_id: uuid.UUID, for_update: bool = False) -> T:
    stmt = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update()
    record = session.scalars(stmt).one_or_none()
    if record is None:
        raise NotFound.record(record_type)
    return record


def flush(session: Session) -> None:
    """Flush, turning a broken unique constraint into a 409 that names the field."""
    try:
        session.flush()
    except IntegrityError as exc:
        for constraint, (field, reason) in CONFLICTS.items():
            if constraint in str(exc.orig):
                raise Conflict(f"{field}: {reason}", {field: [reason]}) from None
        raise
