"""/api/v1/people: thin views over app.people.service."""
from __future__ import annotations

import uuid

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import PEOPLE_READ, PEOPLE_WRITE
from app.http import etag, idempotent, required_version
from app.people import service
from app.people.schemas import (
    PersonCreateSchema,
    PersonListQuerySchema,
    PersonPageSchema,
    PersonSchema,
    PersonUpdateSchema,
)

blp = Blueprint("people", __name__, url_prefix="/api/v1/people", description="People (nominals)")


@blp.route("")
class People(MethodView):
    @requires(PEOPLE_READ)
    @blp.arguments(PersonListQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PersonPageSchema)
    def get(self, page: int, page_size: int, **filters):
        """List people by exact surname, forenames and date of birth (case and accents ignored)."""
        query = service.PersonQuery(page=page, page_size=page_size, **filters)
        people, total = service.find(g.session, current_principal(), query)
        return {"items": people, "total": total, "page": page, "page_size": page_size}

    @requires(PEOPLE_WRITE)
    @idempotent
    @blp.arguments(PersonCreateSchema)
    @blp.response(201, PersonSchema, headers={"ETag": {"description": "The record's version"}})
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"},
                          "description": "A retry with the same key returns the first response"}])
    def post(self, data):
        """Record a person."""
        person = service.create(g.session, current_principal(), data)
        location = url_for("people.Person", person_id=person.id)
        return person, 201, {"ETag": etag(person.version), "Location": location}


@blp.route("/<uuid:person_id>")
class Person(MethodView):
    @requires(PEOPLE_READ)
    @blp.response(200, PersonSchema)
    def get(self, person_id: uuid.UUID):
        """Read a person (another force's id answers 404)."""
        person = service.get(g.session, current_principal(), person_id)
        return person, 200, {"ETag": etag(person.version)}

    @requires(PEOPLE_WRITE)
    @blp.arguments(PersonUpdateSchema)
    @blp.response(200, PersonSchema)
    @blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                          "description": "The ETag you read; 428 without it, 412 if stale"}])
    def patch(self, changes, person_id: uuid.UUID):
        """Change a person's details; needs If-Match with the version you read."""
        expected = required_version()
        person = service.update(g.session, current_principal(), person_id, expected, changes)
        return person, 200, {"ETag": etag(person.version)}
