"""Writing and reading the audit trail."""
from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.audit import merkle, signing
from app.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf
from app.audit.seal import leaf_bytes
from app.auth.principal import Principal
from app.db import fetch_page, log_page, table, transaction
from app.errors import NotFound
from app.http import page as page_of

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


def _checkpoint(row: AuditCheckpoint) -> signing.Checkpoint:
    return signing.Checkpoint(str(row.tenant_id), row.tree_size, bytes(row.root_hash), row.sealed_at, row.key_id,
                              bytes(row.signature))


def checkpoints(session: Session, principal: Principal, *, page: int, page_size: int) -> dict[str, Any]:
    """One page of the force's signed checkpoints, latest first, with the total and the latest of all."""
    stmt = (select(AuditCheckpoint).where(AuditCheckpoint.tenant_id == principal.tenant.id)
            .order_by(AuditCheckpoint.tree_size.desc()))
    with transaction(session):
        rows, total = fetch_page(session, stmt, page, page_size)
        latest = rows[0] if page == 1 and rows else session.scalar(stmt.limit(1))
    return {**page_of([_checkpoint(row).as_json() for row in rows], total, {"page": page, "page_size": page_size}),
            "latest": _checkpoint(latest).as_json() if latest else None}


def proof(session: Session, principal: Principal, *, event_id: uuid.UUID) -> dict[str, Any]:
    """An event of the force, its leaf and the proof of its inclusion in the tree of the latest checkpoint."""
    tenant_id = principal.tenant.id
    with transaction(session):
        event = session.scalar(select(AuditEvent).where(AuditEvent.tenant_id == tenant_id, AuditEvent.id == event_id))
        if event is None:
            raise NotFound("No such audit event in your force")
        index = session.scalar(select(AuditLeaf.tree_index).where(AuditLeaf.tenant_id == tenant_id,
                                                                  AuditLeaf.event_id == event_id))
        latest = session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.tenant_id == tenant_id)
                                .order_by(AuditCheckpoint.tree_size.desc()).limit(1))
        if index is None or latest is None or index >= latest.tree_size:
            raise NotFound("The audit event is not sealed yet: the sealer takes new events every few seconds")
        hashes = session.scalars(select(AuditLeaf.leaf_hash).where(AuditLeaf.tenant_id == tenant_id,
                                                                   AuditLeaf.tree_index < latest.tree_size)
                                 .order_by(AuditLeaf.tree_index)).all()
    tree = merkle.Tree([bytes(h) for h in hashes])
    leaf = leaf_bytes(event)
    return {"event": event, "tree_index": index, "leaf": leaf.decode(),
            "leaf_hash": base64.b64encode(merkle.leaf_hash(leaf)).decode(),
            "proof": [base64.b64encode(node).decode() for node in tree.inclusion_proof(index, latest.tree_size)],
            "checkpoint": _checkpoint(latest).as_json()}
