"""The people of an investigation in their roles: POLE links from each person to the investigation's event, so
that every module (the investigation, the Victims' Code, the case file) reads the same links.

A role holds while its link has no end date (as for an address in a case file). A role ended (a suspect
eliminated, a link made in error) keeps its link with the day it ended in valid_to, and the reason in the
investigation's log; it no longer counts anywhere, and linking the person again in that role makes a new link.
"""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from app.investigations.models import Investigation
from app.people.models import Person
from app.pole.models import Link, PoleEvent

ROLES = ("suspect", "victim", "witness", "reporting_person")
CURRENT = Link.valid_to.is_(None)


def _of(investigation: Investigation) -> ColumnElement[bool]:
    return (Link.to_id == investigation.event_id) & (Link.from_type == "person") & Link.link_type.in_(ROLES)


def people_of(session: Session, investigation: Investigation) -> list[tuple[str, Person]]:
    """(role, person) for everyone linked to the investigation's event in a role that has not ended."""
    rows = session.execute(
        select(Link.link_type, Person).join(Person, (Person.tenant_id == Link.tenant_id) & (Person.id == Link.from_id))
        .where(_of(investigation), CURRENT).order_by(Link.link_type, Person.surname)).all()
    return [(role, person) for role, person in rows]


def offence_date(session: Session, investigation: Investigation) -> date:
    """The day the crime occurred (its event's), from which ages at the time of the offence are counted."""
    # event_id is NOT NULL with a foreign key: the event is there.
    occurred = session.execute(select(PoleEvent.occurred_at).where(PoleEvent.id == investigation.event_id))
    return occurred.scalar_one().date()


def former_roles_of(session: Session, investigation: Investigation) -> list[tuple[Link, Person]]:
    """(link, person) for each role that has ended, the most recently ended first."""
    rows = session.execute(
        select(Link, Person).join(Person, (Person.tenant_id == Link.tenant_id) & (Person.id == Link.from_id))
        .where(_of(investigation), Link.valid_to.is_not(None))
        .order_by(Link.valid_to.desc(), Link.updated_at.desc(), Link.id)).all()
    return [(link, person) for link, person in rows]


def current_links(session: Session, investigation: Investigation, person_id: uuid.UUID, role: str) -> list[Link]:
    """The links that make the person one of the investigation's people in the role now (one, unless made twice)."""
    return list(session.scalars(select(Link).where(_of(investigation), CURRENT, Link.from_id == person_id,
                                                   Link.link_type == role).order_by(Link.id)))


def in_role(tenant_id: Any, person_id: Any, event_id: Any, role: str) -> ColumnElement[bool]:
    """SQL: the person is linked to the event in the role now (each argument a column of the outer query)."""
    return exists(select(Link.id).where(Link.tenant_id == tenant_id, Link.from_type == "person",
                                        Link.from_id == person_id, Link.to_id == event_id, Link.link_type == role,
                                        CURRENT))
