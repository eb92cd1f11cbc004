"""Writing and reading the audit trail."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.auth.principal import Principal
from app.db import log_page, table

log = logging.getLogger(__name__)

# A refused request is an action of its own beside the six of DPA s.62 (migration 0011), so that refused
# attempts are never counted as consultations.
REFUSAL_ACTION = "refusal"
REFUSAL_RECORD_TYPE = "request"


def record(
    session: Session,
    principal: Principal,
    action: str,
    record_type: str,
    record_id: uuid.UUID | str,
    details: dict[str, Any] | None = None,
) -> None:
    """Write an audit event in the caller's transaction (committed, or rolled back, with the action)."""
    record_each(session, principal, action, record_type, [record_id], details)


def record_each(
    session: Session,
    principal: Principal,
    action: str,
    record_type: str,
    record_ids: Sequence[uuid.UUID | str],
    details: dict[str, Any] | None = None,
) -> None:
    """One audit event per record, written in one statement in the caller's transaction."""
    if not record_ids:
        return
    # A Core insert, not an ORM add: it runs on every read, and needs no identity map or flush.
    common = {
        "tenant_id": principal.tenant.id,
        "user_id": principal.user_id,
        "action": action,
        "record_type": record_type,
        "request_id": principal.request_id,
        "purpose": principal.purpose,
        "details": details or {},
    }
    # executemany form: the compiled statement is cached, and psycopg sends the rows in one batch.
    session.execute(
        insert(table(AuditEvent)), [{**common, "id": uuid.uuid4(), "record_id": str(rid)} for rid in record_ids]
    )


def record_refusal(session: Session, principal: Principal, *, endpoint: str, route: str, method: str,
                   ids: dict[str, Any], status: int) -> None:
    """Write a refused request (403, a 404 for an id the force cannot see, or a 422 for another force's id in a
    request field) in a transaction of its own."""
    # The refused request's transaction has rolled back; this trace must outlive it, so `session` is fresh.
    # The trace is best effort: failing to write it must not turn the refusal the client gets into a 500.
    # The record asked for: the URL's last id is the most specific (a victim's, not their investigation's).
    asked = [str(value) for value in ids.values() if isinstance(value, uuid.UUID)]
    details = {"outcome": "refused", "status": status, "method": method, "endpoint": endpoint, "route": route,
               "ids": {name: str(value) for name, value in ids.items()}}
    try:
        with session.begin():
            record(session, principal, REFUSAL_ACTION, REFUSAL_RECORD_TYPE, (asked or [""])[-1], details)
    except Exception:  # noqa: BLE001 - whatever broke, the client's answer stays the refusal
        log.exception("could not write the audit trace of a refusal (%s %s, %s)", method, endpoint, status)


@dataclass(frozen=True)
class AuditQuery:
    record_id: str | None = None
    user: str | None = None
    from_: datetime | None = None
    to: datetime | None = None
    page: int = 1
    page_size: int = 50


def search(session: Session, principal: Principal, query: AuditQuery) -> tuple[list[AuditEvent], int]:
    """The force's own audit events matching the query, newest first, with the total."""
    return log_page(session, select(AuditEvent).where(AuditEvent.tenant_id == principal.tenant.id),
                    AuditEvent.occurred_at, AuditEvent.id,
                    [(AuditEvent.record_id, query.record_id), (AuditEvent.user_id, query.user)],
                    query.from_, query.to, query.page, query.page_size)
