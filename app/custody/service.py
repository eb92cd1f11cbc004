"""Custody use cases: booking in, entries (rights, risk, medication, visits, reviews, extensions, warrants,
interviews, cells, corrections), release, the record with its clock, and the suite's board.

Every use case is one transaction with its audit event; entries are only ever added. The timeline is
checked against the PACE clock (app.custody.clock) before anything is written, and a breach answers
409 naming the rule.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, delete, func, select, text
from sqlalchemy.orm import Session, lazyload

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.custody import clock
from app.custody.models import CustodyEntry, CustodyInvestigation, CustodyRecord
from app.db import Sessions, next_serial, transaction
from app.errors import Conflict, Forbidden, InvalidInput
from app.investigations import service as investigations
from app.investigations.models import Investigation
from app.people import service as people
from app.people.models import Person
from app.pole import records
from app.sharing import lists as shared_lists
from app.sharing import visibility as sharing

RECORD_TYPE = "custody"
OUTCOMES = ("charged_remanded", "charged_bailed", "bailed_without_charge", "released_under_investigation",
            "no_further_action", "transferred", "released")
ENTRY_KINDS = ("rights_given", "someone_informed", "legal_advice", "appropriate_adult", "interpreter",
               "risk_assessment", "medication", "medication_given", "observation_level", "property", "cell",
               "visit", "review", "extension", "warrant", "interview", "charge", "note", "correction")
FUTURE_TOLERANCE = timedelta(minutes=2)
# The kinds of entry whose data the clock reads (the board loads no other entry's data).
CLOCK_DATA_KINDS = ("medication", "medication_given", "observation_level", "cell", "review", "warrant")


def _suite(principal: Principal, code: str) -> dict[str, Any]:
    suite = next((s for s in principal.tenant.settings.get("custody_suites", []) if s["code"] == code), None)
    if suite is None:
        codes = ", ".join(s["code"] for s in principal.tenant.settings.get("custody_suites", [])) or "none"
        raise InvalidInput.field("suite", f"not one of this force's custody suites ({codes})")
    return suite


def _not_future(moment: datetime, field: str) -> None:
    if moment > datetime.now(timezone.utc) + FUTURE_TOLERANCE:
        raise InvalidInput.field(field, "cannot be in the future")


def book_in(session: Session, principal: Principal, data: dict[str, Any]) -> CustodyRecord:
    """Book a detainee in: the person (existing, or new with the duplicate check), the arrest, arrival,
    authorisation, a custody number unique within the force."""
    suite = _suite(principal, data["suite"])
    for field in ("arrested_at", "arrived_at", "authorised_at"):
        if data.get(field):
            _not_future(data[field], field)
    _check_booking_times(data)
    with transaction(session):
        if data.get("person_id"):
            person = session.scalar(select(Person).where(Person.id == data["person_id"],
                                                         Person.tenant_id == principal.tenant.id))
            if person is None:
                raise InvalidInput.field("person_id", "no such person in this force")
        else:
            person = people.create(session, principal, data["person"], confirm_new=data.get("confirm_new", False))
        open_record = session.scalar(select(CustodyRecord.custody_number).where(
            CustodyRecord.person_id == person.id, CustodyRecord.released_at.is_(None)))
        if open_record is not None:
            raise Conflict(f"This person is already in custody ({open_record})", {"person_id": ["already in custody"]})
        record = CustodyRecord(
            tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1, suite=suite["code"], person_id=person.id,
            custody_number=_next_number(session, principal, suite["code"], data["arrived_at"]),
            created_by=principal.user_id, updated_by=principal.user_id,
            **{k: data.get(k) for k in ("arrested_at", "arrest_place", "arresting_officer", "offences", "arrived_at",
                                        "arrested_in_other_force_area", "arrived_at_relevant_station",
                                        "voluntary_attender", "relevant_time_override", "override_reason",
                                        "authorised_at", "authorised_by", "grounds", "vulnerable", "classification")},
        )
        try:
            clock.relevant_time(facts(record, [], person, time_zone=principal.tenant.time_zone))
        except clock.ClockError as exc:
            raise InvalidInput.field("override_reason", str(exc)) from None
        session.add(record)
        session.flush()
        _belongs_to(session, principal, record, data.get("investigation_ids") or [])
        audit_service.record(session, principal, "collection", RECORD_TYPE, record.id,
                             {"custody_number": record.custody_number})
    return record


def _belongs_to(session: Session, principal: Principal, record: CustodyRecord,
                investigation_ids: list[uuid.UUID]) -> None:
    """Link the detention to its investigations; the detainee, a suspect of each, has been arrested: the
    Victims' Code 'suspect arrested' obligation for their victims (Right 6), from the arrest."""
    for investigation_id in dict.fromkeys(investigation_ids):
        investigations.suspect_arrested(session, principal, investigation_id, record.person_id, record.arrested_at)
        session.add(CustodyInvestigation(tenant_id=record.tenant_id, custody_record_id=record.id,
                                         investigation_id=investigation_id, created_by=principal.user_id))
    session.flush()


def investigations_of(session: Session, record: CustodyRecord) -> list[CustodyInvestigation]:
    return list(session.scalars(select(CustodyInvestigation).where(
        CustodyInvestigation.tenant_id == record.tenant_id, CustodyInvestigation.custody_record_id == record.id)
        .order_by(CustodyInvestigation.created_at, CustodyInvestigation.investigation_id)))


def _charge_flows(session: Session, principal: Principal, record: CustodyRecord, entry: CustodyEntry) -> None:
    """A charge in custody is the investigation's charge: recorded there once, linked to this entry."""
    for link in investigations_of(session, record):
        if link.investigation_charge_id is not None:
            continue
        charge = investigations.charge_from(
            session, principal, investigation_id=link.investigation_id, person_id=record.person_id,
            text="Charged in custody (" + record.custody_number + "): " + "; ".join(entry.data["offences"]),
            at=entry.occurred_at, source_type="custody_entry", source_id=entry.id)
        if charge is None:  # no longer its suspect: eliminated on that investigation since booking in
            continue
        link.charge_entry_id, link.investigation_charge_id = entry.id, charge.id
    session.flush()


def _check_booking_times(data: dict[str, Any]) -> None:
    """Arrival follows the arrest, except for a voluntary attender later arrested at the station, who arrived
    first (s.41(2)(c)); detention is authorised after both."""
    if data["arrived_at"] < data["arrested_at"] and not data.get("voluntary_attender"):
        raise InvalidInput.field("arrived_at", "cannot be before the arrest (unless a voluntary attender)")
    start = max(data["arrived_at"], data["arrested_at"])
    if data.get("authorised_at") and data["authorised_at"] < start:
        raise InvalidInput.field("authorised_at", "detention cannot be authorised before arrival and arrest")


def _next_number(session: Session, principal: Principal, suite: str, arrived_at: datetime) -> str:
    year = clock.local(arrived_at, principal.tenant.time_zone).year  # the force's year, whatever offset was sent
    number = next_serial(session, "custody_number_counter", principal.tenant.id, suite=suite, year=year)
    return f"{suite}/{year % 100:02d}/{number:05d}"


def _person(session: Session, record: CustodyRecord) -> Person | None:
    return session.scalar(select(Person).where(Person.tenant_id == record.tenant_id, Person.id == record.person_id))


# Who may add which entry: reviews are an inspector's, the extension a superintendent's (s.40, s.42).
# (Whose review it is depends on the time: before charge or after it, check_reviewer.)
ENTRY_ROLES = {"review": {"custody_officer", "custody_inspector", "superintendent"}, "extension": {"superintendent"}}
CUSTODY_ROLES = {"custody_officer", "custody_inspector", "superintendent"}


def check_role(principal: Principal, kind: str) -> None:
    allowed = ENTRY_ROLES.get(kind, CUSTODY_ROLES)
    if not allowed & principal.roles:
        raise Forbidden(f"A {kind} entry needs the role {' or '.join(sorted(allowed))}")


def check_reviewer(session: Session, principal: Principal, record: CustodyRecord, d: clock.Detention,
                   at: datetime) -> None:
    """Before charge an inspector's review, not involved in the investigation; after it the custody officer's
    (s.40(1))."""
    allowed, rule = clock.reviewer_roles(d, at)
    if not allowed & principal.roles:
        raise Forbidden(f"A review at this time needs the role {' or '.join(sorted(allowed))}: {rule}")
    try:
        clock.check_reviewer_not_involved(d, at, principal.user_id, _involved(session, record))
    except clock.ClockError as exc:
        raise Conflict(str(exc), {"recorded_by": [str(exc)]}) from None


def _involved(session: Session, record: CustodyRecord) -> list[tuple[str, str | None]]:
    """Who is involved in the investigation of this detention: its arresting and authorising officers and the
    officer in charge of each investigation linked to it."""
    linked = session.execute(select(Investigation.reference, Investigation.officer_in_charge).join(
        CustodyInvestigation, (CustodyInvestigation.tenant_id == Investigation.tenant_id)
        & (CustodyInvestigation.investigation_id == Investigation.id))
        .where(CustodyInvestigation.tenant_id == record.tenant_id,
               CustodyInvestigation.custody_record_id == record.id)).all()
    return [("the arresting officer", record.arresting_officer),
            ("the officer who authorised the detention", record.authorised_by),
            *((f"the officer in charge of investigation {reference}", officer) for reference, officer in linked)]


def load(session: Session, record_id: uuid.UUID, for_update: bool = False) -> CustodyRecord:
    return records.load(session, CustodyRecord, "custody record", record_id, for_update)


def entries_of(session: Session, record_id: uuid.UUID) -> list[CustodyEntry]:
    return list(session.scalars(select(CustodyEntry).where(CustodyEntry.record_id == record_id)
                                .order_by(CustodyEntry.occurred_at, CustodyEntry.recorded_at, CustodyEntry.id)))


def visit_intervals(settings: dict[str, Any]) -> dict[int, timedelta]:
    """The force's visit interval per observation level ([custody] visit_minutes), the national ones if absent."""
    minutes = (settings.get("custody") or {}).get("visit_minutes") or {}
    return {level: timedelta(minutes=int(minutes[str(level)])) if str(level) in minutes else national
            for level, national in clock.VISIT_INTERVALS.items()}


def dose_range(settings: dict[str, Any]) -> tuple[float, float]:
    """The force's range for a prescribed dose interval in hours ([custody] dose_interval_hours)."""
    doses = (settings.get("custody") or {}).get("dose_interval_hours") or {}
    return float(doses.get("minimum", 0.25)), float(doses.get("maximum", 72.0))


def facts(record: CustodyRecord, entries: list[Any], person: Person | None,
          intervals: dict[int, timedelta] | None = None, *, time_zone: str) -> clock.Detention:
    """What the clock needs, from the record and its entries (a corrected entry no longer counts)."""
    corrected = {e.corrects_id for e in entries if e.corrects_id}
    by_kind: dict[str, list[Any]] = {}
    for e in entries:
        if e.id not in corrected and e.kind != "correction":
            by_kind.setdefault(e.kind, []).append(e)

    def of(kind: str) -> list[Any]:
        return by_kind.get(kind, [])

    reviews = of("review")
    given: dict[str, list[datetime]] = {}
    for entry in of("medication_given"):
        given.setdefault(entry.data["name"], []).append(entry.occurred_at)
    medications = tuple(
        clock.Medication(e.data["name"], timedelta(hours=e.data["interval_hours"]),
                         datetime.fromisoformat(e.data["first_due_at"]), tuple(given.get(e.data["name"], ())))
        for e in of("medication"))
    levels = of("observation_level")
    dob = person.date_of_birth if person is not None and person.date_of_birth_precision == "day" else None
    return clock.Detention(
        arrested_at=record.arrested_at, arrived_at=record.arrived_at, authorised_at=record.authorised_at,
        arrested_in_other_force_area=record.arrested_in_other_force_area,
        arrived_at_relevant_station=record.arrived_at_relevant_station, voluntary_attender=record.voluntary_attender,
        relevant_time_override=record.relevant_time_override, override_reason=record.override_reason,
        indictable=any(o.get("indictable") for o in record.offences), date_of_birth=dob, vulnerable=record.vulnerable,
        appropriate_adult_at=min((e.occurred_at for e in of("appropriate_adult")), default=None),
        reviews_done=tuple(e.occurred_at for e in reviews),
        postponed=tuple((i, e.data["postponed_reason"]) for i, e in enumerate(reviews)
                        if e.data.get("postponed_reason")),
        extended_at=min((e.occurred_at for e in of("extension")), default=None),
        warrants=tuple(clock.Warrant(e.occurred_at, e.data["hours"]) for e in of("warrant")),
        charged_at=min((e.occurred_at for e in of("charge")), default=None), released_at=record.released_at,
        observation_level=levels[-1].data["level"] if levels else 1,
        visits=tuple(e.occurred_at for e in of("visit")), medications=medications,
        rights_given_at=min((e.occurred_at for e in of("rights_given")), default=None),
        risk_assessed_at=min((e.occurred_at for e in of("risk_assessment")), default=None),
        legal_advice_offered_at=min((e.occurred_at for e in of("legal_advice")), default=None),
        visit_intervals=intervals or dict(clock.VISIT_INTERVALS), time_zone=time_zone,
    )


def add_entry(session: Session, principal: Principal, record_id: uuid.UUID, data: dict[str, Any]) -> CustodyEntry:
    """Add one entry, checked against the record's timeline and the PACE clock first."""
    kind, at = data["kind"], data["occurred_at"]
    check_role(principal, kind)
    _not_future(at, "occurred_at")
    with transaction(session):
        record = load(session, record_id, for_update=True)
        entries = entries_of(session, record.id)
        person = _person(session, record)
        d = facts(record, entries, person, visit_intervals(principal.tenant.settings),
                  time_zone=principal.tenant.time_zone)
        if at < record.arrived_at:
            raise InvalidInput.field("occurred_at", "cannot be before the detainee arrived")
        if record.released_at is not None and kind not in ("note", "correction"):
            raise Conflict(f"The detainee was released at {record.released_at.isoformat()}; only notes and "
                           "corrections can be added", {"kind": ["record closed"]})
        try:
            _check(session, principal, record, d, entries, kind, at, data)
        except clock.ClockError as exc:
            raise Conflict(str(exc), {"kind": [str(exc)]}) from None
        entry = CustodyEntry(tenant_id=record.tenant_id, id=uuid.uuid4(), record_id=record.id, kind=kind,
                             occurred_at=at, recorded_by=principal.user_id, data=data.get("data") or {},
                             corrects_id=data.get("corrects_id"))
        session.add(entry)
        record.touch(principal)
        session.flush()
        if kind == "charge":
            _charge_flows(session, principal, record, entry)
        audit_service.record(session, principal, "alteration", RECORD_TYPE, record.id,
                             {"entry": str(entry.id), "kind": kind})
    return entry


def _check(session: Session, principal: Principal, record: CustodyRecord, d: clock.Detention,
           entries: list[CustodyEntry], kind: str, at: datetime, data: dict[str, Any]) -> None:
    body = data.get("data") or {}
    if kind == "review":
        check_reviewer(session, principal, record, d, at)
        if d.authorised_at is None or at < d.authorised_at:
            raise clock.ClockError("a review cannot come before detention was authorised (s.40)")
        due = clock.next_review_due(d)
        if due is not None and at > due and not body.get("postponed_reason"):
            raise clock.ClockError(f"this review was due by {due.isoformat()}: record why it was postponed "
                                   "(postponed_reason, s.40(4))")
    elif kind == "extension":
        clock.check_extension(d, at)
    elif kind == "warrant":
        clock.check_warrant(d, at, body["hours"], body.get("not_practicable_reason"))
    elif kind == "interview":
        clock.check_interview(d, at)
    elif kind == "appropriate_adult":
        clock.check_appropriate_adult(body["police_officer_or_staff"])
    elif kind == "medication":
        low, high = dose_range(principal.tenant.settings)
        if not low <= body["interval_hours"] <= high:
            raise InvalidInput.field("data.interval_hours", f"this force's dose intervals run from {low:g} to "
                                     f"{high:g} hours ([custody] dose_interval_hours)")
    elif kind == "cell":
        _check_cell(session, principal, record, d, body.get("cell", ""))
    elif kind == "correction":
        if not data.get("corrects_id") or all(e.id != data["corrects_id"] for e in entries):
            raise InvalidInput.field("corrects_id", "a correction names an entry of this record")
    if kind != "correction" and data.get("corrects_id"):
        raise InvalidInput.field("corrects_id", "only a correction points at another entry")
    if at > clock.detention_limit(d) and d.charged_at is None and kind in ("review", "visit", "interview"):
        raise clock.ClockError(f"detention without charge ended at {clock.detention_limit(d).isoformat()}: "
                               "charge or release the detainee")


def _check_cell(session: Session, principal: Principal, record: CustodyRecord, d: clock.Detention, code: str) -> None:
    suite = _suite(principal, record.suite)
    cell = next((c for c in suite["cells"] if c["code"] == code), None)
    if cell is None:
        raise InvalidInput.field("data.cell", f"no cell {code!r} in suite {record.suite}")
    occupants = [o for o in current_cells(session, record.tenant_id, record.suite, principal.tenant.time_zone)
                 if o.cell == code and o.record_id != record.id]
    if len(occupants) >= cell["capacity"]:
        raise clock.ClockError(f"cell {code} is full ({cell['capacity']})")
    juvenile = clock.is_juvenile(d)
    if any(o.juvenile != juvenile for o in occupants):
        raise clock.ClockError("a juvenile is never placed in a cell with an adult")


@dataclass(frozen=True)
class Occupant:
    record_id: uuid.UUID
    cell: str
    juvenile: bool


def current_cells(session: Session, tenant_id: uuid.UUID, suite: str, time_zone: str) -> list[Occupant]:
    """Who is in which cell of a suite now (each detainee's latest cell entry)."""
    rows = session.execute(text(
        """
        SELECT DISTINCT ON (e.record_id) e.record_id, e.data->>'cell' AS cell, p.date_of_birth,
               p.date_of_birth_precision, r.arrived_at
        FROM custody_entry e
        JOIN custody_record r ON r.tenant_id = e.tenant_id AND r.id = e.record_id
        JOIN person p ON p.tenant_id = r.tenant_id AND p.id = r.person_id
        WHERE r.suite = :suite AND r.released_at IS NULL AND e.kind = 'cell'
          AND r.tenant_id = CAST(:tenant AS uuid)
          AND NOT EXISTS (SELECT 1 FROM custody_entry c WHERE c.tenant_id = e.tenant_id AND c.corrects_id = e.id)
        ORDER BY e.record_id, e.occurred_at DESC, e.recorded_at DESC
        """), {"suite": suite, "tenant": tenant_id}).all()
    out = []
    for row in rows:
        dob = row.date_of_birth if row.date_of_birth_precision == "day" else None
        probe = clock.Detention(arrested_at=row.arrived_at, arrived_at=row.arrived_at, date_of_birth=dob,
                                time_zone=time_zone)
        out.append(Occupant(row.record_id, row.cell, clock.is_juvenile(probe)))
    return out


def release(session: Session, principal: Principal, record_id: uuid.UUID, expected: int | None,
            data: dict[str, Any]) -> CustodyRecord:
    at = data["released_at"]
    _not_future(at, "released_at")
    with transaction(session):
        record = load(session, record_id, for_update=True)
        record.check_version(expected)
        if record.released_at is not None:
            raise Conflict("The detainee has already been released", {"released_at": ["already released"]})
        if at < record.arrived_at:
            raise InvalidInput.field("released_at", "cannot be before the detainee arrived")
        entries = entries_of(session, record.id)
        last = max((e.occurred_at for e in entries), default=record.arrived_at)
        if at < last:
            raise InvalidInput.field("released_at", f"cannot be before the last entry ({last.isoformat()})")
        try:
            clock.check_outcome(facts(record, entries, _person(session, record), time_zone=principal.tenant.time_zone),
                                data["outcome"])
        except clock.ClockError as exc:
            raise Conflict(f"outcome: {exc}", {"outcome": [str(exc)]}) from None
        record.released_at, record.outcome = at, data["outcome"]
        record.touch(principal)
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, record.id, {"outcome": data["outcome"]})
    return record


def summary(record: CustodyRecord, entries: list[Any], person: Person | None, time_zone: str,
            now: datetime | None = None, d: clock.Detention | None = None) -> dict[str, Any]:
    """The record's clock, in the force's time zone."""
    now = now or clock.current_time()
    d = d or facts(record, entries, person, time_zone=time_zone)

    def out(moment: datetime | None) -> str | None:
        return clock.local(moment, time_zone).isoformat() if moment else None

    corrected = {e.corrects_id for e in entries if e.corrects_id}
    cells = [e for e in entries if e.kind == "cell" and e.id not in corrected]  # a corrected cell is not theirs
    return {
        "relevant_time": out(clock.relevant_time(d)),
        "detention_limit": out(clock.detention_limit(d)),
        "next_review_due": out(clock.next_review_due(d)),
        "next_visit_due": out(clock.next_visit_due(d)),
        "next_doses_due": [{"name": n, "due_at": out(t)} for n, t in clock.next_doses_due(d)],
        "appropriate_adult_outstanding": clock.appropriate_adult_outstanding(d),
        "overdue": [{"what": o.what, "due_at": out(o.due_at)} for o in clock.overdue(d, now)],
        "cell": cells[-1].data.get("cell") if cells else None,
        "minutes_in_custody": int(((record.released_at or now) - record.arrived_at).total_seconds() // 60),
    }


def get(session: Session, principal: Principal, record_id: uuid.UUID, *,
        sessions: Sessions | None = None) -> dict[str, Any]:
    """The record, its entries, its detainee and its clock, audited as consulted (and logged for its provider if
    shared); with `sessions`, a shared record held in another database is read there, through its policies."""
    return sharing.read_by_id(session, principal, RECORD_TYPE, lambda database: _detail(database, principal, record_id),
                              sessions=sessions, shown=lambda found: (found["record"], RECORD_TYPE, None))


def _detail(session: Session, principal: Principal, record_id: uuid.UUID) -> dict[str, Any]:
    """The record's detail as one database holds it (its detainee, shown by name, logged for their provider)."""
    record = load(session, record_id)
    entries = entries_of(session, record.id)
    person = _person(session, record)
    if person is not None:
        sharing.record_shared_reads(session, principal, "person", [(person.tenant_id, person.id)])
    links = investigations_of(session, record)
    d = facts(record, entries, person, visit_intervals(principal.tenant.settings), time_zone=principal.tenant.time_zone)
    return {"record": record, "entries": entries, "person": person,
            "investigation_ids": [link.investigation_id for link in links],
            "clock": summary(record, entries, person, principal.tenant.time_zone, d=d)}


def find(session: Session, principal: Principal, query: dict[str, Any], *,
         sessions: Sessions | None = None) -> tuple[list[CustodyRecord], int]:
    """Custody records by custody number, person, suite and open/closed, newest arrival first; another force's
    where an agreement shares them (its database's policies decide), each read logged; with `sessions`, those
    held in other databases too, merged into the one order."""
    stmt = select(CustodyRecord)
    for field in ("custody_number", "person_id", "suite"):
        if query.get(field):
            stmt = stmt.where(getattr(CustodyRecord, field) == query[field])
    if query.get("status"):
        is_open = CustodyRecord.released_at.is_(None)
        stmt = stmt.where(is_open if query["status"] == "open" else ~is_open)
    tenants = sharing.tenants_filterable(principal, RECORD_TYPE, [f for f in ("custody_number", "person_id", "suite")
                                                                  if query.get(f)])
    if tenants is not None:
        stmt = stmt.where(CustodyRecord.tenant_id.in_(tenants))
    return shared_lists.find(session, principal, RECORD_TYPE, CustodyRecord, stmt,
                             (CustodyRecord.arrived_at.desc(), CustodyRecord.id),
                             page=query["page"], page_size=query["page_size"], sessions=sessions)


def board(session: Session, principal: Principal, suite: str) -> list[dict[str, Any]]:
    """Every current detainee of a suite with cell, time in custody and what is due, most urgent first
    (clock.urgency: the most urgent due item, breaches of the limit and reviews ahead of the rest)."""
    _suite(principal, suite)
    now = clock.current_time()
    with transaction(session):
        # the force's own suite: another force's detainees are never on it, whatever is shared
        records = list(session.scalars(select(CustodyRecord).where(
            CustodyRecord.tenant_id == principal.tenant.id, CustodyRecord.suite == suite,
            CustodyRecord.released_at.is_(None))))
        ids = [r.id for r in records]
        # rows, not ORM objects: a busy suite has thousands of entries, and the clock only reads them
        columns = CustodyEntry.__table__.c
        data = case((columns.kind.in_(CLOCK_DATA_KINDS), columns.data)).label("data")  # a visit's note is not read
        all_entries = session.execute(
            select(columns.record_id, columns.id, columns.kind, columns.occurred_at, data, columns.corrects_id)
            .where(columns.record_id.in_(ids), columns.tenant_id == principal.tenant.id)
            .order_by(columns.occurred_at, columns.recorded_at)).all() if ids else []
        # names and date of birth only: the person's lists (other names, identifiers, markers) load if ever asked for
        persons = {p.id: p for p in session.scalars(
            select(Person).where(Person.id.in_([r.person_id for r in records]))
            .options(lazyload(Person.other_names), lazyload(Person.identifiers), lazyload(Person.warning_markers)))
        } if ids else {}
        audit_service.record_each(session, principal, "consultation", RECORD_TYPE, ids, {"via": "board"})
    by_record: dict[uuid.UUID, list[Any]] = {}
    for entry in all_entries:
        by_record.setdefault(entry.record_id, []).append(entry)
    rows = []
    intervals = visit_intervals(principal.tenant.settings)
    for record in records:
        person = persons.get(record.person_id)
        entries = by_record.get(record.id, [])
        d = facts(record, entries, person, intervals, time_zone=principal.tenant.time_zone)
        rows.append((clock.urgency(d, now), record, person, entries, d))
    rows.sort(key=lambda r: (r[0], r[1].custody_number))
    return [{"record": record, "person": person,
             "clock": summary(record, entries, person, principal.tenant.time_zone, now, d)}
            for _, record, person, entries, d in rows]


def erase(session: Session, *, record_id: uuid.UUID) -> None:
    """Disposal: delete an own custody record with its entries and its links to investigations, in the caller's
    transaction (documents, links and audit are the caller's; the detainee stays)."""
    own = func.app_current_tenant()
    session.execute(delete(CustodyInvestigation).where(CustodyInvestigation.tenant_id == own,
                                                       CustodyInvestigation.custody_record_id == record_id))
    session.execute(delete(CustodyEntry).where(CustodyEntry.tenant_id == own, CustodyEntry.record_id == record_id))
    session.execute(delete(CustodyRecord).where(CustodyRecord.tenant_id == own, CustodyRecord.id == record_id))


def unlink_investigation(session: Session, *, investigation_id: uuid.UUID) -> None:
    """Disposal of an investigation: the force's custody records no longer name it (they stay, reviewed on their
    own), in the caller's transaction."""
    session.execute(delete(CustodyInvestigation).where(CustodyInvestigation.tenant_id == func.app_current_tenant(),
                                                       CustodyInvestigation.investigation_id == investigation_id))
