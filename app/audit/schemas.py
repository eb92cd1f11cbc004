"""What the audit API takes and gives."""
from marshmallow import Schema, fields, validate

from app.schemas import PageQuerySchema, PageSchema


class AuditQuerySchema(PageQuerySchema):
    record_id = fields.String(validate=validate.Length(min=1, max=100))
    user = fields.String(validate=validate.Length(min=1, max=200))
    from_ = fields.AwareDateTime(data_key="from", metadata={"description": "Inclusive, ISO 8601 with offset"})
    to = fields.AwareDateTime(metadata={"description": "Exclusive, ISO 8601 with offset"})


class AuditEventSchema(Schema):
    id = fields.UUID()
    occurred_at = fields.DateTime()
    user = fields.String(attribute="user_id")
    action = fields.String()
    record_type = fields.String()
    record_id = fields.String()
    request_id = fields.String()
    purpose = fields.String()
    details = fields.Dict()


class AuditPageSchema(PageSchema):
    items = fields.List(fields.Nested(AuditEventSchema), required=True)
