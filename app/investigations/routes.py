"""/api/v1/investigations: record, move along the status flow, log, actions, people, finalise."""
from __future__ import annotations

import uuid

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import INVESTIGATIONS_READ, INVESTIGATIONS_WRITE
from app.http import IDEMPOTENCY_DOC, IF_MATCH_DOC, idempotent, page, required_version, versioned
from app.investigations import service, victims
from app.investigations.schemas import (
    AllocateSchema,
    ContactedSchema,
    DevelopmentSchema,
    FinaliseSchema,
    InvestigationDetailSchema,
    InvestigationEntryCreateSchema,
    InvestigationEntrySchema,
    InvestigationPageSchema,
    InvestigationPersonSchema,
    InvestigationQuerySchema,
    InvestigationReasonSchema,
    InvestigationRecordSchema,
    InvestigationRoleEndSchema,
    InvestigationSchema,
    OverdueListSchema,
    OverdueQuerySchema,
    VictimContactListSchema,
    VictimContactSchema,
    VictimPreferenceSchema,
)

blp = Blueprint("investigations", __name__, url_prefix="/api/v1/investigations",
                description="Crimes and non-crime incidents")


def _with_etag(investigation):
    return versioned(investigation, investigation.version)


@blp.route("")
class Investigations(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.arguments(InvestigationQuerySchema, location="query")
    @blp.response(200, InvestigationPageSchema)
    def get(self, query):
        """Investigations by reference, status, kind, officer in charge, offence, person and date recorded; newest
        first, paged, shared ones where agreements allow."""
        items, total = service.find(g.session, current_principal(), **query, sessions=g.sessions)
        return page(items, total, query)

    @requires(INVESTIGATIONS_WRITE)
    @idempotent
    @blp.arguments(InvestigationRecordSchema)
    @blp.response(201, InvestigationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data):
        """Record a crime or non-crime incident with the people in their roles; the reference is allocated
        here, without gaps."""
        investigation = service.record(g.session, current_principal(), data)
        return versioned(investigation, investigation.version, 201,
                         url_for("investigations.Investigation", investigation_id=investigation.id))


@blp.route("/<uuid:investigation_id>")
class Investigation(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.response(200, InvestigationDetailSchema)
    def get(self, investigation_id: uuid.UUID):
        """The investigation, its people, log, and open actions."""
        detail = service.get(g.session, current_principal(), investigation_id, sessions=g.sessions)
        return versioned(detail, detail.investigation.version)


@blp.route("/<uuid:investigation_id>/qa")
class Qa(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(InvestigationReasonSchema)
    @blp.response(200, InvestigationSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def post(self, data, investigation_id: uuid.UUID):
        """Recorded → QA."""
        return _with_etag(service.move(g.session, current_principal(), investigation_id, "qa",
                                       required_version(), data))


@blp.route("/<uuid:investigation_id>/allocate")
class Allocate(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(AllocateSchema)
    @blp.response(200, InvestigationSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def post(self, data, investigation_id: uuid.UUID):
        """QA → allocated to an officer in charge."""
        return _with_etag(service.move(g.session, current_principal(), investigation_id, "allocate",
                                       required_version(), data))


@blp.route("/<uuid:investigation_id>/acknowledge")
class Acknowledge(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(InvestigationReasonSchema)
    @blp.response(200, InvestigationSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def post(self, data, investigation_id: uuid.UUID):
        """Allocated → under investigation, by the officer in charge."""
        return _with_etag(service.move(g.session, current_principal(), investigation_id, "acknowledge",
                                       required_version(), data))


@blp.route("/<uuid:investigation_id>/finalise")
class Finalise(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(FinaliseSchema)
    @blp.response(200, InvestigationSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def post(self, data, investigation_id: uuid.UUID):
        """Finalise with a Home Office outcome type that fits the facts (409 names the rule otherwise)."""
        return _with_etag(service.move(g.session, current_principal(), investigation_id, "finalise",
                                       required_version(), data))


@blp.route("/<uuid:investigation_id>/entries")
class Entries(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(InvestigationEntryCreateSchema)
    @blp.response(201, InvestigationEntrySchema)
    def post(self, data, investigation_id: uuid.UUID):
        """A log entry, an action (assignee, due date), an action done, or a charge or summons of a suspect."""
        return service.add_entry(g.session, current_principal(), investigation_id, data), 201


@blp.route("/<uuid:investigation_id>/people")
class People(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(InvestigationPersonSchema)
    @blp.response(200, InvestigationSchema)
    def post(self, data, investigation_id: uuid.UUID):
        """Link a person in a role (suspect, victim, witness, reporting person)."""
        return _with_etag(service.add_person(g.session, current_principal(), investigation_id=investigation_id,
                                             **data))


@blp.route("/<uuid:investigation_id>/people/<uuid:person_id>/end")
class PersonRoleEnd(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(InvestigationRoleEndSchema)
    @blp.response(200, InvestigationSchema)
    def post(self, data, investigation_id: uuid.UUID, person_id: uuid.UUID):
        """End a person's role (a suspect eliminated, a link made in error), with the reason: nothing is deleted, the
        link is ended today and the reason logged, and they no longer count in the role (404 if they do not hold it
        now, 409 once finalised or for a suspect charged)."""
        return _with_etag(service.end_role(g.session, current_principal(), investigation_id=investigation_id,
                                           person_id=person_id, **data))


@blp.route("/<uuid:investigation_id>/victims/<uuid:person_id>/preferences")
class VictimPreferences(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(VictimPreferenceSchema)
    @blp.response(204)
    def put(self, data, investigation_id: uuid.UUID, person_id: uuid.UUID):
        """A victim's choices: enhanced rights, how to be contacted, every development or outcomes only."""
        victims.set_preferences(g.session, current_principal(), investigation_id, person_id, data)


@blp.route("/<uuid:investigation_id>/victims-code")
class VictimsCode(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.response(200, VictimContactListSchema)
    def get(self, investigation_id: uuid.UUID):
        """The investigation's Victims' Code obligations, met or not."""
        return {"items": victims.contacts_of(g.session, current_principal(), investigation_id)}

    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(DevelopmentSchema)
    @blp.response(201, VictimContactListSchema)
    def post(self, data, investigation_id: uuid.UUID):
        """A development the victims must hear of (arrest, interview, bail or RUI, NFA, decision not to
        investigate, charge): one obligation per victim, due in 5 working days (1 under enhanced rights)."""
        contacts = victims.record_development(g.session, current_principal(), investigation_id, data["trigger"],
                                              data["at"])
        return {"items": contacts}, 201


@blp.route("/<uuid:investigation_id>/victims-code/<uuid:contact_id>/contacted")
class Contacted(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(ContactedSchema)
    @blp.response(200, VictimContactSchema)
    def post(self, data, investigation_id: uuid.UUID, contact_id: uuid.UUID):
        """The victim was told."""
        return victims.contacted(g.session, current_principal(), investigation_id, contact_id, data)


@blp.route("/victims-code/overdue")
class Overdue(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.arguments(OverdueQuerySchema, location="query")
    @blp.response(200, OverdueListSchema)
    def get(self, query):
        """Victims' Code obligations past due and not met, for an officer in charge (you, by default)."""
        principal = current_principal()
        return {"items": victims.overdue(g.session, principal, query.get("officer_in_charge") or principal.user_id)}
