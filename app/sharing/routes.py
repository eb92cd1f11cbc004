"""/api/v1/sharing: collaborations, agreements and their lifecycle, explain, simulate, the access log."""
from __future__ import annotations

import uuid

from flask import current_app, g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import AUDIT_READ, PEOPLE_READ, SHARING_ADMIN
from app.errors import InvalidInput
from app.http import page
from app.sharing import agreements, visibility
from app.sharing.schemas import (
    AccessPageSchema,
    AccessQuerySchema,
    AgreementCreateSchema,
    AgreementDetailSchema,
    AgreementListSchema,
    AgreementSchema,
    CollaborationListSchema,
    ExplainQuerySchema,
    ExplainSchema,
    SimulationSchema,
    TermsSchema,
    TransitionSchema,
)

blp = Blueprint("sharing", __name__, url_prefix="/api/v1/sharing", description="Sharing between forces")


def _actor() -> agreements.Actor:
    return agreements.Actor(current_principal(), current_app.extensions["concord"].registry)


@blp.route("/collaborations")
class Collaborations(MethodView):
    @requires(PEOPLE_READ)
    @blp.response(200, CollaborationListSchema)
    @blp.doc(**{"x-purpose": False})  # lists collaborations, not records
    def get(self):
        """The collaborations, their member forces and administrators."""
        return {"items": sorted(current_app.extensions["concord"].registry.collaborations(), key=lambda c: c.slug)}


@blp.route("/agreements")
class Agreements(MethodView):
    @requires(SHARING_ADMIN)
    @blp.response(200, AgreementListSchema)
    def get(self):
        """The agreements your force provides, receives, or administers as a collaboration."""
        return {"items": agreements.find(g.sessions.home())}

    @requires(SHARING_ADMIN)
    @blp.arguments(AgreementCreateSchema)
    @blp.response(201, AgreementSchema)
    def post(self, data):
        """Propose sharing your force's records (as its force_admin) with a force or a collaboration."""
        agreement = agreements.propose(g.sessions, _actor(), data)
        return agreement, 201, {"Location": url_for("sharing.Agreement", agreement_id=agreement.id)}


@blp.route("/agreements/<uuid:agreement_id>")
class Agreement(MethodView):
    @requires(SHARING_ADMIN)
    @blp.response(200, AgreementDetailSchema)
    def get(self, agreement_id: uuid.UUID):
        """An agreement with its history: every version, approval and transition, by whom and why."""
        return agreements.get(g.sessions.home(), agreement_id)


@blp.route("/agreements/<uuid:agreement_id>/terms")
class Terms(MethodView):
    @requires(SHARING_ADMIN)
    @blp.arguments(TermsSchema)
    @blp.response(200, AgreementSchema)
    def put(self, data, agreement_id: uuid.UUID):
        """Change the terms: a new version, proposed again (sharing stops until it is approved)."""
        return agreements.change_terms(g.sessions, _actor(), agreement_id, data)


@blp.route("/agreements/<uuid:agreement_id>/<any(approve, suspend, reinstate, revoke):action>")
class Transition(MethodView):
    @requires(SHARING_ADMIN)
    @blp.arguments(TransitionSchema)
    @blp.response(200, AgreementSchema)
    def post(self, data, agreement_id: uuid.UUID, action: str):
        """approve (provider's force_admin; and a collaboration administrator for a collaboration-wide
        agreement), suspend, reinstate or revoke (provider's force_admin). Applies from the next request."""
        return agreements.transition(g.sessions, _actor(), agreement_id, action, data["reason"])


@blp.route("/agreements/<uuid:agreement_id>/simulate")
class Simulate(MethodView):
    @requires(SHARING_ADMIN)
    @blp.response(200, SimulationSchema)
    def post(self, agreement_id: uuid.UUID):
        """How many records of each type the consumers would gain under these terms."""
        return {"would_gain": agreements.simulate(g.sessions, _actor(), agreement_id)}


@blp.route("/explain")
class Explain(MethodView):
    @requires(PEOPLE_READ)
    @blp.arguments(ExplainQuerySchema, location="query")
    @blp.response(200, ExplainSchema)
    def get(self, query):
        """For your record: which forces can see it and under which agreement; for a shared record: why
        you can see it (state a purpose with X-Purpose to see shared records at all)."""
        return agreements.explain(g.session, current_principal(), current_app.extensions["concord"].registry,
                               query["record_type"], query["record_id"], sessions=g.sessions)


@blp.route("/access-log")
class AccessLog(MethodView):
    @requires(AUDIT_READ)
    @blp.arguments(AccessQuerySchema, location="query")
    @blp.response(200, AccessPageSchema)
    def get(self, query):
        """Every access by other forces to your force's records: who, from which force, why, when."""
        force = None
        if query.get("force"):
            tenant = current_app.extensions["concord"].registry.by_slug(query["force"])
            if tenant is None:
                raise InvalidInput.field("force", "no such force")
            force = tenant.id
        access_query = visibility.AccessQuery(force=force, user=query.get("user"), record_id=query.get("record_id"),
                                           from_=query.get("from_"), to=query.get("to"), page=query["page"],
                                           page_size=query["page_size"])
        items, total = visibility.access_log(g.session, current_principal(), access_query)
        return page(items, total, query)
