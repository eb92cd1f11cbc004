"""/api/v1/objects, /locations, /events, /links and /network: thin views over app.pole."""
from __future__ import annotations

import uuid

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import POLE_READ, POLE_WRITE
from app.http import IDEMPOTENCY_DOC, IF_MATCH_DOC, idempotent, page, required_version, versioned
from app.pole import links, records, service
from app.pole.models import Link as LinkModel
from app.pole.models import Location as LocationModel
from app.pole.models import PoleEvent, PoleObject
from app.pole.schemas import (
    EventCreateSchema,
    EventFields,
    EventSchema,
    LinkCreateSchema,
    LinkSchema,
    LinkUpdateSchema,
    LocationCreateSchema,
    LocationFields,
    LocationPageSchema,
    LocationQuerySchema,
    LocationSchema,
    NetworkQuerySchema,
    NetworkSchema,
    ObjectCreateSchema,
    ObjectFields,
    ObjectPageSchema,
    ObjectQuerySchema,
    ObjectSchema,
)

blp = Blueprint("pole", __name__, url_prefix="/api/v1", description="Objects, locations, events and links")


def _created(record, endpoint: str, **kwargs):
    return versioned(record, record.version, 201, url_for(endpoint, **kwargs))


def _read(record):
    return versioned(record, record.version)


@blp.route("/objects")
class Objects(MethodView):
    @requires(POLE_READ)
    @blp.arguments(ObjectQuerySchema, location="query")
    @blp.response(200, ObjectPageSchema)
    def get(self, query):
        """Find vehicles by full or partial VRM, telephones by number, property by serial number."""
        items, total = service.find_objects(g.session, current_principal(), query, sessions=g.sessions)
        return page(items, total, query)

    @requires(POLE_WRITE)
    @idempotent
    @blp.arguments(ObjectCreateSchema)
    @blp.response(201, ObjectSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data):
        """Record a vehicle, a telephone or other property."""
        obj = service.create_object(g.session, current_principal(), data)
        return _created(obj, "pole.Object", object_id=obj.id)


@blp.route("/objects/<uuid:object_id>")
class Object(MethodView):
    @requires(POLE_READ)
    @blp.response(200, ObjectSchema)
    def get(self, object_id: uuid.UUID):
        """Read an object (another force's id answers 404)."""
        return _read(records.get(g.session, current_principal(), PoleObject, service.OBJECT, object_id,
                                 sessions=g.sessions))

    @requires(POLE_WRITE)
    @blp.arguments(ObjectFields)
    @blp.response(200, ObjectSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def patch(self, changes, object_id: uuid.UUID):
        """Change an object's details; needs If-Match."""
        expected = required_version()
        return _read(service.update_object(g.session, current_principal(), object_id, expected, changes))


@blp.route("/locations")
class Locations(MethodView):
    @requires(POLE_READ)
    @blp.arguments(LocationQuerySchema, location="query")
    @blp.response(200, LocationPageSchema)
    def get(self, query):
        """Find locations by postcode or UPRN."""
        items, total = service.find_locations(g.session, current_principal(), query, sessions=g.sessions)
        return page(items, total, query)

    @requires(POLE_WRITE)
    @idempotent
    @blp.arguments(LocationCreateSchema)
    @blp.response(201, LocationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data):
        """Record a location (409 if its UPRN is already a location of the force)."""
        location = service.create_location(g.session, current_principal(), data)
        return _created(location, "pole.Location", location_id=location.id)


@blp.route("/locations/<uuid:location_id>")
class Location(MethodView):
    @requires(POLE_READ)
    @blp.response(200, LocationSchema)
    def get(self, location_id: uuid.UUID):
        """Read a location."""
        return _read(records.get(g.session, current_principal(), LocationModel, service.LOCATION, location_id,
                                 sessions=g.sessions))

    @requires(POLE_WRITE)
    @blp.arguments(LocationFields)
    @blp.response(200, LocationSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def patch(self, changes, location_id: uuid.UUID):
        """Change a location; needs If-Match."""
        expected = required_version()
        return _read(service.update_location(g.session, current_principal(), location_id, expected, changes))


@blp.route("/events")
class Events(MethodView):
    @requires(POLE_WRITE)
    @idempotent
    @blp.arguments(EventCreateSchema)
    @blp.response(201, EventSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data):
        """Record an event: what happened, when and where."""
        event = service.create_event(g.session, current_principal(), data)
        return _created(event, "pole.Event", event_id=event.id)


@blp.route("/events/<uuid:event_id>")
class Event(MethodView):
    @requires(POLE_READ)
    @blp.response(200, EventSchema)
    def get(self, event_id: uuid.UUID):
        """Read an event."""
        return _read(records.get(g.session, current_principal(), PoleEvent, service.EVENT, event_id,
                                 sessions=g.sessions))

    @requires(POLE_WRITE)
    @blp.arguments(EventFields)
    @blp.response(200, EventSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def patch(self, changes, event_id: uuid.UUID):
        """Change an event; needs If-Match."""
        expected = required_version()
        return _read(service.update_event(g.session, current_principal(), event_id, expected, changes))


@blp.route("/links")
class Links(MethodView):
    @requires(POLE_WRITE)
    @idempotent
    @blp.arguments(LinkCreateSchema)
    @blp.response(201, LinkSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data):
        """Link two of the force's records (the type must fit the pair: a person is a suspect in an event)."""
        link = links.create(g.session, current_principal(), data)
        return _created(link, "pole.Link", link_id=link.id)


@blp.route("/links/<uuid:link_id>")
class Link(MethodView):
    @requires(POLE_READ)
    @blp.response(200, LinkSchema)
    def get(self, link_id: uuid.UUID):
        """Read a link."""
        return _read(records.get(g.session, current_principal(), LinkModel, links.RECORD_TYPE, link_id,
                                 sessions=g.sessions))

    @requires(POLE_WRITE)
    @blp.arguments(LinkUpdateSchema)
    @blp.response(200, LinkSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def patch(self, changes, link_id: uuid.UUID):
        """Change a link's dates (end a link by giving valid_to); needs If-Match."""
        expected = required_version()
        return _read(links.update_dates(g.session, current_principal(), link_id, expected, changes))


@blp.route("/network")
class Network(MethodView):
    @requires(POLE_READ)
    @blp.arguments(NetworkQuerySchema, location="query")
    @blp.response(200, NetworkSchema)
    def get(self, query):
        """The entities within N links (N <= 3) of one entity, each with the path that reaches it."""
        return links.network(g.session, current_principal(), query["entity_type"], query["entity_id"], query["hops"],
                             sessions=g.sessions)
