"""Create, read and change any versioned record: one transaction per use case, its audit event inside.

A record is changed only by the force that owns it: `load(..., for_update=True)` and `require_own` find the
acting force's own records only, so a write aimed at another force's shared record answers 404 (or 422 naming
the field that referred to it) before anything reaches the database, for every record type alike.
"""
from __future__ import annotations

import uuid
from typing import Any, Callable, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Record, Sessions, transaction
from app.errors import Conflict, InvalidInput, NotFound
from app.sharing import visibility as sharing

R = TypeVar("R", bound=Record)

# A unique constraint's name -> the field and reason a client sees when it is broken.
CONFLICTS: dict[str, tuple[str, str]] = {
    "location_uprn_unique": ("uprn", "another location in this force already has this UPRN"),
}


def create(session: Session, principal: Principal, model: type[R], record_type: str, values: dict[str, Any]) -> R:
    """Record a new record of the acting force, audited as collected."""
    with transaction(session):
        record = model(tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1,
                       created_by=principal.user_id, updated_by=principal.user_id, **values)
        session.add(record)
        flush(session)
        audit_service.record(session, principal, "collection", record_type, record.id)
    return record


def get(session: Session, principal: Principal, model: type[R], record_type: str, record_id: uuid.UUID, *,
        sessions: Sessions | None = None) -> R:
    """One record the acting force can see, audited as consulted (and logged for its provider if shared); with
    `sessions`, a shared record held in another database is read there, through that database's policies."""
    return sharing.read_by_id(session, principal, record_type,
                              lambda database: load(database, model, record_type, record_id), sessions=sessions)


def update(
    session: Session,
    principal: Principal,
    model: type[R],
    record_type: str,
    record_id: uuid.UUID,
    expected_version: int | None,
    changes: dict[str, Any],
    check: Callable[[R], None] | None = None,
) -> R:
    """Apply `changes` if the client saw the current version; `check` validates the changed record."""
    with transaction(session):
        record = load(session, model, record_type, record_id, for_update=True)
        record.check_version(expected_version)
        changed = [field for field, value in changes.items() if getattr(record, field) != value]
        if changed:
            for field in changed:
                setattr(record, field, changes[field])
            if check is not None:
                check(record)
            record.touch(principal)
            flush(session)
            audit_service.record(session, principal, "alteration", record_type, record.id, {"fields": changed})
    return record


def load(session: Session, model: type[R], record_type: str, record_id: uuid.UUID, for_update: bool = False,
         own: bool = False) -> R:
    """A record the acting force can see; `own`: its own only; `for_update`: its own only, locked (a shared
    record is not yours to change, and answers exactly as an unknown id does)."""
    stmt = select(model).where(model.id == record_id)
    if own or for_update:
        # own rows only: the transaction's force, as the database has it (set when the transaction began)
        stmt = stmt.where(model.tenant_id == func.app_current_tenant())
    if for_update:
        stmt = stmt.with_for_update()
    record = session.scalars(stmt).one_or_none()
    if record is None:
        raise NotFound.record(record_type)
    return record


def require_own(session: Session, model: type[R], record_type: str, record_id: uuid.UUID, field: str) -> R:
    """The acting force's own record named by a request field, locked; 422 naming the field otherwise."""
    try:
        return load(session, model, record_type, record_id, for_update=True)
    except NotFound:
        refusal = InvalidInput.field(field, f"no such {record_type} in this force")
        refusal.refused, refusal.asked = True, {field: record_id}  # a refused access, like a 404
        raise refusal from None


def flush(session: Session) -> None:
    """Flush, turning a broken unique constraint into a 409 that names the field."""
    try:
        session.flush()
    except IntegrityError as exc:
        for constraint, (field, reason) in CONFLICTS.items():
            if constraint in str(exc.orig):
                raise Conflict(f"{field}: {reason}", {field: [reason]}) from None
        raise


def erase(session: Session, *, model: type[Record], record_id: uuid.UUID) -> None:
    """Disposal: delete one own record row (links, documents, audit are the caller's), in the caller's transaction."""
    session.execute(delete(model).where(model.tenant_id == func.app_current_tenant(), model.id == record_id))
