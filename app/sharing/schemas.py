"""What the sharing API takes and gives."""
from __future__ import annotations

from typing import Any, ClassVar

from flask import g, has_request_context
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    validate,
    validates_schema,
)

from app.db import shareable_types
from app.schemas import (
    CLASSIFICATIONS,
    AwareDateTime,
    PageQuerySchema,
    PageSchema,
    StrictSchema,
    Unique,
)
from app.sharing.agreements import effective_status, nameable_types
from app.sharing.visibility import mask_dump, maskable
from app.tenancy import force_slug

REASON = fields.String(load_default="", validate=validate.Length(max=1000))


class RecordReadSchema(Schema):
    """The base of every record's output: the force that owns it, and another force's record masked by its
    agreement's field profile and marked read-only (filters and sorts are narrowed by the services alike).

    `shared_as` names the record type whose grant releases it; a detail view that wraps the record beside its entries
    names the key holding it in `wraps`."""

    shared_as: ClassVar[str] = ""
    wraps: ClassVar[str | None] = None

    force = fields.Method("_force", dump_only=True, metadata={"type": "string", "example": "northshire",
                                                              "description": "The force that owns the record"})

    def _record(self, original: Any) -> Any:
        if self.wraps is None:
            return original
        return original[self.wraps] if isinstance(original, dict) else getattr(original, self.wraps)

    def _force(self, original: Any) -> str:
        return force_slug(self._record(original).tenant_id)

    def grant_type(self, record: Any) -> str:
        """The grant type whose field profile applies to this record (a document's is its parent's)."""
        return self.shared_as

    def shape(self, data: dict[str, Any], original: Any) -> dict[str, Any]:
        """A hook for a record's own withholding rules, applied before masking."""
        return data

    @post_dump(pass_original=True)
    def _as_shared(self, data: dict[str, Any], original: Any, **_: Any) -> dict[str, Any]:
        record = self._record(original)
        nested = (self.wraps,) if self.wraps else ()
        acting = g.get("principal") if has_request_context() else None  # nobody acting: everything masked
        return mask_dump(acting, self.grant_type(record), record.tenant_id, self.shape(data, original), *nested)


class FieldProfileEntrySchema(StrictSchema):
    masked = fields.List(fields.String(), load_default=list,
                         metadata={"description": "Fields withheld from the consumer (shown empty)"})


class TermsSchema(StrictSchema):
    record_types = fields.List(fields.String(validate=validate.OneOf(nameable_types())), required=True,
                               validate=[validate.Length(min=1), Unique(what="a record type")])
    max_classification = fields.String(required=True, validate=validate.OneOf(CLASSIFICATIONS))
    handling_codes = fields.List(fields.String(validate=validate.OneOf(("P", "C"))), load_default=lambda: ["P"],
                                 validate=[validate.Length(min=1), Unique(what="a handling code")])
    field_profile = fields.Dict(keys=fields.String(validate=validate.OneOf(nameable_types())),
                                values=fields.Nested(FieldProfileEntrySchema), load_default=dict,
                                metadata={"example": {"person": {"masked": ["date_of_birth", "warning_markers"]}},
                                          "description": "Per record type: " + "; ".join(
                                              f"{t}: {', '.join(maskable(t))}" for t in nameable_types())})
    purpose = fields.String(required=True, validate=validate.Length(min=3, max=500))
    lawful_basis = fields.String(required=True, validate=validate.Length(min=3, max=500))
    valid_from = AwareDateTime(load_default=None, allow_none=True)
    valid_to = AwareDateTime(load_default=None, allow_none=True)
    reason = REASON

    @validates_schema
    def _window(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("valid_from") and data.get("valid_to") and data["valid_to"] <= data["valid_from"]:
            raise ValidationError("must be after valid_from", field_name="valid_to")


class AgreementCreateSchema(TermsSchema):
    """A proposed sharing agreement: what your force shares (record types, highest classification, handling codes,
    masked fields) with one force or a collaboration, why, on what lawful basis and for how long."""

    consumer_force = fields.String(allow_none=True, metadata={"description": "One force (its slug), or"})
    consumer_collaboration = fields.String(allow_none=True,
                                           metadata={"description": "every other member of a collaboration"})

    @validates_schema
    def _one_consumer(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("consumer_force")) == bool(data.get("consumer_collaboration")):
            raise ValidationError("give consumer_force or consumer_collaboration, not both",
                                  field_name="consumer_force")


class TransitionSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class AgreementSchema(Schema):
    """A sharing agreement and where it stands: proposed, active, suspended, revoked or expired, and who approved
    it."""

    id = fields.UUID()
    version = fields.Integer()
    status = fields.Function(effective_status,
                             metadata={"description": "proposed, active, suspended, revoked, expired"})
    provider = fields.Function(lambda a: force_slug(a.provider_id))
    consumer_force = fields.Function(lambda a: force_slug(a.consumer_tenant_id) if a.consumer_tenant_id else None)
    consumer_collaboration = fields.String(allow_none=True)
    consumers = fields.Function(lambda a: [force_slug(c) for c in a.consumer_ids])
    record_types = fields.List(fields.String())
    max_classification = fields.String()
    handling_codes = fields.List(fields.String())
    field_profile = fields.Dict()
    purpose = fields.String()
    lawful_basis = fields.String()
    valid_from = fields.DateTime()
    valid_to = fields.DateTime(allow_none=True)
    provider_approved_by = fields.String(allow_none=True)
    provider_approved_at = fields.DateTime(allow_none=True)
    collaboration_approved_by = fields.String(allow_none=True)
    collaboration_approved_at = fields.DateTime(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()


class AgreementEventSchema(Schema):
    version = fields.Integer()
    action = fields.String()
    reason = fields.String()
    force = fields.Function(lambda e: force_slug(e.actor_tenant_id))
    user = fields.String(attribute="actor_user")
    status_after = fields.String()
    terms = fields.Dict()
    occurred_at = fields.DateTime()


class AgreementDetailSchema(AgreementSchema):
    history = fields.List(fields.Nested(AgreementEventSchema))


class AgreementListSchema(Schema):
    items = fields.List(fields.Nested(AgreementSchema))


class CollaborationSchema(Schema):
    slug = fields.String()
    name = fields.String()
    members = fields.List(fields.String())
    administrators = fields.Function(lambda c: [{"force": t, "user": u} for t, u in c.administrators])


class CollaborationListSchema(Schema):
    items = fields.List(fields.Nested(CollaborationSchema))


class SimulationSchema(Schema):
    would_gain = fields.Dict(keys=fields.String(), values=fields.Integer(),
                             metadata={"description": "Records of each type the consumers would see"})


class ExplainQuerySchema(StrictSchema):
    record_type = fields.String(required=True, validate=validate.OneOf(shareable_types()))
    record_id = fields.UUID(required=True)


class ExplainSchema(Schema):
    record_type = fields.String()
    record_id = fields.UUID()
    owner = fields.String()
    classification = fields.String()
    do_not_share = fields.Boolean()
    you_own_it = fields.Boolean()
    visible_to = fields.List(fields.Dict())
    why_you_see_it = fields.List(fields.Dict())


class AccessQuerySchema(PageQuerySchema):
    force = fields.String(metadata={"description": "The consuming force's slug"})
    user = fields.String(validate=validate.Length(min=1, max=200))
    record_id = fields.UUID()
    from_ = AwareDateTime(data_key="from")
    to = AwareDateTime()


class AccessSchema(Schema):
    force = fields.Function(lambda a: force_slug(a.consumer_id))
    user = fields.String(attribute="user_id")
    record_type = fields.String()
    record_id = fields.UUID()
    agreement_ids = fields.List(fields.UUID())
    purpose = fields.String()
    request_id = fields.String()
    occurred_at = fields.DateTime()


class AccessPageSchema(PageSchema):
    items = fields.List(fields.Nested(AccessSchema), required=True)
