"""People: create, get, list, update, research. One transaction per use case, its audit event inside it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, lock_keys, table, transaction
from app.errors import Conflict, InvalidInput, NotFound
from app.people import search
from app.people.identifiers import PartialDate, name_key, normalise_pnc_id
from app.people.matching import person_keys
from app.people.models import (
    Person,
    PersonIdentifier,
    PersonMerge,
    PersonOtherName,
    PersonSearchKey,
    WarningMarker,
)
from app.sharing import lists as shared_lists
from app.sharing import visibility as sharing

RECORD_TYPE = "person"
SCALAR_FIELDS = ("surname", "forenames", "sex", "pnc_id", "classification", "place_of_birth", "ethnicity_code",
                 "height_cm", "build", "marks", "tattoos", "do_not_share")
LIST_FIELDS = ("other_names", "identifiers", "warning_markers")
# A change to any of these rewrites the stored search keys (names, birth year, what sharing reads).
SEARCH_KEY_FIELDS = {"surname", "forenames", "other_names", "date_of_birth", "classification", "do_not_share"}


class ProbableDuplicate(Conflict):
    """409 with the existing people the new one probably is (the route renders the candidates)."""

    def __init__(self, candidates: list[search.Result], pnc_id: str | None):
        errors = {"surname": ["probably matches an existing person"]}
        for candidate in candidates:
            if "identifier" in candidate.reasons:
                field = "pnc_id" if pnc_id and candidate.pnc_id == pnc_id else "identifiers"
                errors[field] = [f"already recorded for person {candidate.id} in this force"]
        super().__init__(
            "This person probably exists already: use one of the candidates (POST /api/v1/people/{id}/research adds "
            "the new details to it), or repeat with ?confirm_new=true",
            errors,
        )
        self.candidates = candidates
        self.disclosed = [(RECORD_TYPE, c.tenant_id, c.id) for c in candidates]  # the 409 shows them


@dataclass(frozen=True)
class PersonQuery:
    surname: str | None = None
    forenames: str | None = None
    date_of_birth: date | None = None
    page: int = 1
    page_size: int = 20


def create(session: Session, principal: Principal, data: dict[str, Any], confirm_new: bool = False,
           person_id: uuid.UUID | None = None, *, sessions: Sessions | None = None) -> Person:
    """Record a new person for the principal's force, unless they probably exist already (409 with candidates);
    with `sessions`, the candidates include shared people held in other databases."""
    with transaction(session):
        _lock_candidate(session, principal, data)
        candidates = [] if confirm_new else probable_duplicates(session, principal, data, sessions=sessions)
        if candidates:
            raise _duplicate(sessions, principal, candidates, data.get("pnc_id") and normalise_pnc_id(data["pnc_id"]))
        return _create(session, principal, data, confirm_new, person_id)


def _duplicate(sessions: Sessions | None, principal: Principal, candidates: list[search.Result],
               pnc_id: str | None) -> ProbableDuplicate:
    """The 409 for these candidates. Those held in other databases are logged for their providers there now (the
    error trace writes in the acting force's database only), and left to it only to audit as consulted."""
    duplicate = ProbableDuplicate(candidates, pnc_id)
    if sessions is not None:
        elsewhere = sharing.record_reads_elsewhere(sessions, principal, RECORD_TYPE,
                                                   [(c.tenant_id, c.id) for c in candidates])
        duplicate.disclosed = [(kind, principal.tenant.id if rid in elsewhere else tenant, rid)
                               for kind, tenant, rid in duplicate.disclosed]
    return duplicate


def _lock_candidate(session: Session, principal: Principal, data: dict[str, Any]) -> None:
    """Wait for any create of the force that could be this person's duplicate (or they of it) to finish, so that
    the duplicate search below sees it: concurrent identical requests make one person and 409s, never two."""
    partial: PartialDate | None = data.get("date_of_birth")
    keys = search.collision_keys(
        data.get("surname", ""), data.get("forenames", ""),
        [(o["surname"], o["forenames"]) for o in data.get("other_names", [])], partial, _identifiers(data))
    lock_keys(session, "person.create", principal.tenant.id, keys)


def _identifiers(data: dict[str, Any]) -> tuple[str, ...]:
    """Every identifier given for a new person, its PNC ID included, as typed."""
    values = tuple(i["value"] for i in data.get("identifiers", []))
    return values + ((data["pnc_id"],) if data.get("pnc_id") else ())


def _create(session: Session, principal: Principal, data: dict[str, Any], confirm_new: bool,
            person_id: uuid.UUID | None) -> Person:
    person = Person(tenant_id=principal.tenant.id, id=person_id or uuid.uuid4(), version=1,
                    created_by=principal.user_id, updated_by=principal.user_id,
                    other_names=[], identifiers=[], warning_markers=[])
    _assign(person, data)
    _replace_lists(person, principal, data)
    _check_identifiers_free(session, person)
    session.add(person)
    _flush(session)
    write_search_keys(session, person)
    audit_service.record(session, principal, "collection", RECORD_TYPE, person.id,
                         {"confirmed_new": True} if confirm_new else None)
    return person


def probable_duplicates(session: Session, principal: Principal, data: dict[str, Any],
                        exclude: uuid.UUID | None = None, *, sessions: Sessions | None = None) -> list[search.Result]:
    """Existing people a new record probably is: a shared identifier, or name and date of birth close enough; with
    `sessions`, shared people held in other databases are searched there too."""
    criteria = search.Criteria(
        name=f"{data.get('forenames', '')} {data.get('surname', '')}", date_of_birth=data.get("date_of_birth"),
        identifiers=_identifiers(data), exclude=exclude, page_size=5,
    )
    results = search.search_page(session, principal, criteria, audit=False, count=False, sessions=sessions).results
    return [r for r in results if r.score >= search.DUPLICATE_THRESHOLD or "identifier" in r.reasons]


def get(session: Session, principal: Principal, person_id: uuid.UUID, *, sessions: Sessions | None = None) -> Person:
    """One person of the principal's force or shared with it (an id it may not see is simply not found); with
    `sessions`, a shared person held in another database is read there, through that database's policies."""
    return sharing.read_by_id(session, principal, RECORD_TYPE, lambda database: load(database, person_id),
                              sessions=sessions)


def find(session: Session, principal: Principal, query: PersonQuery, *,
         sessions: Sessions | None = None) -> tuple[list[Person], int]:
    """People matching the exact (normalised) name and date of birth given, one page, with the total; with
    `sessions`, shared people held in other databases too (read there, through each database's policies)."""
    stmt = select(Person).where(Person.merged_into.is_(None))
    if query.surname:
        stmt = stmt.where(Person.surname_key == name_key(query.surname))
    if query.forenames:
        stmt = stmt.where(Person.forenames_key == name_key(query.forenames))
    if query.date_of_birth:  # a masked date of birth does not filter another force's people
        stmt = stmt.where(sharing.unless_masked(principal, RECORD_TYPE, "date_of_birth",
                                                Person.date_of_birth == query.date_of_birth, Person.tenant_id))
    return shared_lists.find(session, principal, RECORD_TYPE, Person, stmt,
                             (Person.surname_key, Person.forenames_key, Person.id), page=query.page,
                             page_size=query.page_size, sessions=sessions, via="list")


def update(
    session: Session, principal: Principal, person_id: uuid.UUID, expected_version: int | None, changes: dict[str, Any]
) -> Person:
    """Change a person's details if the client saw the current version (None: the client sent If-Match: *)."""
    with transaction(session):
        person = load(session, person_id, for_update=True)
        person.check_version(expected_version)
        _refuse_merged(person)
        changed = _assign(person, changes) + _replace_lists(person, principal, changes)
        if changed:
            _check_identifiers_free(session, person)
            person.touch(principal)
            _flush(session)
            if SEARCH_KEY_FIELDS & set(changed):
                write_search_keys(session, person)
            audit_service.record(session, principal, "alteration", RECORD_TYPE, person.id, {"fields": changed})
    return person


def research(session: Session, principal: Principal, person_id: uuid.UUID, data: dict[str, Any]) -> Person:
    """Join newly given details to an existing person instead of creating another one ("researching" a nominal).

    Blank fields are filled, a different name becomes an alias, new identifiers and markers are added;
    nothing already recorded is overwritten.
    """
    with transaction(session):
        person = load(session, person_id, for_update=True)
        _refuse_merged(person)
        changed = []
        for field in SCALAR_FIELDS + ("date_of_birth",):
            if field in ("surname", "forenames", "classification"):
                continue
            value = data.get(field)
            if value is not None and getattr(person, field) is None:
                changed += _assign(person, {field: value})
        given = (" ".join(data["surname"].split()), " ".join(data["forenames"].split()))
        names = {(name_key(person.surname), name_key(person.forenames))} | {
            (name_key(o.surname), name_key(o.forenames)) for o in person.other_names}
        if (name_key(given[0]), name_key(given[1])) not in names:
            person.other_names.append(PersonOtherName(tenant_id=person.tenant_id, id=uuid.uuid4(), person_id=person.id,
                                                      kind="alias", surname=given[0], forenames=given[1]))
            changed.append("other_names")
        additions = {k: [*_as_dicts(person, k), *data.get(k, [])] for k in ("identifiers", "warning_markers")}
        changed += _replace_lists(person, principal, additions)
        if changed:
            _check_identifiers_free(session, person)
            person.touch(principal)
            _flush(session)
            write_search_keys(session, person)
            audit_service.record(session, principal, "alteration", RECORD_TYPE, person.id,
                                 {"fields": changed, "via": "research"})
    return person


def write_search_keys(session: Session, person: Person) -> None:
    """Replace the person's stored search keys with those of their current names."""
    session.execute(delete(PersonSearchKey).where(PersonSearchKey.tenant_id == person.tenant_id,
                                                  PersonSearchKey.person_id == person.id))
    if person.merged_into is not None:
        return  # a merged record is found through its survivor
    keys = person_keys(person.surname, person.forenames, [(o.surname, o.forenames) for o in person.other_names])
    year = person.date_of_birth.year if person.date_of_birth else 0
    if not keys:
        return  # an empty list would be one INSERT of nothing but defaults
    session.execute(insert(PersonSearchKey), [
        {"tenant_id": person.tenant_id, "person_id": person.id, "key": k, "birth_year": year, "alias": a,
         "classification": person.classification, "do_not_share": person.do_not_share}
        for k, a in keys])


def erase(session: Session, *, person_id: uuid.UUID) -> None:
    """Disposal: delete an own person, names, identifiers, markers, search keys, merges (caller's transaction)."""
    # Others' markers keep their dates but no longer name this person as their source.
    own = Person.tenant_id == func.app_current_tenant()
    session.execute(delete(PersonSearchKey).where(PersonSearchKey.tenant_id == func.app_current_tenant(),
                                                  PersonSearchKey.person_id == person_id))
    session.execute(delete(PersonMerge).where(PersonMerge.tenant_id == func.app_current_tenant(),
                                              or_(PersonMerge.survivor_id == person_id,
                                                  PersonMerge.duplicate_id == person_id)))
    session.execute(table(WarningMarker).update().where(WarningMarker.tenant_id == func.app_current_tenant(),
                                                WarningMarker.source_id == person_id)
                    .values(source_type=None, source_id=None))
    session.execute(delete(Person).where(own, Person.id == person_id))  # names, identifiers, markers cascade


def load(session: Session, person_id: uuid.UUID, for_update: bool = False) -> Person:
    stmt = select(Person).where(Person.id == person_id).options(
        joinedload(Person.other_names), joinedload(Person.identifiers), joinedload(Person.warning_markers))
    if for_update:
        stmt = stmt.with_for_update(of=Person)
    person = session.scalars(stmt).unique().one_or_none()
    if person is None:
        raise NotFound.record("person")
    return person


def _assign(person: Person, data: dict[str, Any]) -> list[str]:
    """Copy the given fields onto the person (with their search keys); the names of those that changed."""
    changed = []
    for field in SCALAR_FIELDS:
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
    if "date_of_birth" in data:
        partial: PartialDate | None = data["date_of_birth"]
        value = (partial.date, partial.precision) if partial else (None, None)
        if (person.date_of_birth, person.date_of_birth_precision) != value:
            person.date_of_birth, person.date_of_birth_precision = value
            changed.append("date_of_birth")
    person.surname_key = name_key(person.surname)
    person.forenames_key = name_key(person.forenames)
    return changed


def _as_dicts(person: Person, field: str) -> list[dict[str, Any]]:
    if field == "other_names":
        return [{"kind": o.kind, "surname": o.surname, "forenames": o.forenames} for o in person.other_names]
    if field == "identifiers":
        return [{"kind": i.kind, "value": i.value} for i in person.identifiers]
    return [{"code": m.code, "from_date": m.from_date, "review_date": m.review_date,
             "source": {"type": m.source_type, "id": m.source_id} if m.source_id else None}
            for m in person.warning_markers]


def _replace_lists(person: Person, principal: Principal, data: dict[str, Any]) -> list[str]:
    """Replace the lists given (other names, identifiers, warning markers); the names of those that changed."""
    changed = []
    for field in LIST_FIELDS:
        if field not in data or _comparable(data[field]) == _comparable(_as_dicts(person, field)):
            continue
        wanted = _unique(data[field])
        if field == "other_names":
            person.other_names = [PersonOtherName(tenant_id=person.tenant_id, id=uuid.uuid4(), person_id=person.id, **o)
                                  for o in wanted]
        elif field == "identifiers":
            person.identifiers = [PersonIdentifier(tenant_id=person.tenant_id, id=uuid.uuid4(), person_id=person.id,
                                                   **i) for i in wanted]
        else:
            person.warning_markers = [_marker(person, principal, i, m) for i, m in enumerate(wanted)]
        changed.append(field)
    return changed


def _comparable(items: list[dict[str, Any]]) -> list[str]:
    return sorted(repr(sorted((k, str(v)) for k, v in item.items())) for item in items)


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        seen.setdefault(repr(sorted((k, str(v)) for k, v in item.items())), item)
    return list(seen.values())


def _marker(person: Person, principal: Principal, index: int, data: dict[str, Any]) -> WarningMarker:
    """A warning marker from the force's list; its review date defaults from the list's review period."""
    kinds = {m["code"]: m for m in principal.tenant.settings.get("warning_markers", [])}
    kind = kinds.get(data["code"])
    if kind is None:
        raise InvalidInput.field(f"warning_markers.{index}.code",
                                 f"not on this force's list ({', '.join(sorted(kinds))})")
    review = data.get("review_date") or _add_months(data["from_date"], kind.get("review_months", 12))
    source = data.get("source") or {}
    return WarningMarker(tenant_id=person.tenant_id, id=uuid.uuid4(), person_id=person.id, code=data["code"],
                         from_date=data["from_date"], review_date=review, source_type=source.get("type"),
                         source_id=source.get("id"), created_by=principal.user_id)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _refuse_merged(person: Person) -> None:
    if person.merged_into is not None:
        raise Conflict(f"This record was merged into {person.merged_into}: change that record instead",
                       {"id": [f"merged into {person.merged_into}"]})


def _check_identifiers_free(session: Session, person: Person) -> None:
    """Ask before the change is written, so that a clash is a 409 naming the field, not a crash. Identifiers are
    unique within a force: another force's people (shared or not) are never asked about."""
    with session.no_autoflush:
        if person.pnc_id is not None:
            clash = session.scalar(select(Person.id).where(Person.tenant_id == person.tenant_id,
                                                           Person.pnc_id == person.pnc_id, Person.id != person.id))
            if clash is not None:
                raise _pnc_conflict()
        for index, identifier in enumerate(person.identifiers):
            holder = session.scalar(select(PersonIdentifier.person_id).where(
                PersonIdentifier.tenant_id == person.tenant_id,
                PersonIdentifier.kind == identifier.kind, PersonIdentifier.value == identifier.value,
                PersonIdentifier.person_id != person.id))
            if holder is not None:
                raise Conflict(f"Another person in this force ({holder}) already has that {identifier.kind}",
                               {f"identifiers.{index}.value": ["already recorded for another person in this force"]})


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if "person_pnc_id_unique" in str(exc.orig):
            raise _pnc_conflict() from None
        if "person_identifier_unique" in str(exc.orig):
            raise Conflict("Another person in this force already has that identifier",
                           {"identifiers": ["already recorded for another person in this force"]}) from None
        raise


def _pnc_conflict() -> Conflict:
    return Conflict(
        "Another person in this force already has that PNC ID",
        {"pnc_id": ["already recorded for another person in this force"]},
    )
