"""Sharing agreements: proposal, approval, suspension, revocation, changes of terms; compiling the grants;
explain and simulate. What a consumer is given under them is app.sharing.visibility.

Every transition recompiles the agreement's grants in the same transaction, so a suspension or a
revocation applies to the very next request; expiry needs no job, because each grant carries valid_to
and the sharing policies compare it with now().

The pooled database is the agreements' home: every agreement, its history and its compiled grants are kept
there, and a consumer learns what is shared with it from there. A dedicated provider's own database holds a
mirror of its agreements and their grants, written in the same use case, because it is that database's sharing
policies that release its rows. The two commits are ordered so that a failure between them only ever leaves
less shared, never more: a change that takes access away commits in the provider's database first, one that
gives access commits there last. `repair` rewrites any mirror that differs from the home.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import (
    Databases,
    Sessions,
    TenantContext,
    record_class,
    shareable_types,
    table,
    tenant_context,
    transaction,
)
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.sharing.models import Agreement, AgreementEvent, Grant
from app.sharing.visibility import (
    DOCUMENT,
    active_grants,
    document_grant,
    maskable,
    read_by_id,
)
from app.tenancy.config import Tenant
from app.tenancy.registry import Registry

CLASSIFICATION_ORDER = ("OFFICIAL", "OFFICIAL-SENSITIVE")


def nameable_types() -> tuple[str, ...]:
    """What an agreement can name: every shareable record type, and documents (attached to those it names)."""
    return (*shareable_types(), DOCUMENT)


AUDIT_TYPE = "sharing_agreement"
# The provider's transitions after approval: from which statuses, to which.
TRANSITIONS = {"suspend": (("active",), "suspended"), "reinstate": (("suspended",), "active"),
               "revoke": (("active", "suspended", "proposed"), "revoked")}


@dataclass(frozen=True)
class Actor:
    principal: Principal
    registry: Registry

    @property
    def tenant(self) -> Tenant:
        return self.principal.tenant

    def is_force_admin(self) -> bool:
        return "force_admin" in self.principal.roles

    def administers(self, collaboration: str) -> bool:
        collab = next((c for c in self.registry.collaborations() if c.slug == collaboration), None)
        return collab is not None and (self.tenant.slug, self.principal.user_id) in collab.administrators


# --- agreements ------------------------------------------------------------------------------------------------

def propose(sessions: Sessions, actor: Actor, data: dict[str, Any]) -> Agreement:
    """The provider's force_admin proposes sharing its records with a force or a whole collaboration."""
    if not actor.is_force_admin():
        raise Forbidden("Only the providing force's force_admin can propose an agreement")
    provider = actor.tenant
    consumer_tenant, collaboration, consumers, admins = _consumers(actor, data, provider)
    _check_terms(data)
    _check_window(data.get("valid_from"), data.get("valid_to"))
    return _changed(sessions, actor, lambda session: _proposed(session, actor, data, consumer_tenant, collaboration,
                                                               consumers, admins))


def _proposed(session: Session, actor: Actor, data: dict[str, Any], consumer_tenant: uuid.UUID | None,
              collaboration: str | None, consumers: list[uuid.UUID],
              admins: list[uuid.UUID]) -> tuple[Agreement, str, str]:
    provider = actor.tenant
    agreement = Agreement(
        id=uuid.uuid4(), version=1, provider_id=provider.id, consumer_tenant_id=consumer_tenant,
        consumer_collaboration=collaboration, consumer_ids=consumers, admin_tenant_ids=admins, status="proposed",
        record_types=data["record_types"], max_classification=data["max_classification"],
        handling_codes=data["handling_codes"], field_profile=data["field_profile"], purpose=data["purpose"],
        # from the database's clock, which the sharing policies compare with, unless a start is given
        lawful_basis=data["lawful_basis"], valid_from=data.get("valid_from") or func.now(),
        valid_to=data.get("valid_to"),
        created_by=actor.principal.user_id,
    )
    session.add(agreement)
    session.flush()
    session.refresh(agreement, ["valid_from"])
    _event(session, actor, agreement, "proposed", data.get("reason", ""))
    return agreement, "proposed", data.get("reason", "")


def _consumers(actor: Actor, data: dict[str, Any], provider: Tenant):
    registry = actor.registry
    if data.get("consumer_force"):
        consumer = registry.by_slug(data["consumer_force"])
        if consumer is None:
            raise InvalidInput.field("consumer_force", "no such force")
        if consumer.id == provider.id:
            raise InvalidInput.field("consumer_force", "a force does not share with itself")
        return consumer.id, None, [consumer.id], []
    slug = data["consumer_collaboration"]
    collab = next((c for c in registry.collaborations() if c.slug == slug), None)
    if collab is None:
        raise InvalidInput.field("consumer_collaboration", "no such collaboration")
    if provider.slug not in collab.members:
        raise InvalidInput.field("consumer_collaboration", f"{provider.slug} is not a member of {slug}")
    members = [registry.by_slug(m) for m in collab.members if m != provider.slug]
    admin_forces = [registry.by_slug(t) for t, _ in collab.administrators]
    admins = sorted({force.id for force in admin_forces if force is not None})
    return None, slug, [m.id for m in members if m is not None], admins


def _check_terms(data: dict[str, Any]) -> None:
    if "C" in data["handling_codes"]:
        raise InvalidInput.field("handling_codes", "code C is never shared by an agreement alone")
    for record_type, profile in data["field_profile"].items():
        if record_type not in data["record_types"]:
            raise InvalidInput.field("field_profile", f"{record_type} is not one of the record types shared")
        allowed = maskable(record_type)
        unknown = sorted(set(profile.get("masked", [])) - set(allowed))
        if unknown:
            raise InvalidInput.field(f"field_profile.{record_type}.masked",
                                     f"cannot mask {', '.join(unknown)}; maskable: {', '.join(allowed)}")
    if DOCUMENT in data["record_types"] and not set(data["record_types"]) & set(_attachable_named(data)):
        raise InvalidInput.field("record_types", "documents are shared with the records they are attached to: "
                                                 "name at least one record type they attach to")


def _check_window(valid_from: datetime | None, valid_to: datetime | None) -> None:
    """An agreement ends in the future and after it starts (what the table's CHECK would refuse, named)."""
    if valid_to is None:
        return
    if valid_to <= datetime.now(timezone.utc):
        raise InvalidInput.field("valid_to", "must be in the future: an agreement cannot be proposed already ended")
    if valid_from is not None and valid_to <= valid_from:
        raise InvalidInput.field("valid_to", "must be after valid_from, when the agreement starts")


def transition(sessions: Sessions, actor: Actor, agreement_id: uuid.UUID, action: str, reason: str) -> Agreement:
    """approve | suspend | reinstate | revoke, by the provider's force_admin (approve also by a collaboration
    administrator, for a collaboration-wide agreement); the grants are recompiled in the same use case."""
    return _changed(sessions, actor, lambda session: _transitioned(session, actor, agreement_id, action, reason))


def _transitioned(session: Session, actor: Actor, agreement_id: uuid.UUID, action: str,
                  reason: str) -> tuple[Agreement, str, str]:
    agreement = _load(session, agreement_id)
    is_provider = agreement.provider_id == actor.tenant.id and actor.is_force_admin()
    collaboration = agreement.consumer_collaboration
    is_collab_admin = collaboration is not None and actor.administers(collaboration)
    if not (is_provider or is_collab_admin):
        raise Forbidden(f"Only the providing force's force_admin can {action} this agreement"
                        + (" (or a collaboration administrator approve it)" if agreement.consumer_collaboration
                           else ""))
    session.refresh(agreement, with_for_update=True)  # one transition at a time
    status = effective_status(agreement)
    now = datetime.now(timezone.utc)
    if action == "approve":
        if status != "proposed":
            raise Conflict(f"Only a proposed agreement can be approved; this one is {status}")
        if is_provider:
            agreement.provider_approved_by, agreement.provider_approved_at = actor.principal.user_id, now
        if is_collab_admin:
            agreement.collaboration_approved_by, agreement.collaboration_approved_at = actor.principal.user_id, now
        needs_collab = agreement.consumer_collaboration is not None
        if agreement.provider_approved_by and (agreement.collaboration_approved_by or not needs_collab):
            agreement.status = "active"
    else:
        if not is_provider:
            raise Forbidden(f"Only the providing force's force_admin can {action} an agreement")
        allowed, after = TRANSITIONS[action]
        if status not in allowed:
            raise Conflict(f"A {status} agreement cannot be {action}d")
        agreement.status = after
    agreement.updated_at = now
    _event(session, actor, agreement, action, reason)
    return agreement, action, reason


def change_terms(sessions: Sessions, actor: Actor, agreement_id: uuid.UUID, data: dict[str, Any]) -> Agreement:
    """New terms are a new version, proposed again: its grants stop until it is approved again."""
    return _changed(sessions, actor, lambda session: _terms_changed(session, actor, agreement_id, data))


def _terms_changed(session: Session, actor: Actor, agreement_id: uuid.UUID,
                   data: dict[str, Any]) -> tuple[Agreement, str, str]:
    agreement = _load(session, agreement_id, for_update=True)
    if agreement.provider_id != actor.tenant.id or not actor.is_force_admin():
        raise Forbidden("Only the providing force's force_admin can change an agreement's terms")
    if agreement.status == "revoked":
        raise Conflict("A revoked agreement cannot change; propose a new one")
    _check_terms(data)
    _check_window(data.get("valid_from") or agreement.valid_from, data.get("valid_to"))
    for field in ("record_types", "max_classification", "handling_codes", "field_profile", "purpose",
                  "lawful_basis", "valid_to"):
        if field in data:
            setattr(agreement, field, data[field])
    if data.get("valid_from"):
        agreement.valid_from = data["valid_from"]
    agreement.version += 1
    agreement.status = "proposed"
    agreement.provider_approved_by = agreement.provider_approved_at = None
    agreement.collaboration_approved_by = agreement.collaboration_approved_at = None
    agreement.updated_at = datetime.now(timezone.utc)
    _event(session, actor, agreement, "terms_changed", data.get("reason", ""))
    return agreement, "terms_changed", data.get("reason", "")


def _changed(sessions: Sessions, actor: Actor, change: Callable[[Session], tuple[Agreement, str, str]]) -> Agreement:
    """One change of an agreement as one use case: made and compiled in its home (the pool), mirrored to a
    dedicated provider's own database, audited in the acting force's database; the commits ordered so that a
    failure between them leaves less shared, never more (see the module's docstring)."""
    home = sessions.home()
    others: list[Session] = []
    try:
        with transaction(home):
            agreement, action, reason = change(home)
            compile_grants(home, agreement)
            provider = _tenant(actor.registry, agreement.provider_id)
            if provider.dedicated:
                _mirror(_begun(sessions.of(provider), others), agreement)
            own = sessions.own
            audit_service.record(own if own is home else _begun(own, others), actor.principal,
                                 "collection" if action == "proposed" else "alteration", AUDIT_TYPE, agreement.id,
                                 {"action": action, "version": agreement.version, "reason": reason})
            for other in others:
                other.flush()
            if agreement.status != "active":  # access taken away (or none yet): the providers' databases first
                for other in others:
                    other.commit()
        for other in others:  # access given: the home first
            if other.in_transaction():
                other.commit()
    finally:
        for other in others:
            if other.in_transaction():
                other.rollback()
    return agreement


def _begun(session: Session, opened: list[Session]) -> Session:
    if session not in opened:
        session.begin()
        opened.append(session)
    return session


def _tenant(registry: Registry, tenant_id: uuid.UUID) -> Tenant:
    """The force with this id, as the registry says now (so a force moved between databases is found where it is)."""
    found = next((t for t in registry.tenants() if t.id == tenant_id), None)
    if found is None:
        raise NotFound("No such force")
    return found


AGREEMENT_COLUMNS = [c.name for c in table(Agreement).columns]


def _mirror(session: Session, agreement: Agreement) -> None:
    """Make a dedicated provider's database hold this agreement and exactly its grants, as in the home."""
    values = {name: getattr(agreement, name) for name in AGREEMENT_COLUMNS}
    # Not INSERT ... ON CONFLICT: that checks the insert policy (the provider alone), which would refuse a change
    # made by a collaboration administrator of another force; the update policy admits them.
    mirrored = table(Agreement)
    changed = session.execute(update(mirrored).where(mirrored.c.id == agreement.id).values(values))
    if not cast(CursorResult[Any], changed).rowcount:
        session.execute(insert(mirrored).values(values))
    _write_grants(session, agreement.id, grant_rows(agreement))


def compile_grants(session: Session, agreement: Agreement) -> None:
    """Make the grant table say exactly what this agreement allows now (nothing unless it is active)."""
    session.flush()
    _write_grants(session, agreement.id, grant_rows(agreement))


def _write_grants(session: Session, agreement_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    session.execute(delete(Grant).where(Grant.agreement_id == agreement_id))
    if rows:
        session.execute(insert(table(Grant)), rows)


def grant_rows(agreement: Agreement) -> list[dict[str, Any]]:
    """The grant rows an agreement compiles to now (none unless it is active)."""
    if agreement.status != "active":
        return []
    levels = _levels(agreement.max_classification)
    return [
        {"consumer_id": consumer, "record_type": grant_type, "provider_id": agreement.provider_id,
         "classification": level, "agreement_id": agreement.id,
         "masked": sorted(agreement.field_profile.get(profile, {}).get("masked", [])),
         "valid_from": agreement.valid_from, "valid_to": agreement.valid_to}
        for consumer in agreement.consumer_ids for grant_type, profile in _grant_types(agreement.record_types)
        for level in levels
    ]


def _levels(ceiling: str) -> tuple[str, ...]:
    """The classifications released under a ceiling: it and every one below."""
    return CLASSIFICATION_ORDER[: CLASSIFICATION_ORDER.index(ceiling) + 1]


def _attachable_named(data: dict[str, Any]) -> tuple[str, ...]:
    return tuple(t for t in data["record_types"] if t != DOCUMENT and record_class(t).attachable)


def _grant_types(named: list[str]) -> list[tuple[str, str]]:
    """(grant record type, field profile it follows) for what an agreement names: each record type, and with
    documents named, a document grant per named type they attach to (masked by the document profile)."""
    types = [(t, t) for t in named if t != DOCUMENT]
    if DOCUMENT in named:
        types += [(document_grant(t), DOCUMENT) for t in _attachable_named({"record_types": named})]
    return types


def effective_status(agreement: Agreement) -> str:
    if agreement.status == "active" and agreement.valid_to and agreement.valid_to <= datetime.now(timezone.utc):
        return "expired"
    return agreement.status


def _event(session: Session, actor: Actor, agreement: Agreement, action: str, reason: str) -> None:
    terms = {"record_types": agreement.record_types, "max_classification": agreement.max_classification,
             "handling_codes": agreement.handling_codes, "field_profile": agreement.field_profile,
             "purpose": agreement.purpose, "lawful_basis": agreement.lawful_basis,
             "valid_from": agreement.valid_from.isoformat(),
             "valid_to": agreement.valid_to.isoformat() if agreement.valid_to else None}
    session.add(AgreementEvent(id=uuid.uuid4(), agreement_id=agreement.id, version=agreement.version, action=action,
                               reason=reason, actor_tenant_id=actor.tenant.id, actor_user=actor.principal.user_id,
                               status_after=agreement.status, terms=terms))
    session.flush()


def _load(session: Session, agreement_id: uuid.UUID, for_update: bool = False) -> Agreement:
    stmt = select(Agreement).where(Agreement.id == agreement_id)
    if for_update:
        stmt = stmt.with_for_update()
    agreement = session.scalars(stmt).one_or_none()
    if agreement is None:
        raise NotFound("No such agreement")
    return agreement


@dataclass(frozen=True)
class AgreementDetail:
    """An agreement as shown with its history (every version, approval and transition)."""

    agreement: Agreement
    history: list[AgreementEvent]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.agreement, name)


def get(session: Session, agreement_id: uuid.UUID) -> AgreementDetail:
    """One agreement the acting force provides, consumes or administers, with its history."""
    with transaction(session):
        agreement = _load(session, agreement_id)
        events = list(session.scalars(select(AgreementEvent).where(AgreementEvent.agreement_id == agreement_id)
                                      .order_by(AgreementEvent.occurred_at, AgreementEvent.id)))
    return AgreementDetail(agreement, events)


def find(session: Session) -> list[Agreement]:
    """The agreements the acting force provides, consumes or administers (RLS decides)."""
    with transaction(session):
        return list(session.scalars(select(Agreement).order_by(Agreement.created_at.desc(), Agreement.id)))


# --- simulate, explain -----------------------------------------------------------------------------------------

def simulate(sessions: Sessions, actor: Actor, agreement_id: uuid.UUID) -> dict[str, int]:
    """How many of the provider's records of each type the consumers would gain (run by the provider, counting
    in its own database the agreement read from its home)."""
    with transaction(sessions.home()):
        agreement = _load(sessions.home(), agreement_id)
    if agreement.provider_id != actor.tenant.id:
        raise Forbidden("Only the providing force can simulate its agreement")
    session = sessions.own
    with transaction(session):
        levels = _levels(agreement.max_classification)
        counts = {}
        for record_type in agreement.record_types:
            if record_type == DOCUMENT:
                counts[record_type] = _documents_gained(session, agreement, levels)
                continue
            model: Any = record_class(record_type)
            counts[record_type] = session.scalar(
                select(func.count()).select_from(model).where(
                    model.tenant_id == agreement.provider_id, model.classification.in_(levels),
                    model.do_not_share.is_(False), model.shared_only_when())) or 0
    return counts


@dataclass(frozen=True)
class _Releasing:
    """A record as explain reads it, with the grants in force releasing it, in the database holding it."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    classification: str
    do_not_share: bool
    grants: list[Grant]


def explain(session: Session, principal: Principal, registry: Registry, record_type: str, record_id: uuid.UUID, *,
            sessions: Sessions | None = None) -> dict[str, Any]:
    """For the owner: which forces can see the record and under which agreements; for a consumer: why it can. With
    `sessions`, a shared record held in another database is explained from there: its grants, as its database
    enforces them."""
    record = read_by_id(session, principal, record_type,
                        lambda database: _releasing(database, principal, record_type, record_id), sessions=sessions,
                        shown=lambda found: (found, record_type, {"via": "explain"}))
    return _answer(principal, registry, record_type, record)


def who_can_see(session: Session, principal: Principal, registry: Registry, *, record_type: str,
                record_id: uuid.UUID) -> dict[str, Any]:
    """explain's answer, for a page whose transaction has audited (and logged for its provider) the record's read."""
    with transaction(session):
        return _answer(principal, registry, record_type, _releasing(session, principal, record_type, record_id))


def _releasing(database: Session, principal: Principal, record_type: str, record_id: uuid.UUID) -> _Releasing:
    model: Any = record_class(record_type)
    record = database.execute(select(model.tenant_id, model.classification, model.do_not_share)
                              .where(model.id == record_id)).one_or_none()
    if record is None:
        raise NotFound(f"No such {record_type}")
    grants = active_grants(database, record_type, record.tenant_id, record.classification,
                           owner=record.tenant_id == principal.tenant.id, acting=principal.tenant.id)
    return _Releasing(record.tenant_id, record_id, record.classification, record.do_not_share, grants)


def _answer(principal: Principal, registry: Registry, record_type: str, record: _Releasing) -> dict[str, Any]:
    owner = record.tenant_id == principal.tenant.id
    slug = {t.id: t.slug for t in registry.tenants()}
    seen_by = [] if record.do_not_share else [
        {"force": slug.get(g.consumer_id, str(g.consumer_id)), "agreement_id": g.agreement_id, "masked": g.masked}
        for g in record.grants]
    return {"record_type": record_type, "record_id": record.id, "owner": slug.get(record.tenant_id),
            "classification": record.classification, "do_not_share": record.do_not_share,
            "you_own_it": owner, "visible_to": seen_by if owner else [],
            "why_you_see_it": [] if owner else [{"agreement_id": g.agreement_id, "masked": g.masked}
                                                for g in record.grants]}


def _documents_gained(session: Session, agreement: Agreement, levels: tuple[str, ...]) -> int:
    """Documents the consumers would gain: within the ceiling, not restricted, on a parent they would gain."""
    total = 0
    for parent_type in _attachable_named({"record_types": agreement.record_types}):
        parent: Any = record_class(parent_type)
        total += session.execute(text(
            f"SELECT count(*) FROM document d JOIN {parent.__tablename__} p ON p.tenant_id = d.tenant_id "
            "AND p.id = d.record_id WHERE d.tenant_id = :provider AND d.record_type = :parent_type "
            "AND d.classification = ANY(:levels) AND NOT d.do_not_share "
            "AND p.classification = ANY(:levels) AND NOT p.do_not_share"),
            {"provider": agreement.provider_id, "parent_type": parent_type, "levels": list(levels)}).scalar_one()
    return total


# --- check and repair -------------------------------------------------------------------------------------------

def repair(*, databases: Databases, tenant: Tenant) -> int:
    """Make a dedicated provider's database hold exactly the agreements and grants its home holds for it (after a
    failure between the two commits of a change): how many agreements' mirrors differed and were rewritten."""
    with tenant_context(TenantContext(tenant.id, "concord-sharing-repair")):
        with closing(databases.session(None)) as home, transaction(home):
            agreements = list(home.scalars(select(Agreement).where(Agreement.provider_id == tenant.id)))
            wanted = {a.id: sorted(map(_grant_key, grant_rows(a))) for a in agreements}
        with closing(databases.session(tenant)) as mirror, transaction(mirror):
            held: dict[uuid.UUID, list[tuple]] = {}
            for grant in mirror.scalars(select(Grant).where(Grant.provider_id == tenant.id)):
                held.setdefault(grant.agreement_id, []).append(_grant_key(
                    {c.name: getattr(grant, c.name) for c in table(Grant).columns}))
            statuses = {row.id: row.status for row in mirror.execute(
                select(Agreement.id, Agreement.status).where(Agreement.provider_id == tenant.id))}
            differing = [a for a in agreements
                         if sorted(held.get(a.id, [])) != wanted[a.id] or statuses.get(a.id) != a.status]
            for agreement in differing:
                _mirror(mirror, agreement)
            strays = set(held) - set(wanted)  # grants of agreements the home does not hold: never more shared
            if strays:
                mirror.execute(delete(Grant).where(Grant.agreement_id.in_(strays)))
    return len(differing) + len(strays)


def _grant_key(row: dict[str, Any]) -> tuple:
    return (row["consumer_id"], row["record_type"], row["classification"], row["agreement_id"], tuple(row["masked"]),
            row["valid_from"], row["valid_to"])
