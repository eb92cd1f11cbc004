"""Executing an approved disposal list, exactly as approved, one transaction per record.

Each record goes with everything hanging off it: its links (and their documents), its documents (their objects
removed from storage, every version, once no other document references them), its own children and search keys,
its reviews; an investigation, an intelligence report or a custody record also with its entries and the records
that are part of it (app/retention/rules.py states the cascade and when each may go; cascade.py carries it out).
The list runs in rules.DISPOSAL_ORDER, what refers to others first. Each record leaves a tombstone (type, id, group,
decision, who approved and disposed, when; for a record gone with another, which) and its audit events, which carry
ids and actions only. Records shared with other forces are read through RLS, never copied, so
a disposed record is gone from every consumer on the next transaction. Anything else still referring to the record
(an investigation naming the person, an event at the location) stops its disposal with a 409 naming it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import record_class, transaction
from app.documents import service as documents
from app.documents import storage as storage_backends
from app.errors import ApiError, Conflict
from app.idempotency import service as idempotency
from app.people import service as people
from app.pole import links, records
from app.retention import cascade, rules, service
from app.retention.models import Review, Tombstone

# Tables that may name a disposed record and keep doing so: the audit trail and the providers' access log (ids
# and actions, DPA 2018 s.62), and retention's own record of the disposal.
KEPT = ("audit_event", "sharing_access", "retention_tombstone", "disposal_item")


@dataclass(frozen=True)
class Outcome:
    record_type: str
    record_id: uuid.UUID
    disposed: bool
    reason: str = ""


def execute(session: Session, principal: Principal, store: storage_backends.Storage, *,
            list_id: uuid.UUID) -> list[Outcome]:
    """Dispose of every record of an approved list not yet disposed of, each in its own transaction."""
    with transaction(session):
        disposal = service.load_list(session, list_id=list_id)
        items = service.items_of(session, disposal)
        if disposal.status == "proposed":
            raise Conflict("The list has not been approved by a second authorised user", {"status": ["proposed"]})
        if service.items_hash([(i.record_type, i.record_id) for i in items]) != disposal.items_hash:
            raise Conflict("The list's items are not those approved: nothing was disposed of",
                           {"items_hash": ["does not match the list's items"]})
        planned = sorted((_Planned(i.record_type, i.record_id, i.retention_group, i.review_id) for i in items),
                         key=lambda p: (rules.order_key(p.record_type), str(p.record_id)))
        approved_by, executed = disposal.approved_by or "", disposal.status == "executed"
    outcomes = [_dispose_one(session, principal, store, list_id, approved_by, item) for item in planned]
    if all(o.disposed for o in outcomes) and not executed:
        with transaction(session):
            disposal = service.load_list(session, list_id=list_id, for_update=True)
            disposal.status, disposal.executed_by = "executed", principal.user_id
            disposal.executed_at, disposal.version = datetime.now(timezone.utc), disposal.version + 1
            audit_service.record(session, principal, "alteration", service.LIST_TYPE, disposal.id,
                                 {"status": "executed"})
    return outcomes


@dataclass(frozen=True)
class _Planned:
    """An item of the list, as read when execution began (ORM rows expire when a record's transaction fails)."""

    record_type: str
    record_id: uuid.UUID
    retention_group: int
    review_id: uuid.UUID


def _dispose_one(session: Session, principal: Principal, store: storage_backends.Storage, list_id: uuid.UUID,
                 approved_by: str, item: _Planned) -> Outcome:
    if _tombstone(session, item) is not None:
        return Outcome(item.record_type, item.record_id, True, "already disposed of")
    try:
        with transaction(session):
            keys, goes_with = _erase(session, principal, item)
            tombstone = {"tenant_id": principal.tenant.id, "retention_group": item.retention_group,
                         "decision": "dispose", "review_id": item.review_id, "list_id": list_id,
                         "approved_by": approved_by, "disposed_by": principal.user_id}
            session.add(Tombstone(record_type=item.record_type, record_id=item.record_id, **tombstone))
            for companion in goes_with:
                session.add(Tombstone(record_type=companion.record_type, record_id=companion.record_id,
                                      with_type=item.record_type, with_id=item.record_id, **tombstone))
            session.flush()
            idempotency.forget(session, record_ids=[item.record_id, *(c.record_id for c in goes_with)])
            audit_service.record(session, principal, "erasure", item.record_type, item.record_id,
                                 {"disposal_list": str(list_id), "group": item.retention_group})
            for companion in goes_with:
                audit_service.record(session, principal, "erasure", companion.record_type, companion.record_id,
                                     {"disposal_list": str(list_id), "with": f"{item.record_type}:{item.record_id}"})
            _after_erasure()
    except ApiError as refusal:
        return Outcome(item.record_type, item.record_id, False, refusal.message)
    documents.purge(store, keys=keys)  # after the commit: a row never points at a removed object
    return Outcome(item.record_type, item.record_id, True)


def _after_erasure() -> None:
    """A seam for tests: runs after everything of a record is removed, before its transaction commits."""


def _tombstone(session: Session, item: _Planned) -> Tombstone | None:
    with transaction(session):
        return session.scalars(select(Tombstone).where(
            Tombstone.tenant_id == func.app_current_tenant(), Tombstone.record_type == item.record_type,
            Tombstone.record_id == item.record_id)).one_or_none()


def _erase(session: Session, principal: Principal,
           item: _Planned) -> tuple[list[str], list[cascade.Companion]]:
    """Remove the record and what hangs off it; the storage keys to purge once committed, and the records that
    went with it."""
    model: Any = record_class(item.record_type)
    record = session.scalar(select(model).where(model.tenant_id == func.app_current_tenant(),
                                                model.id == item.record_id).with_for_update())
    if record is None:
        raise Conflict(f"The {item.record_type} is no longer there, or is restricted", {"record_id": ["not found"]})
    latest = service.latest_review(session, record_type=item.record_type, record_id=item.record_id)
    if latest is None or latest.id != item.review_id:
        raise Conflict(f"The {item.record_type} was reviewed again after the list was approved",
                       {"review_id": ["superseded"]})
    if record.restricted:
        raise Conflict(f"The {item.record_type} has been restricted (kept as evidence)", {"restricted": ["true"]})
    goes_with = cascade.companions(session, record=record)
    why = cascade.refusal(session, record=record, today=service.today(principal=principal)) or _companion_refusal(
        session, record, goes_with)
    if why:
        raise Conflict(why, {"record_id": [why]})
    session.expunge(record)
    gone = [item.record_id, *(c.record_id for c in goes_with)]
    session.execute(delete(Review).where(Review.tenant_id == func.app_current_tenant(), Review.record_id.in_(gone)))
    keys: list[str] = []
    try:
        with session.begin_nested():
            if item.record_type in cascade.CASCADED:
                keys += cascade.erase(session, record_type=item.record_type, record_id=item.record_id,
                                      goes_with=goes_with)
            else:
                for link_id in links.erase_touching(session, record_id=item.record_id):
                    keys += documents.erase_attached(session, record_type="link", record_id=link_id)
                keys += documents.erase_attached(session, record_type=item.record_type, record_id=item.record_id)
                if item.record_type == "person":
                    people.erase(session, person_id=item.record_id)
                else:
                    records.erase(session, model=model, record_id=item.record_id)
    except IntegrityError as exc:
        table = getattr(exc.orig.diag, "table_name", None) if exc.orig is not None else None  # type: ignore[attr-defined]
        raise _still_referred("a record", table) from None
    for record_id in gone:
        referrer = _referred_by(session, record_id)
        if referrer:
            raise _still_referred(*referrer)
    return keys, goes_with


def _companion_refusal(session: Session, record: Any, goes_with: list[cascade.Companion]) -> str | None:
    """Why a record that would go with this one stops it (rules.companion_refusal), or None."""
    restricted = set(session.scalars(text("SELECT app_restricted_ids()"))) if goes_with else set()
    for companion in goes_with:
        latest = service.latest_review(session, record_type=companion.record_type, record_id=companion.record_id)
        why = rules.companion_refusal(record_type=companion.record_type, of=record.record_type,
                                      decision=latest.decision if latest else None,
                                      restricted=companion.record_id in restricted)
        if why:
            return why
    return None


def _still_referred(what: str, where: str | None) -> Conflict:
    return Conflict(f"{what} in {where or 'another table'} still refers to this record: dispose of or retain that "
                    "first", {"record_id": [f"referred to by {where or 'another record'}"]})


def _referred_by(session: Session, record_id: uuid.UUID) -> tuple[str, str] | None:
    """The first (column, table) of this force still naming the id, from the catalog: every uuid column (and uuid
    array) of every tenant table, but those kept by design."""
    columns = session.execute(text(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.columns t ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
        "AND t.column_name = 'tenant_id' JOIN pg_class k ON k.relname = c.table_name "
        "AND k.relnamespace = 'public'::regnamespace AND NOT k.relispartition "
        "WHERE c.table_schema = 'public' AND c.column_name <> 'tenant_id' "
        "AND (c.data_type = 'uuid' OR c.udt_name = '_uuid') AND NOT (c.table_name = ANY(:kept))"),
        {"kept": list(KEPT)}).all()
    for table, column, data_type in columns:
        match = f"{column} = :id" if data_type == "uuid" else f":id = ANY({column})"
        if session.scalar(text(f"SELECT 1 FROM {table} WHERE tenant_id = app_current_tenant() AND {match} LIMIT 1"),
                          {"id": record_id}):
            return column, table
    return None
