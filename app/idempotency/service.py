"""Claiming a key and storing the first response, inside the use case's own transaction.

A stored response is kept for KEPT_FOR, long enough for any client's retries, and no longer: it holds what the
request created, personal details included (the IETF Idempotency-Key draft, draft-ietf-httpapi-idempotency-key-
header, asks that keys expire). Each claim removes that user's expired keys; disposing of a record removes the
responses naming it (`forget`), so a disposed record's details do not live on in a replay.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Text, any_, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import InvalidInput
from app.idempotency.models import IdempotencyKey

KEPT_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]


def claim(session: Session, principal: Principal, key: str, fingerprint: str) -> StoredResponse | None:
    """Reserve the key for this request, or return the response stored under it.

    The insert takes the key's unique index entry: a concurrent twin waits on it until this transaction
    ends, then finds the stored response (or, if this one rolled back, claims the key itself). The user's keys
    older than KEPT_FOR go first: an expired key is a new one.
    """
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == principal.user_id,
                                                 IdempotencyKey.created_at < func.now() - KEPT_FOR))
    inserted = session.execute(
        insert(IdempotencyKey)
        .values(tenant_id=principal.tenant.id, user_id=principal.user_id, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).first()
    if inserted is not None:
        return None
    row = session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.user_id == principal.user_id, IdempotencyKey.key == key)
    ).one()
    if row.fingerprint != fingerprint:
        raise InvalidInput(
            "This Idempotency-Key was used for a different request; use a new key for a new request",
            {"Idempotency-Key": ["already used with a different request body"]},
        )
    return StoredResponse(row.status_code or 200, row.response, dict(row.headers or {}))


def complete(session: Session, principal: Principal, key: str, status_code: int, body: Any,
             headers: dict[str, str]) -> None:
    """Store the response to replay for this key."""
    session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.tenant_id == principal.tenant.id,
            IdempotencyKey.user_id == principal.user_id,
            IdempotencyKey.key == key,
        )
        .values(status_code=status_code, response=body, headers=headers)
    )


def forget(session: Session, *, record_ids: Iterable[uuid.UUID]) -> None:
    """Remove the acting force's stored responses naming any of these records (a disposal's)."""
    texts = [f"%{record_id}%" for record_id in record_ids]
    if texts:  # LIKE ANY: each stored response made text once for every id
        session.execute(delete(IdempotencyKey).where(cast(IdempotencyKey.response, Text).like(any_(array(texts)))))
