"""Folding a duplicate person into a survivor, undoing it, and finding likely duplicate pairs.

A merge moves the duplicate's links, identifiers, other names and warning markers to the survivor, fills
the survivor's blank fields from the duplicate (never blanking or overwriting one), keeps the duplicate's
own name as an alias of the survivor, and marks the duplicate as merged. What moved is recorded on the
merge, so an undo puts back exactly that.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, TypedDict

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import transaction
from app.errors import Conflict, InvalidInput, NotFound
from app.people import search, service
from app.people.identifiers import name_key
from app.people.matching import person_keys, query_keys
from app.people.models import Person, PersonIdentifier, PersonMerge, PersonOtherName, WarningMarker
from app.pole import links

FILLABLE = ("date_of_birth", "sex", "pnc_id", "place_of_birth", "ethnicity_code", "height_cm", "build", "marks",
            "tattoos", "do_not_share")
RECORD_TYPE = "person"


def merge(session: Session, principal: Principal, duplicate_id: uuid.UUID, survivor_id: uuid.UUID,
          reason: str) -> PersonMerge:
    if duplicate_id == survivor_id:
        raise InvalidInput.field("survivor_id", "a person cannot be merged into themselves")
    with transaction(session):
        duplicate = service.load(session, duplicate_id, for_update=True)
        try:
            survivor = service.load(session, survivor_id, for_update=True)
        except NotFound:
            raise InvalidInput.field("survivor_id", "no such person in this force") from None
        for person, field in ((duplicate, "id"), (survivor, "survivor_id")):
            if person.merged_into is not None:
                raise Conflict(f"{person.id} is already merged into {person.merged_into}",
                               {field: [f"already merged into {person.merged_into}"]})
        if duplicate.pnc_id and survivor.pnc_id and duplicate.pnc_id != survivor.pnc_id:
            raise Conflict("The two records hold different PNC IDs: they are not the same person on the PNC",
                           {"survivor_id": ["holds a different PNC ID"]})
        filled: dict[str, dict[str, Any]] = {}  # field: what it was and what the duplicate gave it
        moved: dict[str, Any] = {
            "links": links.repoint(session, principal, from_id=duplicate.id, to_id=survivor.id),
            "identifiers": _move(session, PersonIdentifier, duplicate.id, survivor.id),
            "other_names": _move(session, PersonOtherName, duplicate.id, survivor.id),
            "warning_markers": _move(session, WarningMarker, duplicate.id, survivor.id),
            "filled": filled,
            "alias_id": None,
        }
        session.expire(survivor, ["other_names", "identifiers", "warning_markers"])
        session.expire(duplicate, ["other_names", "identifiers", "warning_markers"])
        pnc_id = duplicate.pnc_id
        if pnc_id and not survivor.pnc_id:
            duplicate.pnc_id = None
            session.flush()  # free the PNC ID before the survivor takes it
        for field in FILLABLE:
            ours, theirs = getattr(survivor, field), pnc_id if field == "pnc_id" else getattr(duplicate, field)
            # a blank is filled; an unknown sex is learned; a restriction on either record stays on the survivor
            blank = ours is None or (field == "sex" and ours == "unknown") or (field == "do_not_share" and not ours)
            if blank and theirs not in (None, "unknown", False):
                filled[field] = {"was": _jsonable(ours), "now": _jsonable(theirs)}
                setattr(survivor, field, theirs)
                if field == "date_of_birth":
                    survivor.date_of_birth_precision = duplicate.date_of_birth_precision
        if (name_key(duplicate.surname), name_key(duplicate.forenames)) != (
                name_key(survivor.surname), name_key(survivor.forenames)):
            alias = PersonOtherName(tenant_id=survivor.tenant_id, id=uuid.uuid4(), person_id=survivor.id, kind="alias",
                                    surname=duplicate.surname, forenames=duplicate.forenames)
            session.add(alias)
            moved["alias_id"] = str(alias.id)
        duplicate.merged_into = survivor.id
        duplicate.touch(principal)
        survivor.touch(principal)
        record = PersonMerge(tenant_id=survivor.tenant_id, id=uuid.uuid4(), survivor_id=survivor.id,
                             duplicate_id=duplicate.id, reason=reason, moved=moved, merged_by=principal.user_id)
        session.add(record)
        session.flush()
        session.refresh(survivor, ["other_names"])
        service.write_search_keys(session, survivor)
        service.write_search_keys(session, duplicate)
        audit_service.record(session, principal, "combination", RECORD_TYPE, survivor.id,
                             {"merge_id": str(record.id), "duplicate_id": str(duplicate.id), "reason": reason})
        audit_service.record(session, principal, "combination", RECORD_TYPE, duplicate.id,
                             {"merge_id": str(record.id), "survivor_id": str(survivor.id), "reason": reason})
    return record


def undo(session: Session, principal: Principal, merge_id: uuid.UUID, reason: str) -> PersonMerge:
    """Put back what the merge moved; a survivor field changed since the merge keeps its new value. Refused while
    the survivor is itself merged into another person since: that merge is undone first, newest first."""
    with transaction(session):
        record = session.scalars(select(PersonMerge).where(PersonMerge.id == merge_id).with_for_update()).one_or_none()
        if record is None:
            raise NotFound("No such merge")
        if record.undone_at is not None:
            raise Conflict(f"This merge was undone at {record.undone_at.isoformat()}", {"merge_id": ["already undone"]})
        survivor = service.load(session, record.survivor_id, for_update=True)
        duplicate = service.load(session, record.duplicate_id, for_update=True)
        if survivor.merged_into is not None:  # what this merge gave it has moved on with it: undo that first
            later = session.scalar(select(PersonMerge.id).where(
                PersonMerge.duplicate_id == survivor.id, PersonMerge.undone_at.is_(None)))
            raise Conflict(f"The survivor of this merge was merged since into another person (merge {later}): undo "
                           "that merge first", {"merge_id": ["a later merge of its survivor stands"]})
        moved = record.moved
        if moved["alias_id"]:
            session.execute(delete(PersonOtherName).where(PersonOtherName.id == uuid.UUID(moved["alias_id"])))
        for field, change in moved["filled"].items():
            if _jsonable(getattr(survivor, field)) == change["now"]:
                setattr(survivor, field, change["was"] if field in ("sex", "do_not_share") else None)
                if field == "date_of_birth":
                    survivor.date_of_birth_precision = None
        session.flush()
        if "pnc_id" in moved["filled"]:
            duplicate.pnc_id = moved["filled"]["pnc_id"]["now"]
        for model, key in ((PersonIdentifier, "identifiers"), (PersonOtherName, "other_names"),
                           (WarningMarker, "warning_markers")):
            ids = [uuid.UUID(i) for i in moved[key]]
            if ids:
                session.execute(update(model).where(model.id.in_(ids)).values(person_id=duplicate.id))
        for entry in moved["links"]:
            links.move_end(session, principal, link_id=uuid.UUID(entry["id"]), end=entry["end"],
                           to_id=duplicate.id)
        duplicate.merged_into = None
        duplicate.touch(principal)
        survivor.touch(principal)
        record.undone_at = datetime.now(timezone.utc)
        record.undone_by = principal.user_id
        session.flush()
        session.expire_all()
        for person_id in (survivor.id, duplicate.id):
            service.write_search_keys(session, service.load(session, person_id))
        audit_service.record(session, principal, "alteration", RECORD_TYPE, record.survivor_id,
                             {"merge_id": str(record.id), "undone": True, "reason": reason})
        audit_service.record(session, principal, "alteration", RECORD_TYPE, record.duplicate_id,
                             {"merge_id": str(record.id), "undone": True, "reason": reason})
    return record


def _move(session: Session, model: Any, from_id: uuid.UUID, to_id: uuid.UUID) -> list[str]:
    ids = list(session.scalars(select(model.id).where(model.person_id == from_id)))
    if ids:
        session.execute(update(model).where(model.id.in_(ids)).values(person_id=to_id))
    return [str(i) for i in ids]


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# Pairs sharing a phonetic surname key and a date of birth, or dates of birth (both to the day) that differ as
# typing slips do: day and month transposed (5/3 for 3/5), or the same day and month a year apart; then scored
# like a search would score them. The force's own people only, whatever is shared with it: a merge is within a
# force, and a pair across forces would confirm another force's (perhaps masked) date of birth.
PAIRS_SQL = text(
    """
    SELECT a.id AS first_id, b.id AS second_id
    FROM person_search_key ka
    JOIN person_search_key kb ON kb.tenant_id = ka.tenant_id AND kb.key = ka.key AND kb.person_id > ka.person_id
                              AND NOT kb.alias
    JOIN person a ON a.tenant_id = ka.tenant_id AND a.id = ka.person_id
    JOIN person b ON b.tenant_id = kb.tenant_id AND b.id = kb.person_id AND (
        b.date_of_birth = a.date_of_birth
        OR (coalesce(a.date_of_birth_precision, 'day') = 'day' AND coalesce(b.date_of_birth_precision, 'day') = 'day'
            AND ((b.date_of_birth IN ((a.date_of_birth + interval '1 year')::date,
                                      (a.date_of_birth - interval '1 year')::date)
                  AND extract(day FROM b.date_of_birth) = extract(day FROM a.date_of_birth))
                 OR b.date_of_birth = CASE WHEN extract(day FROM a.date_of_birth) <= 12
                                           THEN make_date(extract(year FROM a.date_of_birth)::int,
                                                          extract(day FROM a.date_of_birth)::int,
                                                          extract(month FROM a.date_of_birth)::int) END)))
    WHERE ka.tenant_id = CAST(:tenant AS uuid) AND kb.tenant_id = CAST(:tenant AS uuid)
      AND ka.key LIKE 'SM:%' AND NOT ka.alias
      AND a.merged_into IS NULL AND b.merged_into IS NULL
    GROUP BY a.id, b.id
    LIMIT 5000
    """
)
PAIR_THRESHOLD = 60


class DuplicatePair(TypedDict):
    first: search.Result
    second: search.Result
    score: int
    reasons: list[str]


def duplicate_pairs(session: Session, principal: Principal, page: int = 1,
                    page_size: int = 20) -> tuple[list[DuplicatePair], int]:
    """One page of the likely duplicate pairs within the force, best first, and how many there are."""
    with transaction(session):
        pairs = session.execute(PAIRS_SQL, {"tenant": principal.tenant.id}).all()
        ids = {i for pair in pairs for i in pair}
        people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
        scored: list[DuplicatePair] = []
        for first_id, second_id in pairs:
            first, second = people[first_id], people[second_id]
            score, reasons = pair_score(first, second)
            if score >= PAIR_THRESHOLD:
                scored.append({"first": _summary(first), "second": _summary(second), "score": score,
                               "reasons": reasons})
        scored.sort(key=lambda p: (-p["score"], str(p["first"].id), str(p["second"].id)))
        shown = scored[(page - 1) * page_size: page * page_size]
        audit_service.record_each(session, principal, "consultation", RECORD_TYPE,
                                  sorted({str(p[k].id) for p in shown for k in ("first", "second")}),
                                  {"via": "duplicates"})
    return shown, len(scored)


def pair_score(first: Person, second: Person) -> tuple[int, list[str]]:
    """How alike two people are, scored as a search for the first would score the second."""
    keys = {k.key: k for k in query_keys(f"{first.forenames} {first.surname}")}
    theirs = {key for key, _ in person_keys(second.surname, second.forenames, [])}
    best: dict[str, tuple[int, str]] = {}
    for key in theirs & set(keys):
        hit = keys[key]
        if hit.weight > best.get(hit.part, (0, ""))[0]:
            best[hit.part] = (hit.weight, hit.reason)
    points = sum(w for w, _ in best.values())
    reasons = [best[p][1] for p in ("surname", "forename") if p in best]
    if first.partial_date_of_birth:
        dob_points, reason = search.date_of_birth_points(first.partial_date_of_birth, second.partial_date_of_birth)
        points += dob_points
        if reason:
            reasons.append(reason)
    return max(0, min(100, points)), reasons


def _summary(person: Person) -> search.Result:
    return search.Result(person.id, person.tenant_id, person.surname, person.forenames, person.partial_date_of_birth,
                         person.sex, person.pnc_id)
