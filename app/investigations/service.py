"""Investigation use cases: record, QA, allocate, acknowledge, log, actions, people in their roles (and roles
ended, with the reason), and finalising with a Home Office outcome that fits the facts.

The investigation specialises a POLE event (event_type "crime" or "non_crime_incident"): people are
linked to that event as suspect, victim, witness or reporting person, so every module sees the same links.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import any_, delete, func, literal, or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, next_serial, transaction
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.investigations import victims
from app.investigations.models import Investigation, InvestigationEntry, VictimContact, VictimPreference
from app.investigations.outcomes import OUTCOME_RULES, OUTCOMES, OutcomeFacts
from app.investigations.people import CURRENT, ROLES, current_links, former_roles_of, offence_date, people_of
from app.people import service as people_service
from app.people.identifiers import completed_years
from app.people.models import Person
from app.pole import links, records
from app.pole import service as pole
from app.pole.models import Link
from app.sharing import lists as shared_lists
from app.sharing import visibility as sharing

RECORD_TYPE = "investigation"
# The status flow, and which action moves an investigation along it.
FLOW = {"qa": ("recorded", "qa"), "allocate": ("qa", "allocated"), "acknowledge": ("allocated", "under_investigation"),
        "finalise": ("under_investigation", "finalised")}


class OutcomeRefused(Conflict):
    """409 naming the rule the outcome breaks."""


def _next_reference(session: Session, principal: Principal, on: date) -> str:
    serial = next_serial(session, "investigation_counter", principal.tenant.id, year=on.year)
    fmt = principal.tenant.settings.get("crime_reference_format", "{force_code}/{serial:06d}/{yy}")
    return fmt.format(force_code=principal.tenant.force_code, serial=serial, yy=f"{on.year % 100:02d}",
                      yyyy=f"{on.year:04d}")


def record(session: Session, principal: Principal, data: dict[str, Any]) -> Investigation:
    """Record a crime or non-crime incident: its event, its reference number, and the people in their roles."""
    with transaction(session):
        event = pole.create_event(session, principal, {
            "event_type": "crime" if data["kind"] == "crime" else "non_crime_incident",
            "occurred_at": data["occurred_at"], "location_id": data.get("location_id"), "summary": data["summary"],
            "classification": data["classification"]})
        investigation = Investigation(
            tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1, event_id=event.id, status="recorded",
            reference=_next_reference(session, principal, datetime.now(timezone.utc).date()),
            kind=data["kind"], primary_classification=data["primary_classification"],
            included_classifications=data["included_classifications"], summary=data["summary"],
            classification=data["classification"], created_by=principal.user_id, updated_by=principal.user_id)
        session.add(investigation)
        session.flush()
        for index, person in enumerate(data.get("people", [])):
            _link(session, principal, investigation, person["person_id"], person["role"], f"people.{index}.person_id")
        audit_service.record(session, principal, "collection", RECORD_TYPE, investigation.id,
                             {"reference": investigation.reference})
    return investigation


def _link(session: Session, principal: Principal, investigation: Investigation, person_id: uuid.UUID, role: str,
          field: str) -> None:
    if not links.entity_exists(session, "person", person_id, own=True):
        raise InvalidInput.field(field, "no such person in this force")
    if current_links(session, investigation, person_id, role):
        raise Conflict(f"That person is already a {_named(role)} of {investigation.reference}",
                       {field: [f"already a {_named(role)}"]})
    links.create(session, principal, {"from_": {"type": "person", "id": person_id},
                                      "to": {"type": "event", "id": investigation.event_id}, "link_type": role,
                                      "source": {"type": RECORD_TYPE, "id": investigation.id}})


def _named(role: str) -> str:
    return role.replace("_", " ")


def add_person(session: Session, principal: Principal, *, investigation_id: uuid.UUID, person_id: uuid.UUID,
               role: str) -> Investigation:
    """Link a person of the force to the investigation in a role (409 if they hold it already, or it is finalised)."""
    with transaction(session):
        investigation = load(session, investigation_id, for_update=True)
        _refuse_finalised(investigation)
        _link(session, principal, investigation, person_id, role, "person_id")
        investigation.touch(principal)
        audit_service.record(session, principal, "alteration", RECORD_TYPE, investigation.id,
                             {"person": str(person_id), "role": role})
    return investigation


def record_person(session: Session, principal: Principal, *, investigation_id: uuid.UUID, person: dict[str, Any],
                  role: str, confirm_new: bool = False,
                  sessions: Sessions | None = None) -> tuple[Investigation, Person]:
    """Record someone new through the people service and link them in a role, in one transaction: a link refused
    (the investigation finalised or not the force's) records no one."""
    with transaction(session):
        created = people_service.create(session, principal, person, confirm_new=confirm_new, sessions=sessions)
        investigation = add_person(session, principal, investigation_id=investigation_id, person_id=created.id,
                                   role=role)
    return investigation, created


# The log entry of a role ended says which role, then the reason as given (former_people shows the reason alone).
ENDED = "No longer a {role}: "


def end_role(session: Session, principal: Principal, *, investigation_id: uuid.UUID, person_id: uuid.UUID, role: str,
             reason: str) -> Investigation:
    """End a person's role (a suspect eliminated, a link made in error): the link kept, ended today, the reason
    logged; they no longer count in the role (outcomes, Victims' Code, case file), and may be linked again."""
    with transaction(session):
        investigation = load(session, investigation_id, for_update=True)
        _refuse_finalised(investigation)
        held = current_links(session, investigation, person_id, role)
        if not held:
            raise NotFound(f"No such {_named(role)} of {investigation.reference}: that person does not hold the role "
                           "now")
        if role == "suspect" and session.scalar(select(InvestigationEntry.id).where(
                InvestigationEntry.investigation_id == investigation.id, InvestigationEntry.person_id == person_id,
                InvestigationEntry.kind.in_(("charge", "summons"))).limit(1)):
            raise Conflict("That suspect is charged or summonsed on this investigation: the charge stands until the "
                           "CPS or the court ends it", {"role": ["charged or summonsed"]})
        today = principal.tenant.today()
        for link in held:
            links.update_dates(session, principal, link.id, None, {"valid_to": today})
        _append(session, principal, investigation, {"kind": "log", "text": ENDED.format(role=_named(role)) + reason,
                                                    "person_id": person_id, "refers_to": held[0].id},
                {"person": str(person_id), "role": role, "ended": [str(link.id) for link in held]})
    return investigation


def load(session: Session, investigation_id: uuid.UUID, for_update: bool = False) -> Investigation:
    return records.load(session, Investigation, "investigation", investigation_id, for_update)


def _refuse_finalised(investigation: Investigation) -> None:
    if investigation.status == "finalised":
        raise Conflict(f"{investigation.reference} is finalised (outcome {investigation.outcome_type})",
                       {"status": ["finalised"]})


def entries_of(session: Session, investigation: Investigation) -> list[InvestigationEntry]:
    return list(session.scalars(select(InvestigationEntry)
                                .where(InvestigationEntry.investigation_id == investigation.id)
                                .order_by(InvestigationEntry.occurred_at, InvestigationEntry.id)))


def move(session: Session, principal: Principal, investigation_id: uuid.UUID, action: str, expected: int | None,
         data: dict[str, Any]) -> Investigation:
    """qa, allocate (to an officer in charge), acknowledge (by that officer), finalise (with an outcome)."""
    before, after = FLOW[action]
    with transaction(session):
        investigation = load(session, investigation_id, for_update=True)
        investigation.check_version(expected)
        if investigation.status != before:
            raise Conflict(f"{action} needs the investigation {before.replace('_', ' ')}; it is "
                           f"{investigation.status.replace('_', ' ')}", {"status": [investigation.status]})
        now = datetime.now(timezone.utc)
        if action == "allocate":
            investigation.officer_in_charge, investigation.allocated_at = data["officer_in_charge"], now
        elif action == "acknowledge":
            if principal.user_id != investigation.officer_in_charge:
                raise Forbidden(f"Only the officer in charge ({investigation.officer_in_charge}) acknowledges it")
            investigation.acknowledged_at = now
        elif action == "finalise":
            check_outcome(session, investigation, data["outcome_type"])
            investigation.outcome_type, investigation.outcome_reason = data["outcome_type"], data.get("reason")
            investigation.finalised_at = now
            if data["outcome_type"] in victims.NO_FURTHER_ACTION_OUTCOMES:
                victims.trigger(session, principal, investigation, "no_further_action", now)
        investigation.status = after
        investigation.touch(principal)
        session.add(InvestigationEntry(tenant_id=investigation.tenant_id, id=uuid.uuid4(),
                                       investigation_id=investigation.id, kind="status", recorded_by=principal.user_id,
                                       text=f"{before} -> {after}" + (f": {data['reason']}" if data.get("reason")
                                                                      else "")))
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, investigation.id,
                             {"action": action, **({"outcome_type": data["outcome_type"]} if action == "finalise"
                                                   else {})})
    return investigation


def check_outcome(session: Session, investigation: Investigation, outcome: int) -> None:
    """Refuse an outcome that does not fit the facts, naming the rule it breaks (the first of OUTCOME_RULES)."""
    if outcome not in OUTCOMES:
        raise InvalidInput.field("outcome_type", "must be a Home Office outcome type from 1 to 22")
    facts = _facts(session, investigation)
    for rule in OUTCOME_RULES:
        if outcome in rule.outcomes and rule.breaks(facts):
            raise OutcomeRefused(f"Outcome {outcome} ({OUTCOMES[outcome]}) {rule.refusal(facts)} "
                                 f"[rule: {rule.name}; {rule.source}]", {"outcome_type": [rule.name]})


def _facts(session: Session, investigation: Investigation) -> OutcomeFacts:
    suspects = [p for role, p in people_of(session, investigation) if role == "suspect"]
    occurred = offence_date(session, investigation)
    charged = session.scalar(select(InvestigationEntry.id).where(
        InvestigationEntry.investigation_id == investigation.id,
        InvestigationEntry.kind.in_(("charge", "summons"))).limit(1))
    return OutcomeFacts(kind=investigation.kind, suspects=[f"{p.forenames} {p.surname}" for p in suspects],
                        ages=[_age(p, occurred) for p in suspects], charged=charged is not None)


def _age(person: Person, on: date) -> int | None:
    if person.date_of_birth is None or person.date_of_birth_precision != "day":
        return None
    return completed_years(person.date_of_birth, on)


def add_entry(session: Session, principal: Principal, investigation_id: uuid.UUID,
              data: dict[str, Any]) -> InvestigationEntry:
    """A log entry, an action (assignee, due date), an action done, or a charge or summons."""
    with transaction(session):
        investigation = load(session, investigation_id, for_update=True)
        _refuse_finalised(investigation)
        if data["kind"] == "action_done":
            action = session.scalar(select(InvestigationEntry).where(
                InvestigationEntry.id == data.get("refers_to"), InvestigationEntry.investigation_id == investigation.id,
                InvestigationEntry.kind == "action"))
            if action is None:
                raise InvalidInput.field("refers_to", "an action of this investigation")
        if data["kind"] in ("charge", "summons"):
            suspects = {p.id for role, p in people_of(session, investigation) if role == "suspect"}
            if data.get("person_id") not in suspects:
                raise InvalidInput.field("person_id", "a suspect of this investigation")
        if data["kind"] in ("charge", "summons"):
            victims.trigger(session, principal, investigation, "charge", datetime.now(timezone.utc))
        return _append(session, principal, investigation, data)


def add_log(session: Session, principal: Principal, *, investigation_id: uuid.UUID, text: str,
            person_id: uuid.UUID | None = None, source_type: str, source_id: uuid.UUID) -> InvestigationEntry:
    """A log entry another domain writes onto the investigation (a court result from its case file)."""
    with transaction(session):
        investigation = load(session, investigation_id, for_update=True)
        # Not refused when finalised: what happens next (a court result after the charge) still belongs here.
        source = {"type": source_type, "id": str(source_id)}
        return _append(session, principal, investigation, {"kind": "log", "text": text, "person_id": person_id},
                       {"source": source})


def _append(session: Session, principal: Principal, investigation: Investigation, data: dict[str, Any],
            details: dict[str, Any] | None = None) -> InvestigationEntry:
    """Add an entry in the caller's transaction: a new version of the investigation, audited."""
    entry = InvestigationEntry(tenant_id=investigation.tenant_id, id=uuid.uuid4(),
                               investigation_id=investigation.id, recorded_by=principal.user_id,
                               **{k: data.get(k) for k in ("kind", "text", "assignee", "due_on", "refers_to",
                                                           "person_id")})
    session.add(entry)
    investigation.touch(principal)
    session.flush()
    audit_service.record(session, principal, "alteration", RECORD_TYPE, investigation.id,
                         {"entry": str(entry.id), "kind": data["kind"], **(details or {})})
    return entry


@dataclass(frozen=True)
class Detail:
    investigation: Investigation
    people: list[dict[str, Any]]
    entries: list[InvestigationEntry]
    open_actions: list[InvestigationEntry]
    former_people: list[dict[str, Any]]


def get(session: Session, principal: Principal, investigation_id: uuid.UUID, *,
        sessions: Sessions | None = None) -> Detail:
    """The investigation with its people, entries and open actions, audited as consulted (and logged for its
    provider if shared); with `sessions`, a shared one held in another database is read there, through its
    policies."""
    return sharing.read_by_id(session, principal, RECORD_TYPE,
                              lambda database: _detail(database, principal, investigation_id), sessions=sessions,
                              shown=lambda found: (found.investigation, RECORD_TYPE, None))


def _detail(session: Session, principal: Principal, investigation_id: uuid.UUID) -> Detail:
    """The detail as one database holds it (its people, shown by name, logged for their provider). The roles that
    have ended are the owning force's history: another force sees only who holds a role now."""
    investigation = load(session, investigation_id)
    linked = people_of(session, investigation)
    people = [{"role": role, "person_id": p.id, "surname": p.surname, "forenames": p.forenames} for role, p in linked]
    entries = entries_of(session, investigation)
    sharing.record_shared_reads(session, principal, "person", [(p.tenant_id, p.id) for _, p in linked])
    done = {e.refers_to for e in entries if e.kind == "action_done"}
    former = former_roles_of(session, investigation) if investigation.tenant_id == principal.tenant.id else []
    return Detail(investigation, people, entries, [e for e in entries if e.kind == "action" and e.id not in done],
                  [_former(link, person, entries) for link, person in former])


def _former(link: Link, person: Person, entries: list[InvestigationEntry]) -> dict[str, Any]:
    """A role that has ended: whose, which, when it ended and why (the reason logged when it was ended here; none
    when its link was ended through the links API)."""
    prefix = ENDED.format(role=_named(link.link_type))
    logged = next((e for e in entries if e.refers_to == link.id and e.kind == "log" and e.text.startswith(prefix)),
                  None)
    return {"role": link.link_type, "person_id": person.id, "surname": person.surname, "forenames": person.forenames,
            "linked_at": link.created_at, "ended_on": link.valid_to,
            "reason": logged.text.removeprefix(prefix) if logged else None, "ended_by": logged.recorded_by if logged
            else link.updated_by}


STATUSES = ("recorded", *(after for _, after in FLOW.values()))


def find(session: Session, principal: Principal, *, page: int, page_size: int, reference: str | None = None,
         status: str | None = None, kind: str | None = None, officer_in_charge: str | None = None,
         offence: str | None = None, person_id: uuid.UUID | None = None, role: str | None = None,
         recorded_from: datetime | None = None, recorded_to: datetime | None = None,
         sessions: Sessions | None = None) -> tuple[list[Investigation], int]:
    """One page of the investigations the force can see, newest first, each audited (and logged if shared); with
    `sessions`, those shared from other databases too, merged into the one order."""
    stmt = select(Investigation)
    for column, value in ((Investigation.reference, reference), (Investigation.status, status),
                          (Investigation.kind, kind), (Investigation.officer_in_charge, officer_in_charge)):
        if value is not None:
            stmt = stmt.where(column == value)
    if offence is not None:
        stmt = stmt.where(or_(Investigation.primary_classification == offence,
                              literal(offence) == any_(Investigation.included_classifications)))
    if person_id is not None:
        linked = select(Link.to_id).where(Link.from_type == "person", Link.from_id == person_id, CURRENT,
                                          Link.link_type.in_((role,) if role else ROLES))
        stmt = stmt.where(Investigation.event_id.in_(linked))
    if recorded_from is not None:
        stmt = stmt.where(Investigation.created_at >= recorded_from)
    if recorded_to is not None:
        stmt = stmt.where(Investigation.created_at < recorded_to)
    # A filter on a field another force masks leaves that force's investigations out: it cannot reveal the value.
    masked = [f for f, v in (("officer_in_charge", officer_in_charge), ("people", person_id)) if v is not None]
    tenants = sharing.tenants_filterable(principal, RECORD_TYPE, masked) if masked else None
    if tenants is not None:
        stmt = stmt.where(Investigation.tenant_id.in_(tenants))
    return shared_lists.find(session, principal, RECORD_TYPE, Investigation, stmt,
                             (Investigation.created_at.desc(), Investigation.id),
                             page=page, page_size=page_size, sessions=sessions)


def _own(session: Session, investigation_id: uuid.UUID) -> Investigation:
    """The force's own investigation, locked (422 naming the field otherwise)."""
    investigation = session.scalar(select(Investigation).where(Investigation.id == investigation_id,
                                                               Investigation.tenant_id == func.app_current_tenant())
                                   .with_for_update())
    if investigation is None:
        raise InvalidInput.field("investigation_ids", f"no investigation {investigation_id} in this force")
    return investigation


def _is_suspect(session: Session, investigation: Investigation, person_id: uuid.UUID) -> bool:
    return person_id in {p.id for role, p in people_of(session, investigation) if role == "suspect"}


def suspect_arrested(session: Session, principal: Principal, investigation_id: uuid.UUID, person_id: uuid.UUID,
                     at: datetime) -> Investigation:
    """A suspect booked into custody: the Victims' Code 'suspect arrested' obligation for each victim (Right 6)."""
    investigation = _own(session, investigation_id)
    if not _is_suspect(session, investigation, person_id):
        raise InvalidInput.field("investigation_ids", f"the detainee is not a suspect of {investigation.reference}")
    contacts = victims.trigger(session, principal, investigation, "arrest", at)
    audit_service.record(session, principal, "alteration", RECORD_TYPE, investigation.id,
                         {"victims_code": "arrest", "obligations": len(contacts), "person": str(person_id)})
    return investigation


def charge_from(session: Session, principal: Principal, *, investigation_id: uuid.UUID, person_id: uuid.UUID,
                text: str, at: datetime, source_type: str, source_id: uuid.UUID) -> InvestigationEntry | None:
    """A charge made elsewhere (in custody) as the investigation's charge: one charge of the suspect, recorded
    once (an existing charge of that suspect is returned, not repeated), linked to its source. None when the person
    is no longer its suspect (eliminated since they were booked in): the charge is not this investigation's."""
    investigation = _own(session, investigation_id)
    if not _is_suspect(session, investigation, person_id):
        return None
    existing = session.scalar(select(InvestigationEntry).where(
        InvestigationEntry.investigation_id == investigation.id, InvestigationEntry.kind == "charge",
        InvestigationEntry.person_id == person_id))
    if existing is not None:
        return existing
    victims.trigger(session, principal, investigation, "charge", at)
    return _append(session, principal, investigation, {"kind": "charge", "text": text, "person_id": person_id},
                   {"source": {"type": source_type, "id": str(source_id)}})


def erase(session: Session, *, investigation_id: uuid.UUID) -> None:
    """Disposal: delete an own investigation with its entries and Victims' Code rows, in the caller's transaction
    (its event, links, documents, case file, custody links and audit are the caller's)."""
    own = func.app_current_tenant()
    for child in (VictimContact, VictimPreference, InvestigationEntry):
        session.execute(delete(child).where(child.tenant_id == own, child.investigation_id == investigation_id))
    session.execute(delete(Investigation).where(Investigation.tenant_id == own, Investigation.id == investigation_id))
