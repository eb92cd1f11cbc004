"""Objects, locations and events: the rules beyond create-read-update, which app.pole.records does."""
from __future__ import annotations

import uuid
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import Sessions, transaction
from app.errors import Conflict, InvalidInput
from app.pole import records
from app.pole.links import require_entity
from app.pole.models import Location, PoleEvent, PoleObject
from app.pole.schemas import check_object_fields
from app.sharing import lists as shared_lists
from app.sharing import visibility as sharing

OBJECT, LOCATION, EVENT = "object", "location", "event"


def create_object(session: Session, principal: Principal, data: dict[str, Any]) -> PoleObject:
    return records.create(session, principal, PoleObject, OBJECT, data)


def update_object(session: Session, principal: Principal, object_id: uuid.UUID, expected: int | None,
                  changes: dict[str, Any]) -> PoleObject:
    def check(obj: PoleObject) -> None:
        state = {field: getattr(obj, field) for field in ("vrm", "make", "model", "colour", "vin", "phone_number",
                                                           "category", "description", "serial_number")}
        try:
            check_object_fields(obj.kind, state)
        except ValidationError as exc:
            raise InvalidInput("The object would no longer be valid", exc.messages) from None  # type: ignore[arg-type]

    return records.update(session, principal, PoleObject, OBJECT, object_id, expected, changes, check)


def find_objects(session: Session, principal: Principal, query: dict[str, Any], *,
                 sessions: Sessions | None = None) -> tuple[list[PoleObject], int]:
    """Vehicles by full or partial VRM ('?' one unknown character), telephones by number, property by serial; with
    `sessions`, shared objects held in other databases too, merged into the one order."""
    stmt = select(PoleObject)
    if query.get("kind"):
        stmt = stmt.where(PoleObject.kind == query["kind"])
    if query.get("vrm"):
        fragment = query["vrm"]
        if "?" in fragment or len(fragment) < 5:
            stmt = stmt.where(PoleObject.vrm.like("%" + fragment.replace("?", "_") + "%"))
        else:
            stmt = stmt.where(PoleObject.vrm.contains(fragment, autoescape=True))
        order = [(PoleObject.vrm != fragment), PoleObject.vrm, PoleObject.id]
    else:
        order = [PoleObject.created_at.desc(), PoleObject.id]
    if query.get("phone_number"):
        stmt = stmt.where(PoleObject.phone_number == query["phone_number"])
    if query.get("serial_number"):
        stmt = stmt.where(PoleObject.serial_number == query["serial_number"])
    stmt = _only_unmasked(principal, stmt, PoleObject, OBJECT, [f for f in ("vrm", "phone_number", "serial_number")
                                                     if query.get(f)])
    return shared_lists.find(session, principal, OBJECT, PoleObject, stmt, order, page=query["page"],
                             page_size=query["page_size"], sessions=sessions)


def create_location(session: Session, principal: Principal, data: dict[str, Any]) -> Location:
    """Record a location; within a force one UPRN is one location (409 naming the one that holds it)."""
    with transaction(session):
        _check_uprn_free(session, data.get("uprn"), None)
        return records.create(session, principal, Location, LOCATION, data)


def update_location(session: Session, principal: Principal, location_id: uuid.UUID, expected: int | None,
                    changes: dict[str, Any]) -> Location:
    with transaction(session):
        if changes.get("uprn") is not None:
            _check_uprn_free(session, changes["uprn"], location_id)
        return records.update(session, principal, Location, LOCATION, location_id, expected, changes)


def _check_uprn_free(session: Session, uprn: int | None, location_id: uuid.UUID | None) -> None:
    """One UPRN is one location within a force; another force's locations (shared or not) are never asked about."""
    if uprn is None:
        return
    holder = session.scalar(select(Location.id).where(Location.tenant_id == func.app_current_tenant(),
                                                      Location.uprn == uprn))
    if holder is not None and holder != location_id:
        raise Conflict(f"UPRN {uprn} is already location {holder}: link to that location instead",
                       {"uprn": [f"already recorded as location {holder}"]})


def find_locations(session: Session, principal: Principal, query: dict[str, Any], *,
                   sessions: Sessions | None = None) -> tuple[list[Location], int]:
    """Locations by postcode or UPRN, in postcode and address order; with `sessions`, shared locations held in
    other databases too, merged into the one order."""
    stmt = select(Location)
    if query.get("postcode"):
        stmt = stmt.where(Location.postcode == query["postcode"])
    if query.get("uprn"):
        stmt = stmt.where(Location.uprn == query["uprn"])
    stmt = _only_unmasked(principal, stmt, Location, LOCATION, [f for f in ("postcode", "uprn") if query.get(f)])
    order = [*(sharing.sort_key(principal, LOCATION, field, getattr(Location, field), Location.tenant_id)
               for field in ("postcode", "address_lines")), Location.id]
    return shared_lists.find(session, principal, LOCATION, Location, stmt, order, page=query["page"],
                             page_size=query["page_size"], sessions=sessions)


def create_event(session: Session, principal: Principal, data: dict[str, Any]) -> PoleEvent:
    with transaction(session):
        if data.get("location_id"):
            require_entity(session, "location", data["location_id"], "location_id")
        return records.create(session, principal, PoleEvent, EVENT, data)


def update_event(session: Session, principal: Principal, event_id: uuid.UUID, expected: int | None,
                 changes: dict[str, Any]) -> PoleEvent:
    with transaction(session):
        if changes.get("location_id"):
            require_entity(session, "location", changes["location_id"], "location_id")
        return records.update(session, principal, PoleEvent, EVENT, event_id, expected, changes)


def _only_unmasked(principal: Principal, stmt: Any, model: Any, record_type: str, fields: list[str]) -> Any:
    """A filter on a field another force masks must not reveal it: leave that force's records out."""
    tenants = sharing.tenants_filterable(principal, record_type, fields)
    return stmt if tenants is None else stmt.where(model.tenant_id.in_(tenants))
