"""Demo data for the fictional forces: loaded once (fixed ids; a second load adds nothing)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from flask import Flask
from sqlalchemy import select

from app.auth.permissions import permissions_for
from app.auth.principal import Principal
from app.custody import service as custody
from app.db import tenant_context, transaction
from app.people import service as people
from app.people.identifiers import PartialDate
from app.people.models import Person
from app.pole import links
from app.pole import service as pole

DEMO_USER = "demo-loader"
DEMO_PURPOSE = "demo data load"

PEOPLE = {
    "northshire": [
        {"surname": "Smith-Jones", "forenames": "Katherine Anne", "date_of_birth": PartialDate.parse("1988-03-14"),
         "sex": "female", "pnc_id": "88/0012345G",
         "other_names": [{"kind": "nickname", "surname": "Smith-Jones", "forenames": "Kate"}]},
        {"surname": "O'Brien", "forenames": "Siobhan", "date_of_birth": PartialDate.parse("1992-11-02"),
         "sex": "female"},
        {"surname": "Okafor", "forenames": "Daniel", "date_of_birth": PartialDate.parse("1979-06-30"), "sex": "male"},
    ],
    "southshire": [
        {"surname": "Smith", "forenames": "William", "date_of_birth": PartialDate.parse("1985-01-20"), "sex": "male"},
        {"surname": "Kowalski", "forenames": "Piotr", "date_of_birth": PartialDate.parse("1990-08-08"), "sex": "male"},
    ],
    "westshire": [
        {"surname": "MacDonald", "forenames": "Margaret", "date_of_birth": PartialDate.parse("1960-05-05"),
         "sex": "female"},
    ],
    "lakeshire": [
        {"surname": "Lake", "forenames": "Jonathan", "date_of_birth": PartialDate.parse("1975-12-01"), "sex": "male"},
    ],
    "moorshire": [
        {"surname": "Moorcroft", "forenames": "Harriet", "date_of_birth": PartialDate.parse("1983-07-19"),
         "sex": "female"},
    ],
}


def demo_id(slug: str, index: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"concord-demo/{slug}/person/{index}")


def _surroundings(session, principal: Principal, person_id: uuid.UUID, index: int) -> int:
    """For the first demo person of a force: an address, a car and a burglary they are a suspect in."""
    if index != 0:
        return 0
    home = pole.create_location(session, principal, {"address_lines": ["14 Chapel Street"], "town": "Northtown",
                                                     "postcode": "NT1 4CS"})
    car = pole.create_object(session, principal, {"kind": "vehicle", "vrm": "NS12ABC", "make": "Ford",
                                                  "model": "Focus", "colour": "Blue"})
    burglary = pole.create_event(session, principal, {
        "event_type": "burglary", "occurred_at": datetime(2026, 11, 20, 22, 15, tzinfo=timezone.utc),
        "location_id": home.id, "summary": "Garden shed forced; two bicycles taken"})
    person = {"type": "person", "id": person_id}
    for other, link_type, extra in (
            ({"type": "location", "id": home.id}, "resides_at", {"valid_from": date(2019, 4, 1)}),
            ({"type": "object", "id": car.id}, "owner", {}),
            ({"type": "event", "id": burglary.id}, "suspect", {})):
        links.create(session, principal, {"from_": person, "to": other, "link_type": link_type, **extra})
    return 6


def _detention(session, tenant, person_id: uuid.UUID, index: int) -> int:
    """For the second demo person of a force with a custody suite: in custody since three hours ago."""
    suites = tenant.settings.get("custody_suites", [])
    if index != 1 or not suites:
        return 0
    sergeant = Principal(tenant, "demo-custody-sergeant", frozenset({"custody_officer"}),
                         permissions_for({"custody_officer"}), purpose=DEMO_PURPOSE)
    arrived = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=3)
    record = custody.book_in(session, sergeant, {
        "suite": suites[0]["code"], "person_id": person_id, "arrested_at": arrived - timedelta(minutes=40),
        "arrest_place": "Market Square", "arresting_officer": "PC 101", "arrived_at": arrived,
        "authorised_at": arrived + timedelta(minutes=10), "authorised_by": "PS 12",
        "grounds": "to obtain evidence by questioning",
        "offences": [{"code": "28/1", "wording": "Burglary of a dwelling", "indictable": True}]})
    for minutes, kind, data in ((15, "rights_given", {"written_notice": True}),
                                (20, "risk_assessment", {"answers": {"self_harm": "no"}, "level": "low"}),
                                (25, "cell", {"cell": suites[0]["cells"][0]["code"]}),
                                (60, "visit", {"condition": "awake, calm"}),
                                (120, "visit", {"condition": "asleep, breathing normally", "roused": False})):
        custody.add_entry(session, sergeant, record.id,
                          {"kind": kind, "occurred_at": arrived + timedelta(minutes=minutes), "data": data})
    return 1


def load(app: Flask) -> int:
    """Create any demo person not yet present (with the records around them); returns how many records were created."""
    services = app.extensions["concord"]
    created = 0
    with app.app_context():
        for tenant in services.registry.tenants():
            principal = Principal(tenant, DEMO_USER, frozenset({"officer"}), permissions_for({"officer"}),
                                  purpose=DEMO_PURPOSE)
            session = services.databases.session(tenant)
            try:
                with tenant_context(principal.context()):
                    for index, data in enumerate(PEOPLE.get(tenant.slug, [])):
                        person_id = demo_id(tenant.slug, index)
                        with transaction(session):
                            exists = session.scalar(select(Person.id).where(Person.id == person_id))
                            if exists is None:
                                person = people.create(session, principal, dict(data), confirm_new=True,
                                                       person_id=person_id)
                                created += 1 + _surroundings(session, principal, person.id, index)
                                created += _detention(session, tenant, person.id, index)
            finally:
                session.close()
    return created
