"""The people of an investigation in their roles: POLE links from each person to the investigation's event, so
that every module (the investigation, the Victims' Code, the case file) reads the same links."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.investigations.models import Investigation
from app.people.models import Person
from app.pole.models import Link, PoleEvent

ROLES = ("suspect", "victim", "witness", "reporting_person")


def people_of(session: Session, investigation: Investigation) -> list[tuple[str, Person]]:
    """(role, person) for everyone linked to the investigation's event."""
    rows = session.execute(
        select(Link.link_type, Person).join(Person, (Person.tenant_id == Link.tenant_id) & (Person.id == Link.from_id))
        .where(Link.to_id == investigation.event_id, Link.from_type == "person", Link.link_type.in_(ROLES))
        .order_by(Link.link_type, Person.surname)).all()
    return [(role, person) for role, person in rows]


def offence_date(session: Session, investigation: Investigation) -> date:
    """The day the crime occurred (its event's), from which ages at the time of the offence are counted."""
    # event_id is NOT NULL with a foreign key: the event is there.
    occurred = session.execute(select(PoleEvent.occurred_at).where(PoleEvent.id == investigation.event_id))
    return occurred.scalar_one().date()
