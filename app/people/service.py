"""People: create, get, list, update. One transaction per use case, its audit event inside it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import fetch_page, transaction
from app.errors import Conflict, NotFound, PreconditionFailed
from app.people.identifiers import name_key, normalise_pnc_id
from app.people.models import Person, PersonOtherName

RECORD_TYPE = "person"


@dataclass(frozen=True)
class PersonQuery:
    surname: str | None = None
    forenames: str | None = None
    date_of_birth: date | None = None
    page: int = 1
    page_size: int = 20


def create(session: Session, principal: Principal, data: dict[str, Any], person_id: uuid.UUID | None = None) -> Person:
    """Record a new person for the principal's force."""
    with transaction(session):
        person = Person(
            tenant_id=principal.tenant.id,
            id=person_id or uuid.uuid4(),
            version=1,
            created_by=principal.user_id,
            updated_by=principal.user_id,
        )
        _assign(person, data)
        person.other_names = [
            PersonOtherName(tenant_id=principal.tenant.id, id=uuid.uuid4(), person_id=person.id, **other)
            for other in data.get("other_names", [])
        ]
        _check_pnc_free(session, person)
        session.add(person)
        _flush(session)
        audit_service.record(session, principal, "collection", RECORD_TYPE, person.id)
    return person


def get(session: Session, principal: Principal, person_id: uuid.UUID) -> Person:
    """One person of the principal's force (another force's id is simply not found)."""
    with transaction(session):
        person = _load(session, person_id)
        audit_service.record(session, principal, "consultation", RECORD_TYPE, person.id)
    return person


def find(session: Session, principal: Principal, query: PersonQuery) -> tuple[list[Person], int]:
    """People matching the exact (normalised) name and date of birth given, one page, with the total."""
    stmt = select(Person)
    if query.surname:
        stmt = stmt.where(Person.surname_key == name_key(query.surname))
    if query.forenames:
        stmt = stmt.where(Person.forenames_key == name_key(query.forenames))
    if query.date_of_birth:
        stmt = stmt.where(Person.date_of_birth == query.date_of_birth)
    with transaction(session):
        people, total = fetch_page(session, stmt.order_by(Person.surname_key, Person.forenames_key, Person.id),
                                   query.page, query.page_size)
        audit_service.record_each(session, principal, "consultation", RECORD_TYPE, [p.id for p in people],
                                  {"via": "list"})
    return people, total


def update(
    session: Session, principal: Principal, person_id: uuid.UUID, expected_version: int | None, changes: dict[str, Any]
) -> Person:
    """Change a person's details if the client saw the current version (None: the client sent If-Match: *)."""
    with transaction(session):
        person = _load(session, person_id, for_update=True)
        if expected_version is not None and person.version != expected_version:
            raise PreconditionFailed(
                f"The record has changed since you read it (now version {person.version}); read it again"
            )
        changed = _assign(person, changes)
        if changed:
            _check_pnc_free(session, person)
            person.version += 1
            person.updated_by = principal.user_id
            person.updated_at = datetime.now(timezone.utc)
            _flush(session)
            audit_service.record(session, principal, "alteration", RECORD_TYPE, person.id, {"fields": changed})
    return person


def _load(session: Session, person_id: uuid.UUID, for_update: bool = False) -> Person:
    stmt = select(Person).where(Person.id == person_id).options(joinedload(Person.other_names))
    if for_update:
        stmt = stmt.with_for_update(of=Person)
    person = session.scalars(stmt).unique().one_or_none()
    if person is None:
        raise NotFound("No such person")
    return person


def _assign(person: Person, data: dict[str, Any]) -> list[str]:
    """Copy the given fields onto the person (with their search keys); the names of those that changed."""
    changed = []
    for field in ("surname", "forenames", "date_of_birth", "sex", "pnc_id", "classification"):
        if field not in data:
            continue
        value = data[field]
        if field in ("surname", "forenames"):
            value = " ".join(value.split())
        if field == "pnc_id" and value is not None:
            value = normalise_pnc_id(value)
        if getattr(person, field, None) != value:
            setattr(person, field, value)
            changed.append(field)
    person.surname_key = name_key(person.surname)
    person.forenames_key = name_key(person.forenames)
    return changed


def _check_pnc_free(session: Session, person: Person) -> None:
    if person.pnc_id is None:
        return
    with session.no_autoflush:  # ask before the change is written, so the answer is a 409, not a crash
        clash = session.scalar(select(Person.id).where(Person.pnc_id == person.pnc_id, Person.id != person.id))
    if clash is not None:
        raise _pnc_conflict()


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if "person_pnc_id_unique" in str(exc.orig):
            raise _pnc_conflict() from None
        raise


def _pnc_conflict() -> Conflict:
    return Conflict(
        "Another person in this force already has that PNC ID",
        {"pnc_id": ["already recorded for another person in this force"]},
    )
