"""What the investigations API takes and gives."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.investigations.people import ROLES
from app.investigations.service import STATUSES
from app.investigations.victims_code import TRIGGERS
from app.schemas import (
    AwareDateTime,
    Classification,
    Normalised,
    PageQuerySchema,
    PageSchema,
    StrictSchema,
    not_future_moment,
)
from app.sharing.schemas import RecordReadSchema

HO_CODE = validate.Regexp(r"^\d{1,3}/\d{1,2}$", error="a Home Office code such as 46/1")


class InvestigationPersonSchema(StrictSchema):
    person_id = fields.UUID(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class InvestigationRoleEndSchema(StrictSchema):
    """The role a person no longer holds on the investigation, and why: their link is kept, ended today, and the
    reason logged."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    reason = Normalised(str.strip, required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "Why the role ends, as the log will say", "example": "eliminated: alibi confirmed"})


class FormerPersonSchema(Schema):
    """A role someone held on the investigation that has ended: no longer counted anywhere, kept as its history."""

    role = fields.String()
    person_id = fields.UUID()
    surname = fields.String()
    forenames = fields.String()
    linked_at = fields.DateTime(metadata={"description": "When they were linked in the role"})
    ended_on = fields.Date(metadata={"description": "The day the role ended (the link's valid_to)"})
    reason = fields.String(allow_none=True, metadata={
        "description": "Why, as logged (none when the link was ended through the links API)"})
    ended_by = fields.String()


class InvestigationRecordSchema(StrictSchema):
    """A crime (or non-crime incident) to record: its Home Office classification, when it happened, what happened
    and the people involved; the crime reference is allocated by Concord."""

    kind = fields.String(load_default="crime", validate=validate.OneOf(("crime", "non_crime")))
    primary_classification = fields.String(required=True, validate=HO_CODE,
                                           metadata={"description": "Home Office Counting Rules code"})
    included_classifications = fields.List(fields.String(validate=HO_CODE), load_default=list)
    occurred_at = AwareDateTime(required=True, validate=not_future_moment)
    location_id = fields.UUID(allow_none=True, load_default=None)
    summary = fields.String(required=True, validate=validate.Length(min=3, max=4000))
    classification = Classification(load_default="OFFICIAL")
    people = fields.List(fields.Nested(InvestigationPersonSchema), load_default=list,
                         metadata={"description": "People in their roles, linked to the investigation's event"})


class AllocateSchema(StrictSchema):
    officer_in_charge = fields.String(required=True, validate=validate.Length(min=1, max=200))


class InvestigationReasonSchema(StrictSchema):
    reason = fields.String(validate=validate.Length(max=1000))


class FinaliseSchema(StrictSchema):
    outcome_type = fields.Integer(required=True, validate=validate.Range(min=1, max=22),
                                  metadata={"description": "Home Office outcome type 1-22"})
    reason = fields.String(validate=validate.Length(max=1000))


class InvestigationEntryCreateSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(("log", "action", "action_done", "charge",
                                                                  "summons")))
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    assignee = fields.String(validate=validate.Length(min=1, max=200))
    due_on = fields.Date()
    refers_to = fields.UUID(metadata={"description": "For action_done: the action"})
    person_id = fields.UUID(metadata={"description": "For a charge or summons: the suspect"})


class InvestigationEntrySchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    text = fields.String()
    assignee = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)
    refers_to = fields.UUID(allow_none=True)
    person_id = fields.UUID(allow_none=True)
    occurred_at = fields.DateTime()
    recorded_by = fields.String()


class InvestigationSchema(RecordReadSchema):
    """A recorded crime or incident: its reference, classification, status, officer in charge and outcome. Another
    force's is masked by its agreement and read-only."""

    shared_as = "investigation"

    id = fields.UUID()
    version = fields.Integer()
    reference = fields.String(metadata={"description": "The crime reference number"})
    kind = fields.String()
    event_id = fields.UUID()
    primary_classification = fields.String()
    included_classifications = fields.List(fields.String())
    summary = fields.String()
    status = fields.String()
    officer_in_charge = fields.String(allow_none=True)
    allocated_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    outcome_type = fields.Integer(allow_none=True)
    outcome_reason = fields.String(allow_none=True)
    finalised_at = fields.DateTime(allow_none=True)
    classification = fields.String()
    created_at = fields.DateTime(metadata={"description": "When it was recorded"})


class InvestigationDetailSchema(RecordReadSchema):
    """An investigation with its people and entries; another force's is masked by its agreement, read-only."""

    shared_as = "investigation"
    wraps = "investigation"

    investigation = fields.Nested(InvestigationSchema)
    people = fields.List(fields.Dict(), metadata={"description": "Who holds each role now"})
    entries = fields.List(fields.Nested(InvestigationEntrySchema))
    open_actions = fields.List(fields.Nested(InvestigationEntrySchema))
    former_people = fields.List(fields.Nested(FormerPersonSchema), metadata={
        "description": "Roles that have ended, most recent first (your force's investigations only)"})


class InvestigationQuerySchema(PageQuerySchema):
    """Filters of the investigations list; each given narrows it (a field another force masks leaves that force's
    investigations out)."""

    reference = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "The crime reference"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(("crime", "non_crime")))
    officer_in_charge = fields.String(validate=validate.Length(min=1, max=200))
    offence = fields.String(validate=HO_CODE, metadata={"description": "Home Office code, primary or included"})
    person_id = fields.UUID(metadata={
        "description": "A person in a role on the investigation now, not one whose role has ended (another force's: "
                       "where its links are shared)"})
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"description": "With person_id: in this role"})
    recorded_from = AwareDateTime(metadata={"description": "Recorded at or after (ISO 8601 with offset)"})
    recorded_to = AwareDateTime(metadata={"description": "Recorded before (ISO 8601 with offset)"})

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("role") and not data.get("person_id"):
            raise ValidationError("role narrows person_id: give person_id too", field_name="role")
        if data.get("recorded_from") and data.get("recorded_to") and data["recorded_from"] >= data["recorded_to"]:
            raise ValidationError("must be after recorded_from", field_name="recorded_to")


class InvestigationPageSchema(PageSchema):
    items = fields.List(fields.Nested(InvestigationSchema), required=True)


class VictimPreferenceSchema(StrictSchema):
    enhanced = fields.Boolean(metadata={"description": "Enhanced rights: told within 1 working day, not 5"})
    method = fields.String(validate=validate.OneOf(("phone", "email", "letter", "in_person")))
    frequency = fields.String(validate=validate.OneOf(("every_development", "outcomes_only")))


class DevelopmentSchema(StrictSchema):
    trigger = fields.String(required=True, validate=validate.OneOf(TRIGGERS))
    at = AwareDateTime(required=True, validate=not_future_moment)


class ContactedSchema(StrictSchema):
    contacted_at = AwareDateTime(required=True, validate=not_future_moment)
    notes = fields.String(validate=validate.Length(max=2000))


class VictimContactSchema(Schema):
    id = fields.UUID()
    investigation_id = fields.UUID()
    person_id = fields.UUID()
    trigger = fields.String()
    triggered_at = fields.DateTime()
    due_on = fields.Date()
    method = fields.String()
    contacted_at = fields.DateTime(allow_none=True)
    contacted_by = fields.String(allow_none=True)


class VictimContactListSchema(Schema):
    items = fields.List(fields.Nested(VictimContactSchema))


class OverdueContactSchema(VictimContactSchema):
    reference = fields.String()


class OverdueQuerySchema(StrictSchema):
    officer_in_charge = fields.String(validate=validate.Length(min=1, max=200),
                                      metadata={"description": "Whose investigations (default: yours)"})


class OverdueListSchema(Schema):
    items = fields.List(fields.Nested(OverdueContactSchema))
