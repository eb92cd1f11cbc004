"""Links between entities: which types fit which pair, creating them, listing them, walking the network."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, lock_keys, record_class, table, transaction
from app.errors import Conflict, InvalidInput, NotFound
from app.pole import records
from app.pole.models import Link
from app.sharing import visibility as sharing

ENTITY_TYPES = ("person", "object", "location", "event")
RECORD_TYPE = "link"
NETWORK_LIMIT = 500

# The link types that fit each (unordered) pair of entity types.
LINK_TYPES: dict[frozenset[str], tuple[str, ...]] = {
    frozenset({"person", "event"}): ("suspect", "victim", "witness", "reporting_person", "offender",
                                     "arrested_person", "involved"),
    frozenset({"person", "location"}): ("resides_at", "works_at", "frequents", "registered_at", "no_fixed_abode"),
    frozenset({"person", "object"}): ("owner", "driver", "user", "keeper", "possessor"),
    frozenset({"person"}): ("associate", "family", "partner", "parent_of", "sibling", "co_accused"),
    frozenset({"object", "location"}): ("kept_at", "found_at"),
    frozenset({"event", "location"}): ("occurred_at",),
    frozenset({"event", "object"}): ("involved", "used_in", "stolen_in", "recovered_in"),
    frozenset({"object"}): ("associated",),
    frozenset({"location"}): ("near", "part_of"),
    frozenset({"event"}): ("related",),
}


def owner_of(session: Session, record_type: str, record_id: uuid.UUID) -> uuid.UUID | None:
    """The force owning a record the acting force can see (its own, or one shared with it); None if none.
    Any record type of the registry, not only the four entities (documents attach to custody records too)."""
    model: Any = record_class(record_type)
    return session.scalar(select(model.tenant_id).where(model.id == record_id))


def entity_exists(session: Session, entity_type: str, entity_id: uuid.UUID, own: bool = False) -> bool:
    """Can the acting force see this record (its own, or one shared with it)? `own`: its own only (the
    transaction's force, as the database has it)."""
    model: Any = record_class(entity_type)
    stmt = select(model.tenant_id).where(model.id == entity_id)
    if own:
        stmt = stmt.where(model.tenant_id == func.app_current_tenant())
    return session.scalar(stmt) is not None


def require_visible(session: Session, principal: Principal, record_type: str, record_id: uuid.UUID) -> None:
    """404 unless the acting force can see the record; a shared one is logged as consulted by its provider
    (a list of its links or documents, or a walk of its network, discloses that it exists and what it holds)."""
    record = _visible(session, record_type, record_id)
    sharing.record_shared_reads(session, principal, record_type, [(record.tenant_id, record_id)])


@dataclass(frozen=True)
class _Seen:
    """A record the acting force can see in one database (its force and id), with the links of it read there."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    links: tuple[Link, ...] = ()


def _visible(session: Session, record_type: str, record_id: uuid.UUID) -> _Seen:
    """The record, if the acting force can see it in this database; else 404."""
    tenant = owner_of(session, record_type, record_id)
    if tenant is None:
        raise NotFound.record(record_type)
    return _Seen(tenant, record_id)


def require_entity(session: Session, entity_type: str, entity_id: uuid.UUID, field: str) -> None:
    """422 naming the field when the entity is not one of this force's own records (links join own records)."""
    if not entity_exists(session, entity_type, entity_id, own=True):
        raise InvalidInput.field(field, f"no such {entity_type} in this force")


def check_link_type(from_type: str, to_type: str, link_type: str) -> None:
    allowed = LINK_TYPES.get(frozenset({from_type, to_type}), ())
    if link_type not in allowed:
        raise InvalidInput.field(
            "link_type", f"a {from_type}–{to_type} link is one of: {', '.join(allowed) or 'none'}"
        )


def _refuse_recorded_already(session: Session, principal: Principal, from_id: uuid.UUID, to_id: uuid.UUID,
                             link_type: str, valid_from: Any, valid_to: Any, source_id: uuid.UUID | None) -> None:
    """409 when the force holds this very link already (the same ends, type, dates and source): a second copy only
    clutters the record and its network. Two sources of the same link are two links, each with its provenance."""
    lock_keys(session, "link", principal.tenant.id, {f"{from_id}:{to_id}:{link_type}"})
    same = session.scalar(select(Link.id).where(
        Link.tenant_id == principal.tenant.id, Link.from_id == from_id, Link.to_id == to_id,
        Link.link_type == link_type, Link.valid_from.is_not_distinct_from(valid_from),
        Link.valid_to.is_not_distinct_from(valid_to), Link.source_id.is_not_distinct_from(source_id)).limit(1))
    if same is not None:
        raise Conflict(f"This link is recorded already: link {same}", {"link_type": ["recorded already"]})


def create(session: Session, principal: Principal, data: dict[str, Any]) -> Any:
    start, end = data["from_"], data["to"]
    check_link_type(start["type"], end["type"], data["link_type"])
    if start["id"] == end["id"]:
        raise InvalidInput.field("to", "a record cannot be linked to itself")
    with transaction(session):
        require_entity(session, start["type"], start["id"], "from")
        require_entity(session, end["type"], end["id"], "to")
        source = data.get("source") or {}
        _refuse_recorded_already(session, principal, start["id"], end["id"], data["link_type"],
                                 data.get("valid_from"), data.get("valid_to"), source.get("id"))
        return records.create(session, principal, Link, RECORD_TYPE, {
            "from_type": start["type"], "from_id": start["id"], "to_type": end["type"], "to_id": end["id"],
            "link_type": data["link_type"], "valid_from": data.get("valid_from"), "valid_to": data.get("valid_to"),
            "source_type": source.get("type"), "source_id": source.get("id"),
        })


def of_entity(session: Session, principal: Principal, entity_type: str, entity_id: uuid.UUID, *,
              sessions: Sessions | None = None) -> list[Any]:
    """Every link of one entity (either end), newest first; 404 when the acting force cannot see the entity. With
    `sessions`, a shared entity held in another database has its links read there, through that database's own
    policies (its provider's links, each end visible), and logged for the provider there."""
    with transaction(session):
        try:
            require_visible(session, principal, entity_type, entity_id)
            links = _links_of(session, principal, entity_id)
            sharing.record_shared_reads(session, principal, RECORD_TYPE, [(lk.tenant_id, lk.id) for lk in links])
        except NotFound as missing:
            if sessions is None:
                raise
            links = list(sharing.read_elsewhere(sessions, principal, entity_type,
                                                lambda other: _linked(other, principal, entity_type, entity_id),
                                                missing).links)
        audit_service.record_each(session, principal, "consultation", RECORD_TYPE, [link.id for link in links],
                                  {"via": f"{entity_type} links", "entity_id": str(entity_id)})
    return links


def _links_of(session: Session, principal: Principal, entity_id: uuid.UUID) -> list[Link]:
    """The links of an entity that the acting force can see in this database, newest first."""
    return list(session.scalars(
        select(Link).where(or_(Link.from_id == entity_id, Link.to_id == entity_id))
        .order_by(sharing.sort_key(principal, RECORD_TYPE, "valid_from", Link.valid_from, Link.tenant_id)
                  .desc().nulls_last(), Link.created_at.desc(), Link.id)
    ))


def _linked(session: Session, principal: Principal, entity_type: str, entity_id: uuid.UUID) -> _Seen:
    """A shared entity and its links in another database, the links logged there for their provider."""
    entity = _visible(session, entity_type, entity_id)
    links = _links_of(session, principal, entity_id)
    sharing.record_shared_reads(session, principal, RECORD_TYPE, [(lk.tenant_id, lk.id) for lk in links])
    return replace(entity, links=tuple(links))


# Breadth-first over links in both directions, each entity reached once by its shortest path. RLS scopes
# pole_link to the force; the explicit tenant predicate (a value, not the setting) lets the planner use the
# (tenant_id, from_id) indexes, and a pool distributed by tenant route the walk to the force's shard.
NETWORK_SQL = text(
    """
    WITH RECURSIVE walk(entity_type, entity_id, hops, path, seen) AS (
        SELECT CAST(:type AS text), CAST(:id AS uuid), 0, CAST('[]' AS jsonb), ARRAY[CAST(:id AS uuid)]
      UNION ALL
        SELECT step.entity_type, step.entity_id, w.hops + 1,
               w.path || jsonb_build_array(jsonb_build_object(
                   'link_id', l.id, 'link_type', l.link_type,
                   'from', jsonb_build_object('type', l.from_type, 'id', l.from_id),
                   'to', jsonb_build_object('type', l.to_type, 'id', l.to_id))),
               w.seen || step.entity_id
        FROM walk w
        JOIN pole_link l ON l.tenant_id = CAST(:tenant AS uuid)
                        AND (l.from_id = w.entity_id OR l.to_id = w.entity_id)
        CROSS JOIN LATERAL (
            SELECT CASE WHEN l.from_id = w.entity_id THEN l.to_type ELSE l.from_type END AS entity_type,
                   CASE WHEN l.from_id = w.entity_id THEN l.to_id ELSE l.from_id END AS entity_id
        ) step
        WHERE w.hops < :hops AND NOT step.entity_id = ANY(w.seen)
    )
    SELECT DISTINCT ON (entity_id) entity_type, entity_id, hops, path
    FROM walk WHERE hops > 0
    ORDER BY entity_id, hops
    """
)


def network(session: Session, principal: Principal, entity_type: str, entity_id: uuid.UUID, hops: int, *,
            sessions: Sessions | None = None) -> dict[str, Any]:
    """The entities within `hops` of the acting force's own links of one entity, each with the path of links that
    reaches it. With `sessions`, the start may be a shared entity held in another database (checked and logged
    there): as in one database, the force's own links, which join only its own records, do not reach it."""
    with transaction(session):
        try:
            require_visible(session, principal, entity_type, entity_id)
        except NotFound as missing:
            if sessions is None:
                raise
            sharing.read_elsewhere(sessions, principal, entity_type,
                                   lambda other: _visible(other, entity_type, entity_id), missing)
        rows = session.execute(NETWORK_SQL, {"type": entity_type, "id": entity_id, "hops": hops,
                                             "tenant": principal.tenant.id}).all()
        rows = sorted(rows, key=lambda r: (r.hops, r.entity_type, str(r.entity_id)))
        truncated = len(rows) > NETWORK_LIMIT
        rows = rows[:NETWORK_LIMIT]
        audit_service.record(session, principal, "consultation", entity_type, entity_id,
                             {"via": "network", "hops": hops, "entities": len(rows)})
        _log_shared_reached(session, principal, rows)
    return {
        "start": {"type": entity_type, "id": str(entity_id)},
        "hops": hops,
        "entities": [{"type": r.entity_type, "id": r.entity_id, "hops": r.hops, "path": r.path} for r in rows],
        "truncated": truncated,
    }


def _log_shared_reached(session: Session, principal: Principal, rows: list[Any]) -> None:
    """The providers' access-log rows for other forces' records a walk passed through."""
    if not principal.shared:
        return
    by_type: dict[str, list[uuid.UUID]] = {}
    for row in rows:
        by_type.setdefault(row.entity_type, []).append(row.entity_id)
    for entity_type, ids in by_type.items():
        model: Any = record_class(entity_type)
        owners = session.execute(select(model.tenant_id, model.id).where(
            model.id.in_(ids), model.tenant_id != principal.tenant.id)).all()
        sharing.record_shared_reads(session, principal, entity_type, [(o.tenant_id, o.id) for o in owners])


def repoint(session: Session, principal: Principal, *, from_id: uuid.UUID,
            to_id: uuid.UUID) -> list[dict[str, str]]:
    """Move every end of the force's links at one entity to another (a merge); each moved link is audited."""
    with transaction(session):
        # Own links only: under a stated purpose another force's shared links are visible, never ours to move.
        found = session.scalars(select(Link).where(Link.tenant_id == principal.tenant.id,
                                                   or_(Link.from_id == from_id, Link.to_id == from_id))
                                .order_by(Link.id))
        moved = []
        for link in list(found):
            if to_id in (link.from_id, link.to_id):
                continue  # a link between the two would join the survivor to itself
            end = "from" if link.from_id == from_id else "to"
            move_end(session, principal, link_id=link.id, end=end, to_id=to_id)
            moved.append({"id": str(link.id), "end": end})
    return moved


def move_end(session: Session, principal: Principal, *, link_id: uuid.UUID, end: str,
             to_id: uuid.UUID) -> Link:
    """Point one end ("from" or "to") of a link at another entity of the same type: a new version, audited."""
    return records.update(session, principal, Link, RECORD_TYPE, link_id, None, {f"{end}_id": to_id})


def update_dates(session: Session, principal: Principal, link_id: uuid.UUID, expected: int | None,
                 changes: dict[str, Any]) -> Any:
    def check(link: Link) -> None:
        if link.valid_from and link.valid_to and link.valid_to < link.valid_from:
            raise InvalidInput.field("valid_to", "cannot be before valid_from")

    return records.update(session, principal, Link, RECORD_TYPE, link_id, expected, changes, check)


def erase_touching(session: Session, *, record_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Disposal: delete the own links with one of the records at either end, clear them as a source; the deleted
    links' ids."""
    own = Link.tenant_id == func.app_current_tenant()
    removed = list(session.scalars(select(Link.id).where(own, or_(Link.from_id.in_(record_ids),
                                                                  Link.to_id.in_(record_ids)))))
    if removed:
        session.execute(table(Link).delete().where(own, Link.id.in_(removed)))
    session.execute(table(Link).update().where(own, Link.source_id.in_(record_ids))
                    .values(source_type=None, source_id=None))
    return removed
