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


class CheckpointSchema(Schema):
    """A signed checkpoint: the force's tree had `tree_size` events with root `root_hash` at `sealed_at`. The
    Ed25519 signature (base64) covers the lines "concord-audit-checkpoint/v1", "tenant <tenant_id>",
    "size <tree_size>", "root <root_hash>", "time <sealed_at>", each ending in a newline."""

    tenant_id = fields.String(required=True)
    tree_size = fields.Integer(required=True)
    root_hash = fields.String(required=True, metadata={"description": "SHA-256 root of the RFC 9162 tree, base64"})
    sealed_at = fields.String(required=True,
                              metadata={"description": "UTC, microseconds, e.g. 2026-12-01T10:00:00.000000Z"})
    key_id = fields.String(required=True, metadata={"description": "First 16 hex digits of SHA-256(raw public key)"})
    signature = fields.String(required=True, metadata={"description": "Ed25519 signature, base64"})


class CheckpointPageSchema(PageSchema):
    latest = fields.Nested(CheckpointSchema, allow_none=True, required=True)
    items = fields.List(fields.Nested(CheckpointSchema), required=True)


class ProofSchema(Schema):
    """An audit event's leaf and its inclusion proof against the force's latest checkpoint (RFC 9162 2.1.3): leaf
    hash SHA-256(0x00 || leaf), nodes SHA-256(0x01 || left || right)."""

    event = fields.Nested(AuditEventSchema, required=True)
    tree_index = fields.Integer(required=True)
    leaf = fields.String(required=True, metadata={"description": "The event's canonical serialisation (UTF-8 JSON)"})
    leaf_hash = fields.String(required=True, metadata={"description": "base64"})
    proof = fields.List(fields.String(), required=True, metadata={"description": "The audit path, base64, leaf first"})
    checkpoint = fields.Nested(CheckpointSchema, required=True)
