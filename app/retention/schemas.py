"""Schemas of /api/v1/retention: the review queue, review decisions, restriction and disposal lists."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.retention.policy import REVIEWED_TYPES
from app.retention.service import NRAC
from app.schemas import PageQuerySchema, PageSchema, StrictSchema

RECORD_TYPE = fields.String(required=True, validate=validate.OneOf(REVIEWED_TYPES))


class ReviewQuerySchema(PageQuerySchema):
    group = fields.Integer(validate=validate.Range(min=1, max=4), metadata={"description": "Only this PIRM group"})


class DueSchema(Schema):
    record_type = fields.String()
    record_id = fields.UUID()
    retention_group = fields.Integer()
    review_on = fields.Date()
    overdue = fields.Boolean(metadata={"description": "The review date has passed"})


class DuePageSchema(PageSchema):
    items = fields.List(fields.Nested(DueSchema))


class DecisionSchema(StrictSchema):
    """A review decision: retain (criteria, rationale, next review date) or dispose (rationale)."""

    record_type = RECORD_TYPE
    record_id = fields.UUID(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(("retain", "dispose")))
    criteria = fields.List(fields.String(validate=validate.OneOf(tuple(NRAC))), load_default=list,
                           metadata={"description": "National Retention Assessment Criteria the decision rests on: "
                                                    + ", ".join(NRAC)})
    rationale = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    next_review_on = fields.Date()


class ReviewSchema(Schema):
    id = fields.UUID()
    record_type = fields.String()
    record_id = fields.UUID()
    retention_group = fields.Integer()
    policy_version = fields.String()
    decision = fields.String()
    criteria = fields.List(fields.String())
    rationale = fields.String()
    next_review_on = fields.Date(allow_none=True)
    decided_by = fields.String()
    decided_at = fields.DateTime()


class RestrictionSchema(StrictSchema):
    restricted = fields.Boolean(required=True, truthy={True}, falsy={False})


class RestrictedSchema(Schema):
    record_type = fields.String()
    id = fields.UUID()
    restricted = fields.Boolean()


class ItemSchema(StrictSchema):
    record_type = RECORD_TYPE
    record_id = fields.UUID(required=True)


class ProposalSchema(StrictSchema):
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def _once_each(self, data: dict[str, Any], **_: Any) -> None:
        keys = [(i["record_type"], i["record_id"]) for i in data.get("items", [])]
        if len(set(keys)) != len(keys):
            raise ValidationError("a record is listed twice", field_name="items")


class ApprovalSchema(StrictSchema):
    items_hash = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="a SHA-256 in hex"),
                               metadata={"description": "The items_hash of the list as you reviewed it"})


class ListItemSchema(Schema):
    record_type = fields.String()
    record_id = fields.UUID()
    retention_group = fields.Integer()
    review_id = fields.UUID()


class DisposalListSchema(Schema):
    id = fields.UUID()
    version = fields.Integer()
    status = fields.String()
    items_hash = fields.String()
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    executed_by = fields.String(allow_none=True)
    executed_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(ListItemSchema))


class OutcomeSchema(Schema):
    record_type = fields.String()
    record_id = fields.UUID()
    disposed = fields.Boolean()
    reason = fields.String()


class ExecutionSchema(Schema):
    list = fields.Nested(DisposalListSchema)
    outcomes = fields.List(fields.Nested(OutcomeSchema))
