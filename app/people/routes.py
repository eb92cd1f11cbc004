"""/api/v1/people: thin views over app.people.service."""
from __future__ import annotations

import uuid
from typing import Any

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import PEOPLE_MERGE, PEOPLE_READ, PEOPLE_WRITE
from app.db import transaction
from app.http import IDEMPOTENCY_DOC, IF_MATCH_DOC, idempotent, page, required_version, versioned
from app.people import merge, search, service
from app.people.schemas import (
    DuplicateCandidatesSchema,
    DuplicatePairsSchema,
    MergeRequestSchema,
    MergeSchema,
    PersonCreateQuerySchema,
    PersonCreateSchema,
    PersonListQuerySchema,
    PersonPageSchema,
    PersonSchema,
    PersonSearchQuerySchema,
    PersonUpdateSchema,
    SearchResultSchema,
    SearchResultsSchema,
    UndoRequestSchema,
)
from app.pole import links
from app.pole.schemas import LinkListSchema
from app.schemas import PageQuerySchema
from app.sharing import visibility as sharing

blp = Blueprint("people", __name__, url_prefix="/api/v1/people", description="People (nominals)")


@blp.route("")
class People(MethodView):
    @requires(PEOPLE_READ)
    @blp.arguments(PersonListQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PersonPageSchema)
    def get(self, page: int, page_size: int, **filters):
        """List people by exact surname, forenames and date of birth (case and accents ignored)."""
        query = service.PersonQuery(page=page, page_size=page_size, **filters)
        people, total = service.find(g.session, current_principal(), query, sessions=g.sessions)
        return {"items": people, "total": total, "page": page, "page_size": page_size}

    @requires(PEOPLE_WRITE)
    @idempotent
    @blp.arguments(PersonCreateQuerySchema, location="query")
    @blp.arguments(PersonCreateSchema)
    @blp.response(201, PersonSchema, headers={"ETag": {"description": "The record's version",
                                                                    "schema": {"type": "string"}}})
    @blp.alt_response(409, schema=DuplicateCandidatesSchema,
                      description="The person probably exists already: the candidates, best first")
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, query, data):
        """Record a person, unless they probably exist already (409 with the candidates and their scores)."""
        try:
            person = service.create(g.session, current_principal(), data, confirm_new=query["confirm_new"],
                                    sessions=g.sessions)
        except service.ProbableDuplicate as exc:
            exc.extra["candidates"] = SearchResultSchema(many=True).dump(exc.candidates)
            raise
        return _created(person)


def _created(person):
    return versioned(person, person.version, 201, url_for("people.Person", person_id=person.id))


@blp.route("/search")
class Search(MethodView):
    @requires(PEOPLE_READ)
    @blp.arguments(PersonSearchQuerySchema, location="query")
    @blp.response(200, SearchResultsSchema)
    def get(self, query):
        """Ranked people for a name in any order, a date of birth (full or a year), an identifier; each result
        with its score and the reasons it matched, a page at a time with the total. Sex, age and postcode narrow."""
        criteria = search.Criteria(**query)
        with transaction(g.session):  # one round of BEGIN and COMMIT for the search and the notice
            found = search.search_page(g.session, current_principal(), criteria, sessions=g.sessions)
            body: dict[str, Any] = {"items": found.results, "total": found.total, "page": criteria.page,
                                    "page_size": criteria.page_size}
            if found.left_out:
                body["left_out"] = found.left_out
            if not current_principal().purpose and sharing.has_shared(g.sessions.home()):
                body["notice"] = ("Only your force's records were searched: other forces share records with "
                                  "yours, but reaching them needs a stated purpose (send X-Purpose)")
        return body


@blp.route("/duplicates")
class Duplicates(MethodView):
    @requires(PEOPLE_MERGE)
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, DuplicatePairsSchema)
    def get(self, query):
        """Likely duplicate pairs within the force, best first, a page at a time (for the people who merge records)."""
        pairs, total = merge.duplicate_pairs(g.session, current_principal(), query["page"], query["page_size"])
        return page(pairs, total, query)


@blp.route("/merges/<uuid:merge_id>/undo")
class MergeUndo(MethodView):
    @requires(PEOPLE_MERGE)
    @blp.arguments(UndoRequestSchema)
    @blp.response(200, MergeSchema)
    def post(self, data, merge_id: uuid.UUID):
        """Undo a merge: what moved goes back to the duplicate, which becomes a record of its own again."""
        return merge.undo(g.session, current_principal(), merge_id, data["reason"])


@blp.route("/<uuid:person_id>")
class Person(MethodView):
    @requires(PEOPLE_READ)
    @blp.response(200, PersonSchema)
    def get(self, person_id: uuid.UUID):
        """Read a person (another force's id answers 404)."""
        person = service.get(g.session, current_principal(), person_id, sessions=g.sessions)
        return versioned(person, person.version)

    @requires(PEOPLE_WRITE)
    @blp.arguments(PersonUpdateSchema)
    @blp.response(200, PersonSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def patch(self, changes, person_id: uuid.UUID):
        """Change a person's details; needs If-Match with the version you read."""
        expected = required_version()
        person = service.update(g.session, current_principal(), person_id, expected, changes)
        return versioned(person, person.version)


@blp.route("/<uuid:person_id>/research")
class Research(MethodView):
    @requires(PEOPLE_WRITE)
    @blp.arguments(PersonCreateSchema)
    @blp.response(200, PersonSchema)
    def post(self, data, person_id: uuid.UUID):
        """Add newly taken details to an existing person instead of creating a duplicate: blank fields are
        filled, a different name becomes an alias, new identifiers and markers are added."""
        person = service.research(g.session, current_principal(), person_id, data)
        return versioned(person, person.version)


@blp.route("/<uuid:person_id>/merge")
class Merge(MethodView):
    @requires(PEOPLE_MERGE)
    @blp.arguments(MergeRequestSchema)
    @blp.response(201, MergeSchema)
    def post(self, data, person_id: uuid.UUID):
        """Fold this person (a duplicate) into `survivor_id`: links, identifiers, aliases and markers move;
        blank fields of the survivor are filled, none is blanked. Undo with /people/merges/{id}/undo."""
        return merge.merge(g.session, current_principal(), person_id, data["survivor_id"], data["reason"])


@blp.route("/<uuid:person_id>/links")
class PersonLinks(MethodView):
    @requires(PEOPLE_READ)
    @blp.response(200, LinkListSchema)
    def get(self, person_id: uuid.UUID):
        """Every link of a person: events, locations (addresses over time), objects, other people."""
        return {"items": links.of_entity(g.session, current_principal(), "person", person_id, sessions=g.sessions)}
