"""/api/v1/retention: the review queue, review decisions, restriction, and two-person disposal lists."""
from __future__ import annotations

import uuid

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import RETENTION_APPROVE, RETENTION_RESTRICTED, RETENTION_REVIEW
from app.documents import storage
from app.http import page
from app.retention import disposal, service
from app.retention.schemas import (
    ApprovalSchema,
    DecisionSchema,
    DisposalListSchema,
    DuePageSchema,
    ExecutionSchema,
    ProposalSchema,
    RestrictedSchema,
    RestrictionSchema,
    ReviewQuerySchema,
    ReviewSchema,
)

blp = Blueprint("retention", __name__, url_prefix="/api/v1/retention",
                description="Retention review and disposal (PIRM Code of Practice 2023)")


def _with_items(disposal_list, items):
    return {**{c: getattr(disposal_list, c) for c in DisposalListSchema().fields if c != "items"}, "items": items}


@blp.route("/reviews")
class Reviews(MethodView):
    @requires(RETENTION_REVIEW)
    @blp.arguments(ReviewQuerySchema, location="query")
    @blp.response(200, DuePageSchema)
    def get(self, query):
        """The review queue: your force's records due or overdue for review, oldest first, by group."""
        items, total = service.queue(g.session, current_principal(), group=query.get("group"), page=query["page"],
                                     page_size=query["page_size"])
        return page(items, total, query)

    @requires(RETENTION_REVIEW)
    @blp.arguments(DecisionSchema)
    @blp.response(201, ReviewSchema)
    def post(self, data):
        """Record a review decision: retain (criteria, rationale, next review date) or dispose."""
        return service.decide(g.session, current_principal(), data=data)


@blp.route("/restrictions/<string:record_type>/<uuid:record_id>")
class Restriction(MethodView):
    @requires(RETENTION_RESTRICTED)
    @blp.arguments(RestrictionSchema)
    @blp.response(200, RestrictedSchema)
    def put(self, data, record_type: str, record_id: uuid.UUID):
        """Restrict a record instead of erasing it (DPA 2018 s.47(2)), or lift the restriction."""
        return service.restrict(g.session, current_principal(), record_type=record_type, record_id=record_id,
                                restricted=data["restricted"])


@blp.route("/disposal-lists")
class DisposalLists(MethodView):
    @requires(RETENTION_REVIEW)
    @blp.arguments(ProposalSchema)
    @blp.response(201, DisposalListSchema)
    def post(self, data):
        """Propose a disposal list of records whose review decided disposal; a second user approves it."""
        proposed = service.propose(g.session, current_principal(), items=data["items"])
        return _with_items(*service.get_list(g.session, current_principal(), list_id=proposed.id))


@blp.route("/disposal-lists/<uuid:list_id>")
class DisposalListView(MethodView):
    @requires(RETENTION_REVIEW)
    @blp.response(200, DisposalListSchema)
    def get(self, list_id: uuid.UUID):
        """A disposal list, its items and its items_hash (what an approval names)."""
        return _with_items(*service.get_list(g.session, current_principal(), list_id=list_id))


@blp.route("/disposal-lists/<uuid:list_id>/approval")
class Approval(MethodView):
    @requires(RETENTION_APPROVE)
    @blp.arguments(ApprovalSchema)
    @blp.response(200, DisposalListSchema)
    def post(self, data, list_id: uuid.UUID):
        """Approve a list as you reviewed it (its items_hash); the proposer cannot approve their own."""
        service.approve(g.session, current_principal(), list_id=list_id, seen_hash=data["items_hash"])
        return _with_items(*service.get_list(g.session, current_principal(), list_id=list_id))


@blp.route("/disposal-lists/<uuid:list_id>/execution")
class Execution(MethodView):
    @requires(RETENTION_REVIEW)
    @blp.response(200, ExecutionSchema)
    def post(self, list_id: uuid.UUID):
        """Dispose of every record of an approved list, exactly as approved, one transaction per record."""
        outcomes = disposal.execute(g.session, current_principal(), storage.of_acting_force(), list_id=list_id)
        return {"list": _with_items(*service.get_list(g.session, current_principal(), list_id=list_id)),
                "outcomes": outcomes}
