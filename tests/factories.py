"""Small factories: records made through their services (not over HTTP), one force at a time, inside the test's
rolled-back transaction. `every_record(...)` makes one record of every registered type and a document on each
attachable one, for the guard tests that walk the whole registry."""
from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from app.auth.permissions import permissions_for
from app.auth.principal import Principal
from app.db import TenantContext, record_class, tenant_context
from app.pole import records


def principal(services: Any, slug: str, *roles: str, user: str = "factory") -> Principal:
    """A principal of one force with the given Concord roles."""
    granted = frozenset(roles or ("investigator",))
    return Principal(services.registry.by_slug(slug), user, granted, permissions_for(granted))


@contextmanager
def acting(services: Any, slug: str, *roles: str) -> Iterator[tuple[Session, Principal]]:
    """A session and principal acting for one force, its tenant context set."""
    who = principal(services, slug, *roles)
    session = services.databases.session(who.tenant)
    try:
        with tenant_context(TenantContext(who.tenant.id, who.user_id, "", "factory")):
            yield session, who
    finally:
        session.close()


def make(services: Any, slug: str, record_type: str, **values: Any) -> Any:
    """One record of a POLE type (object, location, event, link), created through app.pole.records."""
    with acting(services, slug) as (session, who):
        return records.create(session, who, record_class(record_type), record_type, values)


def vehicle(services: Any, slug: str, **values: Any) -> Any:
    return make(services, slug, "object", **{"kind": "vehicle", "vrm": "FA" + uuid.uuid4().hex[:5].upper(),
                                             "make": "Ford", **values})


def location(services: Any, slug: str, **values: Any) -> Any:
    return make(services, slug, "location", **{"address_lines": ["1 Factory Row"], "town": "Northtown",
                                               "postcode": "NT1 1AA", **values})


def event(services: Any, slug: str, **values: Any) -> Any:
    return make(services, slug, "event", **{"event_type": "incident", "summary": "made by a factory",
                                            "occurred_at": datetime.now(timezone.utc) - timedelta(days=1), **values})


def link(services: Any, slug: str, start: tuple[str, uuid.UUID], end: tuple[str, uuid.UUID],
         link_type: str) -> Any:
    return make(services, slug, "link", from_type=start[0], from_id=start[1], to_type=end[0], to_id=end[1],
                link_type=link_type)


def every_record(services: Any, as_user: Any, slug: str) -> dict[str, dict[str, Any]]:
    """One record of every registered type of a force, as {record_type: {"id": ..., ...}}, and "document:<type>"
    for a document attached to each attachable one. Flows with many rules (custody, investigations,
    intelligence, cases) go through the API their users use; the POLE types through their services."""
    from tests.custody.test_records import book
    from tests.test_cases import shoplifting
    from tests.test_intelligence import ACCEPT, submit

    api = as_user(slug, "investigator")
    officer, analyst = as_user(slug, "officer", user="pc-author"), as_user(slug, "intelligence_analyst")
    made: dict[str, dict[str, Any]] = {}
    person = api.create_person()
    home = location(services, slug)
    made["person"] = person
    made["location"] = {"id": str(home.id)}
    car = vehicle(services, slug)
    made["object"] = {"id": str(car.id), "vrm": car.vrm}
    made["event"] = {"id": str(event(services, slug, location_id=home.id).id)}
    made["link"] = {"id": str(link(services, slug, ("person", uuid.UUID(person["id"])), ("location", home.id),
                                   "resides_at").id)}
    made["custody"] = book(as_user(slug, "custody_officer", user="ps-12"))
    inv, _, _ = shoplifting(api)
    made["investigation"] = inv
    case = api.post("/api/v1/cases", json={"investigation_id": inv["id"]})
    assert case.status_code == 201, case.get_json()
    made["case"] = case.get_json()
    report = submit(officer)
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", json=ACCEPT)
    analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links", json={"go_live": True})
    made["intelligence"] = report
    for record_type in [t for t in list(made) if record_class(t).attachable]:
        made[f"document:{record_type}"] = attach(api, record_type, made[record_type]["id"])
    return made


def attach(api: Any, record_type: str, record_id: str, content: bytes | None = None, **form: Any) -> dict[str, Any]:
    """A document attached to a record, uploaded through the API (the object first, then the row)."""
    data = {"record_type": record_type, "record_id": record_id,
            "file": (io.BytesIO(content or f"evidence on {record_type}".encode()), f"{record_type}.txt"), **form}
    response = api.post("/api/v1/documents", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()
