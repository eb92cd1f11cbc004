"""What the acting force is given by other forces: the shared sources, masking, the forces a filter may
narrow to, and the providers' access log (DPA 2018 s.62: every consultation and disclosure is logged).

The database's sharing policies decide row by row what crosses; this module only shapes what the consumer
sees of it (masked, read-only) and writes down that it saw it. Record types come from the registry of mapped
classes (app.db), never from a list kept here.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, TypeVar

from sqlalchemy import case, func, insert, or_, select, text
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, SharedSource, log_page, record_class, table, transaction
from app.errors import NotFound
from app.sharing.models import Access, Grant

log = logging.getLogger(__name__)
R = TypeVar("R")

DOCUMENT = "document"
# Document metadata a field profile may mask (its bytes cross only when the agreement names documents).
DOCUMENT_MASKABLE = ("filename", "created_by")

ACTIVE_GRANTS = """
    SELECT provider_id, record_type, array_agg(DISTINCT agreement_id) AS agreements,
           array_agg(DISTINCT m) FILTER (WHERE m IS NOT NULL) AS masked
    FROM sharing_grant LEFT JOIN LATERAL unnest(masked) m ON true
    WHERE consumer_id = app_current_tenant() AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now())
    GROUP BY provider_id, record_type
"""


def document_grant(parent_type: str) -> str:
    """The grant's record type releasing the documents attached to one record type ("document:person")."""
    return f"{DOCUMENT}:{parent_type}"


def maskable(record_type: str) -> tuple[str, ...]:
    """The fields a field profile may mask for a record type (or for documents)."""
    return DOCUMENT_MASKABLE if record_type == DOCUMENT else record_class(record_type).maskable


def shared_sources(session: Session) -> tuple[SharedSource, ...]:
    """What other forces share with the acting force now (run inside its tenant context)."""
    with transaction(session):
        rows = session.execute(text(ACTIVE_GRANTS)).all()
    return tuple(SharedSource(r.provider_id, r.record_type, tuple(r.agreements), frozenset(r.masked or ()))
                 for r in rows)


def has_shared(session: Session) -> bool:
    """Does any force share anything with the acting force now (whether or not a purpose was stated)?"""
    with transaction(session):
        return bool(session.execute(text(ACTIVE_GRANTS + " LIMIT 1")).first())


def mask_for(principal: Principal | None, grant_type: str, tenant_id: uuid.UUID) -> frozenset[str] | None:
    """None for the acting force's own record; else the fields masked for it (empty: nothing masked). With nobody
    acting, every record is another force's and nothing of it is released (fail closed)."""
    if principal is not None and tenant_id == principal.tenant.id:
        return None
    found = principal.source(tenant_id, grant_type) if principal is not None else None
    if found is not None:
        return found.masked
    return frozenset(maskable(DOCUMENT if grant_type.startswith(DOCUMENT + ":") else grant_type))


def tenants_filterable(principal: Principal, record_type: str, fields: Iterable[str]) -> tuple[uuid.UUID, ...] | None:
    """The forces whose records may be filtered or sorted by these fields: the acting force and those sharing
    the record type without masking any of them. None when nothing is shared (no narrowing needed)."""
    if not principal.shared:
        return None
    wanted = set(fields)
    return (principal.tenant.id, *(s.provider_id for s in principal.shared
                                   if s.record_type == record_type and not wanted & s.masked))


def unless_masked(principal: Principal, record_type: str, field: str, condition: Any, tenant_column: Any) -> Any:
    """An optional filter on `field` as each force may be filtered: applied to the acting force's records and to
    those of forces releasing the field, ignored for the forces masking it (their records are found exactly
    as without it, so the masked value can neither narrow nor confirm them)."""
    tenants = tenants_filterable(principal, record_type, [field])
    return condition if tenants is None else or_(condition, tenant_column.notin_(tenants))


def sort_key(principal: Principal, record_type: str, field: str, column: Any, tenant_column: Any) -> Any:
    """A sort on `field` as each force may be sorted: by its value for the acting force and for forces releasing
    it, by nothing (NULL) for the forces masking it, so the order of a list reveals no masked value."""
    tenants = tenants_filterable(principal, record_type, [field])
    return column if tenants is None else case((tenant_column.in_(tenants), column), else_=None)


def mask_dump(principal: Principal | None, grant_type: str, tenant_id: uuid.UUID, data: dict[str, Any],
              *nested: str) -> dict[str, Any]:
    """A serialised record as the acting force may see it: masked fields emptied, shared records read-only.

    `nested` names keys of `data` holding the record's own fields, for a detail view that wraps the record
    beside its entries (custody, investigations)."""
    masked = mask_for(principal, grant_type, tenant_id)
    if masked is None:
        return data
    targets = [data, *(data[key] for key in nested)]
    for field in masked:
        for target in targets:
            if field in target:
                target[field] = [] if isinstance(target[field], list) else None
    data["shared"] = {"read_only": True,
                      "masked": sorted(f for f in masked if f == "source" or any(f in t for t in targets))}
    return data


def record_shared_reads(session: Session, principal: Principal, record_type: str,
                        records: Iterable[tuple[uuid.UUID, uuid.UUID]], *, grant_type: str | None = None) -> None:
    """The provider's access-log rows for the other forces' records among (tenant_id, id) pairs returned.

    `grant_type` names the grant that released them when it is not the record type (a document's parent)."""
    rows = []
    for tenant_id, record_id in records:
        if tenant_id == principal.tenant.id:
            continue
        found = principal.source(tenant_id, grant_type or record_type)
        rows.append({"id": uuid.uuid4(), "consumer_id": principal.tenant.id, "provider_id": tenant_id,
                     "user_id": principal.user_id, "record_type": record_type, "record_id": record_id,
                     "agreement_ids": list(found.agreement_ids) if found else [], "purpose": principal.purpose,
                     "request_id": principal.request_id})
    if rows:
        session.execute(insert(table(Access)), rows)


Shown = Callable[[R], tuple[Any, str, dict[str, Any] | None]]


def read_by_id(session: Session, principal: Principal, record_type: str, read: Callable[[Session], R], *,
               sessions: Sessions | None = None, shown: Shown[R] | None = None) -> R:
    """A record by id as `read` reads it from a database (NotFound when it is not there): in the acting force's
    database, its consultation audited and, if another force's, logged for its provider, in one transaction; or
    else, with `sessions`, as read_elsewhere reads it from another database. `shown` is as for read_elsewhere."""
    try:
        with transaction(session):
            result = read(session)
            record: Any
            record, grant_type, details = shown(result) if shown else (result, record_type, None)
            audit_service.record(session, principal, "consultation", record_type, record.id, details)
            record_shared_reads(session, principal, record_type, [(record.tenant_id, record.id)],
                                grant_type=grant_type)
    except NotFound as missing:
        if sessions is None:
            raise
        return read_elsewhere(sessions, principal, record_type, read, missing, shown=shown)
    return result


def read_elsewhere(sessions: Sessions, principal: Principal, record_type: str, read: Callable[[Session], R],
                   missing: NotFound, *, shown: Shown[R] | None = None) -> R:
    """A record by id that is not in the acting force's database: looked for, in turn, in each other database
    holding a force that shares this record type with it now (the agreements' home says which; the registry,
    read now, says where each force lives), read there under that database's own row-level security, with the
    provider's access-log row written there and the consultation in the acting force's own audit trail.

    `read` raises NotFound when the record is not in a database; `missing` is raised when it is in none. `shown`
    says, of what `read` returns, the record it shows, the grant type that released it and the consultation's
    details, where they are not the result itself, `record_type` and none: a detail view wrapping its record, or a
    document, released by its parent's document grant (a grant type "document:person" shares documents)."""
    providers = [s.provider_id for s in principal.shared if s.record_type.partition(":")[0] == record_type]
    for database in sessions.elsewhere(providers):
        other = sessions.named(database)
        try:
            with transaction(other):
                result = read(other)
                record: Any
                record, grant_type, details = shown(result) if shown else (result, record_type, None)
                record_shared_reads(other, principal, record_type, [(record.tenant_id, record.id)],
                                    grant_type=grant_type)
                with transaction(sessions.own):
                    audit_service.record(sessions.own, principal, "consultation", record_type, record.id, details)
        except NotFound:
            continue
        return result
    raise missing


def record_reads_elsewhere(sessions: Sessions, principal: Principal, record_type: str,
                           records: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> set[uuid.UUID]:
    """In a transaction of its own in each database: the access-log rows of the records among (tenant_id, id)
    pairs whose providers live in another database than the acting force's; the ids so logged."""
    pairs = list(records)
    logged: set[uuid.UUID] = set()
    for database, tenants in sessions.elsewhere({tenant for tenant, _ in pairs}).items():
        mine = [(tenant, rid) for tenant, rid in pairs if tenant in tenants]
        other = sessions.named(database)
        with transaction(other):
            record_shared_reads(other, principal, record_type, mine)
        logged.update(rid for _, rid in mine)
    return logged


def record_disclosure(session: Session, principal: Principal, records: list[tuple[str, uuid.UUID, uuid.UUID]],
                      *, via: str) -> None:
    """In a transaction of its own: the records an error answer showed, (record type, force, id), audited as
    consulted and, for other forces' records, logged for their providers. Best effort: the answer stands."""
    try:
        with session.begin():
            for record_type in dict.fromkeys(t for t, _, _ in records):
                mine = [(tenant, rid) for t, tenant, rid in records if t == record_type]
                audit_service.record_each(session, principal, "consultation", record_type, [r for _, r in mine],
                                          {"via": via})
                record_shared_reads(session, principal, record_type, mine)
    except Exception:
        log.exception("could not record the records disclosed by an error answer (%s)", via)


def active_grants(session: Session, record_type: str, record_tenant: uuid.UUID, classification: str,
                  *, owner: bool, acting: uuid.UUID) -> list[Grant]:
    """The grants in force releasing one record: to every consumer (for its owner) or to the acting force."""
    return list(session.scalars(select(Grant).where(
        Grant.record_type == record_type, Grant.provider_id == record_tenant, Grant.classification == classification,
        Grant.provider_id == acting if owner else Grant.consumer_id == acting,
        Grant.valid_from <= func.now(), or_(Grant.valid_to.is_(None), Grant.valid_to > func.now()),
    ).order_by(Grant.consumer_id, Grant.agreement_id)))


@dataclass(frozen=True)
class AccessQuery:
    force: uuid.UUID | None = None
    user: str | None = None
    record_id: uuid.UUID | None = None
    from_: datetime | None = None
    to: datetime | None = None
    page: int = 1
    page_size: int = 50


def access_log(session: Session, principal: Principal, query: AccessQuery) -> tuple[list[Access], int]:
    """Every access by other forces to the acting force's records, newest first."""
    return log_page(session, select(Access).where(Access.provider_id == principal.tenant.id),
                    Access.occurred_at, Access.id,
                    [(Access.consumer_id, query.force), (Access.user_id, query.user),
                     (Access.record_id, query.record_id)],
                    query.from_, query.to, query.page, query.page_size)
