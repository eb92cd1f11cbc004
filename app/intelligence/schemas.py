"""What the intelligence API takes and gives; unsanitised material only for those who may see it."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.intelligence.service import STATUSES, conditions_bind_reader, may_see_unsanitised
from app.schemas import Classification, PageQuerySchema, PageSchema, StrictSchema
from app.sharing.schemas import RecordReadSchema

SOURCE = validate.Range(min=1, max=3)
ASSESSMENT = validate.OneOf(("A", "B", "C", "D", "E"))
HANDLING = validate.OneOf(("P", "C"))
TEXT = validate.Length(min=1, max=20000)


class LegacyGradingSchema(StrictSchema):
    """A 5x5x5 grading from a migrated system, kept read-only and shown as legacy."""

    source = fields.String(required=True, validate=validate.OneOf(("A", "B", "C", "D", "E")))
    intelligence = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    handling = fields.Integer(required=True, validate=validate.Range(min=1, max=5))


class ReportSubmitSchema(StrictSchema):
    """A new intelligence report: the unsanitised text and its 3x5x2 grading (source evaluation, intelligence
    assessment, handling code), or a legacy 5x5x5 grading."""

    unsanitised_text = fields.String(required=True, validate=TEXT)
    source_evaluation = fields.Integer(validate=SOURCE,
                                       metadata={"description": "1 reliable, 2 untested, 3 not reliable"})
    intelligence_assessment = fields.String(validate=ASSESSMENT)
    handling_code = fields.String(validate=HANDLING)
    handling_conditions = fields.String(validate=validate.Length(max=4000))
    legacy_grading = fields.Nested(LegacyGradingSchema, metadata={"description": "Only for migrated 5x5x5 reports"})
    sensitive = fields.Boolean(load_default=False)
    complete = fields.Boolean(load_default=True, metadata={"description": "False: keep as a draft to complete"})
    classification = Classification(load_default="OFFICIAL")

    @validates_schema
    def _grading(self, data: dict[str, Any], **_: Any) -> None:
        graded = all(data.get(f) for f in ("source_evaluation", "intelligence_assessment", "handling_code"))
        if data.get("legacy_grading") and any(data.get(f) for f in ("source_evaluation", "intelligence_assessment",
                                                                     "handling_code")):
            raise ValidationError("a legacy 5x5x5 grading stands alone", field_name="legacy_grading")
        if data["complete"] and not graded and not data.get("legacy_grading"):
            raise ValidationError("a complete report needs source_evaluation, intelligence_assessment and "
                                  "handling_code", field_name="source_evaluation")
        if data.get("handling_code") == "C" and not (data.get("handling_conditions") or "").strip():
            raise ValidationError("handling code C needs its conditions written down", field_name="handling_conditions")


class ReportCompleteSchema(StrictSchema):
    unsanitised_text = fields.String(validate=TEXT)
    source_evaluation = fields.Integer(validate=SOURCE)
    intelligence_assessment = fields.String(validate=ASSESSMENT)
    handling_code = fields.String(validate=HANDLING)
    handling_conditions = fields.String(validate=validate.Length(max=4000))


class ReportAssessSchema(StrictSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("accept", "return_for_correction",
                                                                     "return_for_deletion")))
    reason = fields.String(validate=validate.Length(max=2000))
    sanitised_text = fields.String(validate=TEXT)
    sanitised_source_evaluation = fields.Integer(validate=SOURCE)
    sanitised_assessment = fields.String(validate=ASSESSMENT)
    sanitised_handling_code = fields.String(validate=HANDLING)
    mopi_group = fields.Integer(validate=validate.Range(min=1, max=4))
    handling_conditions = fields.String(validate=validate.Length(max=4000), metadata={
        "description": "The conditions of a code C report, shown to every reader (they bind the recipient); "
                       "needed to accept as code C unless the report already carries them"})
    action_codes = fields.List(fields.String(validate=validate.Length(min=1, max=20)), load_default=list)
    sanitisation_codes = fields.List(fields.String(validate=validate.Length(min=1, max=20)), load_default=list)

    @validates_schema
    def _sanitised(self, data: dict[str, Any], **_: Any) -> None:
        if data["decision"] == "accept":
            missing = [f for f in ("sanitised_text", "sanitised_source_evaluation", "sanitised_assessment",
                                   "sanitised_handling_code", "mopi_group") if not data.get(f)]
            if missing:
                raise ValidationError(f"accepting needs the sanitised version and MoPI group: {', '.join(missing)}",
                                      field_name=missing[0])
        elif not (data.get("reason") or "").strip():
            raise ValidationError("returning a report needs the reason", field_name="reason")


class ReportEntitySchema(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(("person", "object", "location", "event")))
    id = fields.UUID(required=True)


class ReportLinksSchema(StrictSchema):
    entities = fields.List(fields.Nested(ReportEntitySchema), load_default=list)
    go_live = fields.Boolean(load_default=False)


class ReportDisseminateSchema(StrictSchema):
    recipients = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                             validate=validate.Length(min=1, max=200))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ReportDeletionSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class ReportSchema(RecordReadSchema):
    """An intelligence report: its sanitised form for dissemination, and the unsanitised material only for those
    whose roles may see it. Another force's is masked by its agreement and read-only."""

    shared_as = "intelligence"

    id = fields.UUID()
    version = fields.Integer()
    status = fields.String()
    sensitive = fields.Boolean()
    unsanitised_text = fields.String()
    source_evaluation = fields.Integer(allow_none=True)
    intelligence_assessment = fields.String(allow_none=True)
    handling_code = fields.String(allow_none=True)
    handling_conditions = fields.String(allow_none=True, metadata={
        "description": "For a code C report, the conditions that bind whoever receives it: shown to every reader"})
    sanitised_text = fields.String(allow_none=True)
    sanitised_source_evaluation = fields.Integer(allow_none=True)
    sanitised_assessment = fields.String(allow_none=True)
    sanitised_handling_code = fields.String(allow_none=True)
    mopi_group = fields.Integer(allow_none=True)
    action_codes = fields.List(fields.String())
    sanitisation_codes = fields.List(fields.String())
    legacy_grading = fields.Function(lambda r: {**r.legacy_grading, "legacy": "5x5x5, read-only"}
                                     if r.legacy_grading else None)
    next_review_on = fields.Date(allow_none=True)
    review_overdue = fields.Function(lambda r: bool(r.next_review_on and r.next_review_on < date.today()),
                                     metadata={"description": "A code C review is past due"})
    deletion_requested_by = fields.String(allow_none=True)
    classification = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()
    unsanitised = fields.String(dump_only=True, validate=validate.OneOf(("withheld",)), metadata={
        "description": "\"withheld\" when your roles may not see the unsanitised material: its text and grading "
                       "are then left out"})

    def shape(self, data: dict[str, Any], original: Any) -> dict[str, Any]:
        """Unsanitised material only for those who may see it; code C conditions for every reader."""
        if not may_see_unsanitised(g.principal, original):
            for field in ("unsanitised_text", "source_evaluation", "intelligence_assessment", "handling_code"):
                data.pop(field, None)
            if not conditions_bind_reader(original):
                data.pop("handling_conditions", None)
            data["unsanitised"] = "withheld"
        return data


class ReportQuerySchema(PageQuerySchema):
    """Filters of the reports list; each given narrows it."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    handling_code = fields.String(validate=HANDLING, metadata={
        "description": "The sanitised handling code (before assessment, for those who may see unsanitised "
                       "material, the one submitted)"})
    person_id = fields.UUID(metadata={
        "description": "A subject: a person the report is linked to (another force's: where its links are shared)"})


class ReportPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReportSchema), required=True)


class DisseminationSchema(Schema):
    id = fields.UUID()
    report_id = fields.UUID()
    recipients = fields.List(fields.String())
    note = fields.String()
    disseminated_by = fields.String()
    disseminated_at = fields.DateTime()
