"""Victims' Code obligations: created by the developments that trigger them, honouring each victim's
preferences, met when the victim is told, and listed per officer in charge when overdue."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, with_expression

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import transaction
from app.errors import Conflict, InvalidInput, NotFound
from app.investigations.models import Investigation, VictimContact, VictimPreference
from app.investigations.people import in_role, offence_date, people_of
from app.investigations.victims_code import due_on, enhanced_rights
from app.people.models import Person
from app.pole import records

OUTCOME_TRIGGERS = ("charge", "no_further_action", "decision_not_to_investigate")  # what "outcomes only" means
NO_FURTHER_ACTION_OUTCOMES = {9, 10, 14, 15, 16, 17, 18, 21}
RECORD_TYPE = Investigation.record_type


def _load(session: Session, investigation_id: uuid.UUID, for_update: bool = False) -> Investigation:
    """The force's own investigation: victims' contacts and preferences are never another force's to read."""
    return records.load(session, Investigation, "investigation", investigation_id, for_update, own=True)


def _victims(session: Session, investigation: Investigation) -> list[Person]:
    return [p for role, p in people_of(session, investigation) if role == "victim"]


def set_preferences(session: Session, principal: Principal, investigation_id: uuid.UUID, person_id: uuid.UUID,
                    data: dict[str, Any]) -> VictimPreference:
    with transaction(session):
        investigation = _load(session, investigation_id, for_update=True)
        if person_id not in {victim.id for victim in _victims(session, investigation)}:
            raise NotFound("No such victim of this investigation")
        preference = session.scalar(select(VictimPreference).where(
            VictimPreference.investigation_id == investigation.id, VictimPreference.person_id == person_id))
        if preference is None:
            preference = VictimPreference(tenant_id=investigation.tenant_id, investigation_id=investigation.id,
                                          person_id=person_id)
        for field in ("enhanced", "method", "frequency"):
            if field in data:
                setattr(preference, field, data[field])
        session.add(preference)
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, investigation.id,
                             {"victim_preferences": str(person_id)})
    return preference


def trigger(session: Session, principal: Principal, investigation: Investigation, what: str,
            at: datetime) -> list[VictimContact]:
    """Create the obligations a development gives rise to, one per victim who wants to hear of it."""
    contacts = []
    offence_on = offence_date(session, investigation)
    for victim in _victims(session, investigation):
        person_id = victim.id
        preference = session.scalar(select(VictimPreference).where(
            VictimPreference.investigation_id == investigation.id, VictimPreference.person_id == person_id))
        enhanced = enhanced_rights(assessed=bool(preference and preference.enhanced),
                                   date_of_birth=victim.partial_date_of_birth, offence_on=offence_on)
        if preference and preference.frequency == "outcomes_only" and what not in OUTCOME_TRIGGERS:
            continue
        contact = VictimContact(tenant_id=investigation.tenant_id, id=uuid.uuid4(), investigation_id=investigation.id,
                                person_id=person_id, trigger=what, triggered_at=at,
                                due_on=due_on(what, at, enhanced, principal.tenant.time_zone),
                                method=preference.method if preference else "phone", created_by=principal.user_id)
        session.add(contact)
        contacts.append(contact)
    session.flush()
    return contacts


def record_development(session: Session, principal: Principal, investigation_id: uuid.UUID, what: str,
                       at: datetime) -> list[VictimContact]:
    with transaction(session):
        investigation = _load(session, investigation_id, for_update=True)
        contacts = trigger(session, principal, investigation, what, at)
        audit_service.record(session, principal, "alteration", RECORD_TYPE, investigation.id,
                             {"victims_code": what, "obligations": len(contacts)})
    return contacts


def contacted(session: Session, principal: Principal, investigation_id: uuid.UUID, contact_id: uuid.UUID,
              data: dict[str, Any]) -> VictimContact:
    with transaction(session):
        contact = session.scalar(select(VictimContact).where(
            VictimContact.id == contact_id, VictimContact.investigation_id == investigation_id).with_for_update())
        if contact is None:
            raise NotFound("No such Victims' Code obligation")
        if contact.contacted_at is not None:
            raise Conflict("The victim was already told of this", {"contacted_at": ["already recorded"]})
        if data["contacted_at"] < contact.triggered_at:
            raise InvalidInput.field("contacted_at", "cannot be before the development")
        contact.contacted_at, contact.contacted_by, contact.notes = data["contacted_at"], principal.user_id, \
            data.get("notes")
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, investigation_id,
                             {"victim_contacted": str(contact.id)})
    return contact


def _still_victim() -> Any:
    """SQL (beside the contact's investigation): the contact's person is a victim of it now. A role ended (linked in
    error) ends the duties it gave rise to; its obligations stay on record, no longer listed."""
    return in_role(VictimContact.tenant_id, VictimContact.person_id, Investigation.event_id, "victim")


def overdue(session: Session, principal: Principal, officer_in_charge: str) -> list[VictimContact]:
    """Obligations past their due date and not met, for the officer in charge's investigations, oldest first."""
    today = principal.tenant.today()
    with transaction(session):
        # populate_existing: a contact already in the session gets its reference too.
        return list(session.scalars(
            select(VictimContact)
            .join(Investigation, (Investigation.tenant_id == VictimContact.tenant_id)
                  & (Investigation.id == VictimContact.investigation_id))
            .where(VictimContact.contacted_at.is_(None), VictimContact.due_on < today,
                   Investigation.officer_in_charge == officer_in_charge, _still_victim())
            .options(with_expression(VictimContact.reference, Investigation.reference))
            .order_by(VictimContact.due_on, VictimContact.id)
            .execution_options(populate_existing=True)))


def contacts_of(session: Session, principal: Principal, investigation_id: uuid.UUID) -> list[VictimContact]:
    """The investigation's obligations to its victims now, met or not (404 for another force's investigation)."""
    with transaction(session):
        investigation = _load(session, investigation_id)
        contacts = list(session.scalars(select(VictimContact).where(
            VictimContact.investigation_id == investigation.id,
            in_role(VictimContact.tenant_id, VictimContact.person_id, investigation.event_id, "victim"))
            .order_by(VictimContact.triggered_at, VictimContact.id)))
        audit_service.record(session, principal, "consultation", RECORD_TYPE, investigation.id,
                             {"via": "victims code"})
    return contacts


