"""/api/v1/cases: build a case file, complete it, check readiness, submit, record court results."""
from __future__ import annotations

import uuid

from flask import Response, g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.auth.guard import current_principal, requires
from app.auth.permissions import INVESTIGATIONS_READ, INVESTIGATIONS_WRITE
from app.cases import bundle, service
from app.documents import storage
from app.http import IF_MATCH_DOC, page, required_version, versioned
from app.schemas import PageQuerySchema, PageSchema, StrictSchema
from app.sharing.schemas import RecordReadSchema

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Case files for prosecution")


class CaseCreateSchema(StrictSchema):
    """A case file to open for an investigation: its MG forms are drafted from the investigation."""

    investigation_id = fields.UUID(required=True)


class CaseUpdateSchema(StrictSchema):
    anticipated_plea = fields.String(validate=validate.OneOf(("GAP", "NGAP")))
    forms = fields.Dict(keys=fields.String(validate=validate.OneOf(service.FORMS)), values=fields.Dict(),
                        metadata={"description": "Form sections to set, e.g. {\"MG5\": {\"summary\": \"...\"}}"})


class CaseSchema(RecordReadSchema):
    """A case file; another force's is masked by its agreement's field profile and read-only."""

    shared_as = "case"

    id = fields.UUID()
    version = fields.Integer()
    investigation_id = fields.UUID()
    anticipated_plea = fields.String(allow_none=True)
    forms = fields.Dict()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CaseQuerySchema(PageQuerySchema):
    """Filters of the case files list; each given narrows it."""

    urn = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "The URN on its MG1"})
    reference = fields.String(validate=validate.Length(min=1, max=40),
                              metadata={"description": "The crime reference of its investigation (another force's: "
                                                       "where the investigation is shared too)"})
    status = fields.String(validate=validate.OneOf(service.STATUSES), metadata={
        "description": "building (neither submitted nor resulted), submitted, resulted (a court result recorded): "
                       "your force's files only, since another force's submissions stay with it"})
    investigation_id = fields.UUID()


class CasePageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSchema), required=True)


class StageQuerySchema(StrictSchema):
    stage = fields.String(required=True, validate=validate.OneOf(service.STAGES))


class ReadinessSchema(Schema):
    stage = fields.String()
    ready = fields.Boolean()
    plea = fields.String(allow_none=True)
    case_version = fields.Integer()
    missing = fields.List(fields.Dict(), metadata={"description": "item, form, field, label, severity, blocks; "
                                                                  "rows: for a column of a list (e.g. "
                                                                  "MG4.charges.cjs_code), the rows lacking it"})


class SubmissionSchema(Schema):
    id = fields.UUID()
    case_id = fields.UUID()
    case_version = fields.Integer()
    stage = fields.String()
    bundle_sha256 = fields.String()
    submitted_at = fields.DateTime()
    submitted_by = fields.String()


class SubmissionListSchema(Schema):
    items = fields.List(fields.Nested(SubmissionSchema), required=True)


class BundleUrlSchema(Schema):
    url = fields.String(metadata={"description": "Valid for five minutes (S3); for the filesystem, the streaming URL"})
    expires_in = fields.Integer()


class ResultSchema(StrictSchema):
    """A court result on one MG4 charge (its charge_id); an adjournment alone may be for the defendant's whole
    case (without a charge_id)."""

    person_id = fields.UUID(required=True)
    charge_id = fields.String(validate=validate.Length(min=1, max=100),
                              metadata={"description": "The charge_id of a charge on the MG4: required but for an "
                                                       "adjournment of the defendant's whole case"})
    plea = fields.String(validate=validate.OneOf(("guilty", "not_guilty", "none")))
    next_hearing = fields.Date(metadata={"description": "The next hearing of an adjournment (required then)"})
    result = fields.String(required=True, validate=validate.OneOf(("guilty", "not_guilty", "dismissed", "withdrawn",
                                                                   "adjourned")))
    sentence = fields.String(validate=validate.Length(max=1000))
    decided_on = fields.Date(required=True)


class CourtResultSchema(Schema):
    id = fields.UUID()
    person_id = fields.UUID()
    charge_id = fields.String(allow_none=True)
    plea = fields.String(allow_none=True)
    next_hearing = fields.Date(allow_none=True)
    result = fields.String()
    sentence = fields.String(allow_none=True)
    decided_on = fields.Date()


@blp.route("")
class Cases(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.arguments(CaseQuerySchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, query):
        """Case files by URN, crime reference, status and investigation, newest first, paged; another force's
        where agreements allow."""
        items, total = service.find(g.session, current_principal(), **query, sessions=g.sessions)
        return page(items, total, query)

    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(CaseCreateSchema)
    @blp.response(201, CaseSchema)
    def post(self, data):
        """Build the case file of an investigation: MG1 to MG12 pre-filled from what Concord holds."""
        case = service.build(g.session, current_principal(), data["investigation_id"])
        return versioned(case, case.version, 201, url_for("cases.Case", case_id=case.id))


@blp.route("/<uuid:case_id>")
class Case(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.response(200, CaseSchema)
    def get(self, case_id: uuid.UUID):
        """The case file and its forms."""
        case = service.get(g.session, current_principal(), case_id, sessions=g.sessions)
        return versioned(case, case.version)

    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(CaseUpdateSchema)
    @blp.response(200, CaseSchema)
    @blp.doc(parameters=[IF_MATCH_DOC])
    def patch(self, data, case_id: uuid.UUID):
        """Set the plea and what only the officer knows; a new version of the file."""
        case = service.update(g.session, current_principal(), case_id, required_version(), data)
        return versioned(case, case.version)


@blp.route("/<uuid:case_id>/readiness")
class Readiness(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.arguments(StageQuerySchema, location="query")
    @blp.response(200, ReadinessSchema)
    def get(self, query, case_id: uuid.UUID):
        """What the stage still needs, with severity and whether it blocks (nothing immaterial blocks)."""
        return service.check(g.session, current_principal(), case_id, query["stage"], sessions=g.sessions)


@blp.route("/<uuid:case_id>/submissions")
class Submissions(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(StageQuerySchema)
    @blp.response(201, SubmissionSchema)
    def post(self, data, case_id: uuid.UUID):
        """Submit for a stage: the bundle (JSON, PDF of the MG forms, documents) goes to object storage and
        this version is frozen."""
        return service.submit(g.session, current_principal(), storage.of_acting_force(), case_id, data["stage"]), 201


    @requires(INVESTIGATIONS_READ)
    @blp.response(200, SubmissionListSchema)
    def get(self, case_id: uuid.UUID):
        """Your force's submissions of the case file, newest first (another force's case: not found)."""
        return {"items": bundle.find(g.session, current_principal(), case_id)}


@blp.route("/<uuid:case_id>/submissions/<uuid:submission_id>")
class SubmissionItem(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.response(200, SubmissionSchema)
    def get(self, case_id: uuid.UUID, submission_id: uuid.UUID):
        """One submission: the version and stage it froze and its bundle's SHA-256."""
        return bundle.get(g.session, current_principal(), case_id, submission_id)


@blp.route("/<uuid:case_id>/submissions/<uuid:submission_id>/bundle")
class Bundle(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.response(200, content_type="application/zip")
    def get(self, case_id: uuid.UUID, submission_id: uuid.UUID):
        """The bundle as sent (zip: case.json, mg-forms.pdf, documents/), streamed; audited as a disclosure."""
        submission, data = bundle.content(g.session, current_principal(), storage.of_force, case_id, submission_id)
        return Response(data, mimetype="application/zip", headers={
            "Content-Disposition": storage.attachment(bundle.filename(submission)),
            "ETag": f'"{submission.bundle_sha256}"'})


@blp.route("/<uuid:case_id>/submissions/<uuid:submission_id>/bundle-url")
class BundleUrl(MethodView):
    @requires(INVESTIGATIONS_READ)
    @blp.response(200, BundleUrlSchema)
    def get(self, case_id: uuid.UUID, submission_id: uuid.UUID):
        """A short-lived URL straight to the bundle in storage (S3); audited as a disclosure."""
        submission, url = bundle.download_url(g.session, current_principal(), storage.of_force, case_id,
                                              submission_id)
        return {"url": url or url_for("cases.Bundle", case_id=case_id, submission_id=submission.id),
                "expires_in": bundle.URL_SECONDS if url else 0}


@blp.route("/<uuid:case_id>/results")
class Results(MethodView):
    @requires(INVESTIGATIONS_WRITE)
    @blp.arguments(ResultSchema)
    @blp.response(201, CourtResultSchema)
    def post(self, data, case_id: uuid.UUID):
        """A court result, recorded onto the case and onto the crime."""
        return service.record_result(g.session, current_principal(), case_id, data), 201
