"""/api/v1/custody: booking in, entries, release, the record with its clock, the suite board."""
from __future__ import annotations

import uuid

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import CUSTODY_READ, CUSTODY_WRITE
from app.custody import service
from app.custody.schemas import (
    BoardSchema,
    BookInSchema,
    CustodyDetailSchema,
    CustodyPageSchema,
    CustodyQuerySchema,
    CustodyRecordSchema,
    EntryCreateSchema,
    EntrySchema,
    ReleaseSchema,
)
from app.http import IDEMPOTENCY_DOC, IF_MATCH_DOC, idempotent, page, required_version, versioned

blp = Blueprint("custody", __name__, url_prefix="/api/v1/custody", description="Custody and the PACE clock")


@blp.route("/records")
class Records(MethodView):
    @requires(CUSTODY_READ)
    @blp.arguments(CustodyQuerySchema, location="query")
    @blp.response(200, CustodyPageSchema)
    def get(self, query):
        """Custody records by custody number, person, suite, open or closed; shared ones where agreements allow."""
        items, total = service.find(g.session, current_principal(), query, sessions=g.sessions)
        return page(items, total, query)

    @requires(CUSTODY_WRITE)
    @idempotent
    @blp.arguments(BookInSchema)
    @blp.response(201, CustodyRecordSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data):
        """Book a detainee in at one of the force's suites; the custody number is allocated here."""
        record = service.book_in(g.session, current_principal(), data)
        return versioned(record, record.version, 201, url_for("custody.Record", record_id=record.id))


@blp.route("/records/<uuid:record_id>")
class Record(MethodView):
    @requires(CUSTODY_READ)
    @blp.response(200, CustodyDetailSchema)
    def get(self, record_id: uuid.UUID):
        """The record, its entries and its clock (relevant time, limit, what is due and overdue)."""
        detail = service.get(g.session, current_principal(), record_id, sessions=g.sessions)
        return versioned(detail, detail["record"].version)


@blp.route("/records/<uuid:record_id>/entries")
class Entries(MethodView):
    @requires(CUSTODY_WRITE)
    @idempotent
    @blp.arguments(EntryCreateSchema)
    @blp.response(201, EntrySchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data, record_id: uuid.UUID):
        """Add an entry (never edited: a correction is a new entry pointing at the one it corrects). The
        timeline is checked against PACE: a breach answers 409 naming the rule."""
        return service.add_entry(g.session, current_principal(), record_id, data), 201


@blp.route("/records/<uuid:record_id>/release")
class Release(MethodView):
    @requires(CUSTODY_WRITE)
    @blp.arguments(ReleaseSchema)
    @blp.response(200, CustodyRecordSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def post(self, data, record_id: uuid.UUID):
        """Record the outcome and the time the detainee left custody; needs If-Match."""
        expected = required_version()
        record = service.release(g.session, current_principal(), record_id, expected, data)
        return versioned(record, record.version)


@blp.route("/suites/<suite>/board")
class Board(MethodView):
    @requires(CUSTODY_READ)
    @blp.response(200, BoardSchema)
    def get(self, suite: str):
        """Every current detainee with cell, time in custody, next review / visit / dose and what is
        overdue, most urgent first."""
        return {"suite": suite, "items": service.board(g.session, current_principal(), suite)}
