"""What the custody API takes and gives."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, has_request_context
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from app.custody.clock import local
from app.custody.service import ENTRY_KINDS, OUTCOMES
from app.people.schemas import PersonCreateSchema
from app.schemas import AwareDateTime, Classification, PageQuerySchema, PageSchema, StrictSchema, date_out_of_range
from app.sharing.schemas import RecordReadSchema

TEXT = validate.Length(min=1, max=200)
LONG = validate.Length(max=4000)


class ForceTime(fields.DateTime):
    """A moment shown in the acting force's time zone, as the clock's times are: one zone on every custody screen."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        principal = g.get("principal") if has_request_context() else None
        if value is not None and principal is not None:
            value = local(value, principal.tenant.time_zone)
        return super()._serialize(value, attr, obj, **kwargs)


class OffenceSchema(StrictSchema):
    code = fields.String(required=True,
                         validate=validate.Regexp(r"^\d{1,3}/\d{1,2}$", error="a Home Office code such as 28/1"),
                         metadata={"description": "Home Office offence classification code"})
    wording = fields.String(required=True, validate=TEXT)
    indictable = fields.Boolean(required=True, metadata={"description": "Indictable or either-way (not summary only)"})


class BookInSchema(StrictSchema):
    """A detainee booked in at one of the force's suites: an existing person (person_id) or a new one (person), the
    arrest and the offences; the custody number is allocated by Concord."""

    suite = fields.String(required=True, metadata={"description": "A custody suite of the force (tenant config)"})
    person_id = fields.UUID(metadata={"description": "An existing person, or"})
    person = fields.Nested(PersonCreateSchema, metadata={"description": "a new one (with the duplicate check)"})
    confirm_new = fields.Boolean(load_default=False)
    arrested_at = AwareDateTime(required=True)
    arrest_place = fields.String(required=True, validate=TEXT)
    arresting_officer = fields.String(required=True, validate=TEXT)
    offences = fields.List(fields.Nested(OffenceSchema), required=True, validate=validate.Length(min=1, max=50))
    arrived_at = AwareDateTime(required=True, metadata={"description": "At the first police station"})
    arrested_in_other_force_area = fields.Boolean(load_default=False)
    arrived_at_relevant_station = AwareDateTime(allow_none=True, load_default=None)
    voluntary_attender = fields.Boolean(load_default=False)
    relevant_time_override = AwareDateTime(allow_none=True, load_default=None)
    override_reason = fields.String(allow_none=True, load_default=None, validate=LONG)
    authorised_at = AwareDateTime(allow_none=True, load_default=None)
    authorised_by = fields.String(allow_none=True, load_default=None, validate=TEXT)
    grounds = fields.String(allow_none=True, load_default=None, validate=LONG)
    vulnerable = fields.Boolean(load_default=False, metadata={"description": "Needs an appropriate adult"})
    classification = Classification(load_default="OFFICIAL")
    investigation_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=20),
                                    metadata={"description": "The force's investigations the detention belongs to; "
                                              "the detainee must be a suspect of each"})

    @validates_schema
    def _one_person(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("person_id")) == bool(data.get("person")):
            raise ValidationError("give person_id or person, not both", field_name="person_id")
        if data.get("authorised_at") and not (data.get("authorised_by") and data.get("grounds")):
            raise ValidationError("authorising detention needs the custody officer and the grounds",
                                  field_name="authorised_by")


# What each kind of entry carries (stored as loaded: EntryCreateSchema).
ENTRY_DATA: dict[str, dict[str, fields.Field]] = {
    "rights_given": {"written_notice": fields.Boolean(required=True)},
    "someone_informed": {"name": fields.String(validate=TEXT), "delayed_by": fields.String(validate=TEXT),
                         "reason": fields.String(validate=LONG)},
    "legal_advice": {"requested": fields.Boolean(required=True), "solicitor": fields.String(validate=TEXT)},
    "appropriate_adult": {"name": fields.String(required=True, validate=TEXT),
                          "relationship": fields.String(required=True, validate=TEXT),
                          "police_officer_or_staff": fields.Boolean(
                              required=True, metadata={"description": "Refused if true (Code C 1.7(b))"})},
    "interpreter": {"language": fields.String(required=True, validate=TEXT)},
    "risk_assessment": {"answers": fields.Dict(required=True),
                        "level": fields.String(required=True, validate=validate.OneOf(("low", "medium", "high")))},
    "medication": {"name": fields.String(required=True, validate=TEXT),
                   "dose": fields.String(required=True, validate=TEXT),
                   "interval_hours": fields.Float(required=True, validate=validate.Range(min=0.01, max=168), metadata={
                       "description": "Within the force's [custody] dose_interval_hours (national: 0.25 to 72)"}),
                   "first_due_at": fields.String(required=True)},
    "medication_given": {"name": fields.String(required=True, validate=TEXT),
                         "dose": fields.String(required=True, validate=TEXT)},
    "observation_level": {"level": fields.Integer(required=True, validate=validate.Range(min=1, max=4))},
    "property": {"items": fields.List(fields.String(validate=TEXT), required=True),
                 "bag_numbers": fields.List(fields.String(validate=TEXT), load_default=list)},
    "cell": {"cell": fields.String(required=True, validate=TEXT)},
    "visit": {"condition": fields.String(required=True, validate=TEXT), "roused": fields.Boolean(load_default=False)},
    "review": {"decision": fields.String(required=True, validate=validate.OneOf(("continue", "release", "charge"))),
               "representations": fields.String(validate=LONG), "postponed_reason": fields.String(validate=LONG)},
    "extension": {"grounds": fields.String(required=True, validate=LONG),
                  "representations": fields.String(validate=LONG)},
    "warrant": {"hours": fields.Integer(required=True, validate=validate.Range(min=1, max=36)),
                "court": fields.String(required=True, validate=TEXT),
                "not_practicable_reason": fields.String(validate=LONG)},
    "interview": {"by": fields.String(required=True, validate=TEXT), "location": fields.String(validate=TEXT)},
    "charge": {"offences": fields.List(fields.String(validate=TEXT), required=True)},
    "note": {"text": fields.String(required=True, validate=LONG)},
    "correction": {"reason": fields.String(required=True, validate=LONG)},
}


class EntryCreateSchema(StrictSchema):
    """An entry on a custody record's timeline (never edited: a correction is a new entry pointing at the one it
    corrects)."""

    kind = fields.String(required=True, validate=validate.OneOf(ENTRY_KINDS))
    occurred_at = AwareDateTime(required=True)
    data = fields.Dict(load_default=dict, metadata={"description": "What the kind of entry records"})
    corrects_id = fields.UUID(allow_none=True, load_default=None,
                              metadata={"description": "For a correction: the entry it corrects"})

    @post_load
    def _data_as_kind(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """The entry's data as its kind's schema loads it (numbers as numbers, yes and no as booleans): stored so."""
        shape = StrictSchema.from_dict(ENTRY_DATA[data["kind"]])()
        try:
            data["data"] = shape.load(data.get("data") or {})
        except ValidationError as exc:
            raise ValidationError({"data": exc.messages}) from None
        if data["kind"] == "medication":
            try:
                due = datetime.fromisoformat(data["data"]["first_due_at"])
            except ValueError:
                raise ValidationError({"data": {"first_due_at": ["not an ISO 8601 date and time"]}}) from None
            if due.tzinfo is None:
                raise ValidationError({"data": {"first_due_at": ["must carry its time zone"]}})
            if date_out_of_range(due):
                raise ValidationError({"data": {"first_due_at": [str(date_out_of_range(due))]}})
        return data


class EntrySchema(Schema):
    """An entry on a custody record's timeline."""

    id = fields.UUID()
    kind = fields.String()
    occurred_at = ForceTime()
    recorded_at = ForceTime()
    recorded_by = fields.String()
    data = fields.Dict()
    corrects_id = fields.UUID(allow_none=True)


class ReleaseSchema(StrictSchema):
    released_at = AwareDateTime(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))


class CustodyRecordSchema(RecordReadSchema):
    """A detention: who, where and why they were arrested, when they arrived and were authorised, and how it ended.
    Another force's is masked by its agreement and read-only."""

    shared_as = "custody"

    id = fields.UUID()
    version = fields.Integer()
    custody_number = fields.String()
    suite = fields.String()
    person_id = fields.UUID()
    arrested_at = ForceTime()
    arrest_place = fields.String()
    arresting_officer = fields.String()
    offences = fields.List(fields.Dict())
    arrived_at = ForceTime()
    authorised_at = ForceTime(allow_none=True)
    authorised_by = fields.String(allow_none=True)
    grounds = fields.String(allow_none=True)
    vulnerable = fields.Boolean()
    released_at = ForceTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    classification = fields.String()
    voluntary_attender = fields.Boolean()


class ClockSchema(Schema):
    relevant_time = fields.String()
    detention_limit = fields.String()
    next_review_due = fields.String(allow_none=True)
    next_visit_due = fields.String(allow_none=True)
    next_doses_due = fields.List(fields.Dict())
    appropriate_adult_outstanding = fields.Boolean()
    overdue = fields.List(fields.Dict())
    cell = fields.String(allow_none=True)
    minutes_in_custody = fields.Integer()


class DetainedPersonSchema(Schema):
    id = fields.UUID()
    surname = fields.String()
    forenames = fields.String()


class BoardItemSchema(Schema):
    record = fields.Nested(CustodyRecordSchema)
    person = fields.Nested(DetainedPersonSchema)
    clock = fields.Nested(ClockSchema, metadata={"description": "Times in the force's time zone"})


class CustodyDetailSchema(RecordReadSchema, BoardItemSchema):
    """A custody record with its entries; another force's is masked by its agreement and read-only."""

    shared_as = "custody"
    wraps = "record"

    entries = fields.List(fields.Nested(EntrySchema))
    investigation_ids = fields.List(fields.UUID(), metadata={"description": "The investigations it belongs to"})


class BoardSchema(Schema):
    suite = fields.String()
    items = fields.List(fields.Nested(BoardItemSchema))


class CustodyQuerySchema(PageQuerySchema):
    """Custody records by custody number, person, suite, open or closed (the force's own and those shared with it)."""

    custody_number = fields.String(validate=validate.Length(min=1, max=40))
    person_id = fields.UUID()
    suite = fields.String(validate=validate.Length(min=1, max=6))
    status = fields.String(validate=validate.OneOf(("open", "closed")),
                           metadata={"description": "open: still in custody; closed: released"})


class CustodyPageSchema(PageSchema):
    items = fields.List(fields.Nested(CustodyRecordSchema), required=True)
