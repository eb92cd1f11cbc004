"""/api/v1/intelligence: submit, complete, assess, link, disseminate, interest, deletion."""
from __future__ import annotations

import uuid

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.guard import current_principal, requires
from app.auth.permissions import INTELLIGENCE_READ, INTELLIGENCE_UNSANITISED, INTELLIGENCE_WRITE, PEOPLE_READ
from app.http import IDEMPOTENCY_DOC, idempotent, page, versioned
from app.intelligence import service
from app.intelligence.schemas import (
    DisseminationSchema,
    ReportAssessSchema,
    ReportCompleteSchema,
    ReportDeletionSchema,
    ReportDisseminateSchema,
    ReportLinksSchema,
    ReportPageSchema,
    ReportQuerySchema,
    ReportSchema,
    ReportSubmitSchema,
)

blp = Blueprint("intelligence", __name__, url_prefix="/api/v1/intelligence", description="Intelligence (3x5x2)")


def _report(report):
    return versioned(report, report.version)


@blp.route("/reports")
class Reports(MethodView):
    @requires(INTELLIGENCE_READ)
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ReportPageSchema)
    def get(self, query):
        """Reports by status, handling code and subject, newest first, paged; unsanitised material only for those
        who may see it, and another force's live, sanitised, code P reports where agreements allow."""
        items, total = service.find(g.session, current_principal(), **query, sessions=g.sessions)
        return page(items, total, query)

    @requires(INTELLIGENCE_WRITE)
    @idempotent
    @blp.arguments(ReportSubmitSchema)
    @blp.response(201, ReportSchema)
    @blp.doc(parameters=[IDEMPOTENCY_DOC])
    def post(self, data):
        """Submit a report with its unsanitised text and 3x5x2 grading (or a legacy 5x5x5 grading)."""
        report = service.submit(g.session, current_principal(), data)
        return versioned(report, report.version, 201, url_for("intelligence.Report", report_id=report.id))


@blp.route("/reports/<uuid:report_id>")
class Report(MethodView):
    @requires(INTELLIGENCE_READ)
    @blp.response(200, ReportSchema)
    def get(self, report_id: uuid.UUID):
        """A report: unsanitised material only for those with the permission to see it."""
        return _report(service.get(g.session, current_principal(), report_id, sessions=g.sessions))


@blp.route("/reports/<uuid:report_id>/complete")
class Complete(MethodView):
    @requires(INTELLIGENCE_WRITE)
    @blp.arguments(ReportCompleteSchema)
    @blp.response(200, ReportSchema)
    def post(self, data, report_id: uuid.UUID):
        """The author completes or corrects the report and sends it for assessment."""
        return _report(service.complete(g.session, current_principal(), report_id, data))


@blp.route("/reports/<uuid:report_id>/assess")
class Assess(MethodView):
    @requires(INTELLIGENCE_UNSANITISED)
    @blp.arguments(ReportAssessSchema)
    @blp.response(200, ReportSchema)
    def post(self, data, report_id: uuid.UUID):
        """Accept with the sanitised text and grading and the MoPI group, or return for correction or deletion."""
        return _report(service.assess(g.session, current_principal(), report_id, data))


@blp.route("/reports/<uuid:report_id>/links")
class Links(MethodView):
    @requires(INTELLIGENCE_UNSANITISED)
    @blp.arguments(ReportLinksSchema)
    @blp.response(200, ReportSchema)
    def post(self, data, report_id: uuid.UUID):
        """Link to people, objects, locations and events; go_live makes it live and tells the interested."""
        return _report(service.link(g.session, current_principal(), report_id, data["entities"], data["go_live"]))


@blp.route("/reports/<uuid:report_id>/disseminations")
class Disseminations(MethodView):
    @requires(INTELLIGENCE_READ)
    @blp.arguments(ReportDisseminateSchema)
    @blp.response(201, DisseminationSchema)
    def post(self, data, report_id: uuid.UUID):
        """Disseminate the sanitised version within the force; the recipients are recorded."""
        return service.disseminate(g.session, current_principal(), report_id, data["recipients"], data["note"]), 201


@blp.route("/reports/<uuid:report_id>/deletion")
class Deletion(MethodView):
    @requires(INTELLIGENCE_WRITE)
    @blp.arguments(ReportDeletionSchema)
    @blp.response(200, ReportSchema)
    def post(self, data, report_id: uuid.UUID):
        """Request deletion; another person authorises it."""
        return _report(service.request_deletion(g.session, current_principal(), report_id, data["reason"]))


@blp.route("/reports/<uuid:report_id>/deletion/authorise")
class AuthoriseDeletion(MethodView):
    @requires(INTELLIGENCE_UNSANITISED)
    @blp.response(200, ReportSchema)
    def post(self, report_id: uuid.UUID):
        """Authorise a deletion someone else requested."""
        return _report(service.authorise_deletion(g.session, current_principal(), report_id))


@blp.route("/interests/<uuid:person_id>")
class Interest(MethodView):
    @requires(PEOPLE_READ)
    @blp.response(204)
    def put(self, person_id: uuid.UUID):
        """Register interest in a person: a task when a report about them goes live."""
        service.register_interest(g.session, current_principal(), person_id)
