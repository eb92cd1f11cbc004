"""Executing an approved disposal list, exactly as approved, one transaction per record.

Each record goes with everything hanging off it: its links (and their documents), its documents (their objects
removed from storage, every version, once no other document references them), its own children and search keys,
its reviews; an investigation, an intelligence report or a custody record also with its entries and the records
that are part of it (app/retention/rules.py states the cascade and when each may go; cascade.py carries it out).
The list runs in rules.DISPOSAL_ORDER, what refers to others first. Each record leaves a tombstone (type, id, group,
decision, who approved and disposed, when; for a record gone with another, which) and its audit events, which carry
ids and actions only. Records shared with other forces are read through RLS, never copied, so
a disposed record is gone from every consumer on the next transaction. Anything else still referring to the record
(an investigation naming the person, an event at the location) stops its disposal with a 409 naming it: its
foreign keys at once, every other uuid column of the force's tables after the erasure, read from the catalog once
per list and asked in one statement per record (References); the others on the list go on.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

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
        references = References(session)
    outcomes = [_dispose_one(session, principal, store, references, list_id, approved_by, item) for item in planned]
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


def _dispose_one(session: Session, principal: Principal, store: storage_backends.Storage, references: References,
                 list_id: uuid.UUID, approved_by: str, item: _Planned) -> Outcome:
    try:
        with transaction(session):
            if _tombstone(session, item) is not None:
                return Outcome(item.record_type, item.record_id, True, "already disposed of")
            keys, goes_with = _erase(session, principal, references, item)
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
    return session.scalars(select(Tombstone).where(
        Tombstone.tenant_id == func.app_current_tenant(), Tombstone.record_type == item.record_type,
        Tombstone.record_id == item.record_id)).one_or_none()


def _erase(session: Session, principal: Principal, references: References,
           item: _Planned) -> tuple[list[str], list[cascade.Companion]]:
    """Remove the record and what hangs off it; the storage keys to purge once committed, and the records that
    went with it."""
    model: Any = record_class(item.record_type)
    record = session.scalar(select(model).where(model.tenant_id == func.app_current_tenant(),
                                                model.id == item.record_id)
                            .options(lazyload("*")).with_for_update())  # a person's names, markers: not read
    if record is None:
        raise Conflict(f"The {item.record_type} is no longer there, or is restricted", {"record_id": ["not found"]})
    latest = service.latest_review(session, record_type=item.record_type, record_id=item.record_id)
    if latest is None or latest.id != item.review_id:
        raise Conflict(f"The {item.record_type} was reviewed again after the list was approved",
                       {"review_id": ["superseded"]})
    if record.restricted:
        raise Conflict(f"The {item.record_type} has been restricted (kept as evidence)", {"restricted": ["true"]})
    goes_with = cascade.companions(session, record=record)
    why = cascade.refusal(session, record=record, today=principal.tenant.today()) or _companion_refusal(
        session, record, goes_with)
    if why:
        raise Conflict(why, {"record_id": [why]})
    session.expunge(record)
    gone = [(model.__tablename__, item.record_id),
            *((record_class(c.record_type).__tablename__, c.record_id) for c in goes_with)]
    session.execute(delete(Review).where(Review.tenant_id == func.app_current_tenant(),
                                         Review.record_id.in_([record_id for _, record_id in gone])))
    keys: list[str] = []
    try:
        with session.begin_nested():
            if item.record_type in cascade.CASCADED:
                keys += cascade.erase(session, record_type=item.record_type, record_id=item.record_id,
                                      goes_with=goes_with)
            else:
                link_ids = links.erase_touching(session, record_ids=[item.record_id])
                keys += documents.erase_attached(session, records=[(item.record_type, item.record_id),
                                                                   *(("link", link_id) for link_id in link_ids)])
                if item.record_type == "person":
                    people.erase(session, person_id=item.record_id)
                else:
                    records.erase(session, model=model, record_id=item.record_id)
    except IntegrityError as exc:
        table = getattr(exc.orig.diag, "table_name", None) if exc.orig is not None else None  # type: ignore[attr-defined]
        raise _still_referred("a record", table) from None
    referrer = references.first(session, gone=gone)
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


@dataclass(frozen=True)
class _Column:
    """A uuid column (or uuid array) of a tenant table that may name a record, and the tables its own foreign keys
    point into by their id."""

    table: str
    name: str
    array: bool
    foreign_to: tuple[str, ...]


# Every uuid column (and uuid array) of every tenant table the acting role may read, but those kept by design, in a
# fixed order; with the tables each column's immediate foreign keys refer to by id.
_COLUMNS = text("""
    SELECT k.relname, a.attname, a.atttypid = 'uuid[]'::regtype,
           ARRAY(SELECT p.relname FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
                 CROSS JOIN LATERAL unnest(f.conkey, f.confkey) AS m(col, ref)
                 JOIN pg_attribute r ON r.attrelid = f.confrelid AND r.attnum = m.ref AND r.attname = 'id'
                 WHERE f.conrelid = k.oid AND f.contype = 'f' AND NOT f.condeferrable AND m.col = a.attnum
                 ORDER BY 1)
    FROM pg_class k JOIN pg_attribute a ON a.attrelid = k.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE k.relnamespace = 'public'::regnamespace AND k.relkind IN ('r', 'p') AND NOT k.relispartition
      AND EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = k.oid AND t.attname = 'tenant_id'
                  AND NOT t.attisdropped)
      AND a.attname <> 'tenant_id' AND a.atttypid IN ('uuid'::regtype, 'uuid[]'::regtype)
      AND has_column_privilege(k.oid, a.attnum, 'SELECT') AND NOT (k.relname = ANY(:kept))
    ORDER BY k.oid, a.attnum""")


class References:
    """Where the force's rows may still name a record: read from the catalog once per disposal, then asked once per
    record disposed of (with the records gone with it), in one statement."""

    def __init__(self, session: Session):
        self.columns = [_Column(table, name, array, tuple(foreign_to))
                        for table, name, array, foreign_to in session.execute(_COLUMNS, {"kept": list(KEPT)})]
        self._statements: dict[tuple[str, ...], tuple[str, list[list[int]]]] = {}

    def first(self, session: Session, *, gone: list[tuple[str, uuid.UUID]]) -> tuple[str, str] | None:
        """The first (column, table) of this force still naming one of the records gone ((table, id), in order)."""
        # A column whose own foreign key points into the record's table is not asked: the database refused the
        # record's deletion itself (NO ACTION: the IntegrityError above), or removed or cleared the rows naming it
        # (CASCADE, SET NULL). Every other column is, the record's own table's too.
        statement, subsets = self._statement(tuple(table for table, _ in gone))
        ids = [record_id for _, record_id in gone]
        # Prepared, with a generic plan: planning some fifty branches, each under its table's row-level security,
        # took longer than running them, and the plan (an index probe per column) is the same whatever the ids.
        driver = session.connection().connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            found = cursor.execute(statement, {f"ids_{n}": [ids[i] for i in subset]
                                               for n, subset in enumerate(subsets)}, prepare=True).fetchall()
            cursor.execute("SET LOCAL plan_cache_mode = DEFAULT")
        if not found:
            return None
        _, index = min((ids.index(record_id), index) for index, record_id in found)
        return self.columns[index].name, self.columns[index].table

    def _statement(self, tables: tuple[str, ...]) -> tuple[str, list[list[int]]]:
        """One query for records of these tables: each column asked for the ids it may name, every id at once."""
        if tables not in self._statements:
            subsets: list[list[int]] = []
            branches = []
            for index, column in enumerate(self.columns):
                subset = [i for i, table in enumerate(tables) if table not in column.foreign_to]
                if not subset:
                    continue
                if subset not in subsets:
                    subsets.append(subset)
                match = f"x = ANY({column.name})" if column.array else f"{column.name} = x"
                branches.append(f"SELECT {index}, x FROM unnest(CAST(%(ids_{subsets.index(subset)})s AS uuid[])) x "
                                f"WHERE EXISTS (SELECT 1 FROM {column.table} WHERE tenant_id = app_current_tenant() "
                                f"AND {match})")
            self._statements[tables] = " UNION ALL ".join(branches), subsets
        return self._statements[tables]
