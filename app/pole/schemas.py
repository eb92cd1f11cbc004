"""What the objects, locations, events and links APIs take and give."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.pole import normalise
from app.pole.links import ENTITY_TYPES, LINK_TYPES
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

TEXT = validate.Length(min=1, max=200)
LONG_TEXT = validate.Length(max=4000)
EVENT_TYPE = validate.Regexp(r"^[a-z][a-z0-9_]{1,49}$", error="must be lower-case words joined by _")
OBJECT_KINDS = ("vehicle", "telephone", "property")
# The fields each kind of object needs, and those it may have.
OBJECT_REQUIRED = {"vehicle": ("vrm",), "telephone": ("phone_number",), "property": ("category", "description")}
OBJECT_FIELDS = {
    "vehicle": {"vrm", "make", "model", "colour", "vin"},
    "telephone": {"phone_number", "make", "model"},
    "property": {"category", "description", "serial_number", "make", "model", "colour"},
}
# Fields every kind of object has: what it is, and how far it may be shared.
OBJECT_COMMON = {"kind", "classification", "do_not_share"}


class RecordSchema(RecordReadSchema):
    """Output fields of every versioned POLE record."""

    id = fields.UUID(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    updated_by = fields.String(dump_only=True)


class ObjectFields(StrictSchema):
    do_not_share = fields.Boolean(metadata={"description": "Never shared with another force"})
    vrm = Normalised(normalise.vrm, allow_none=True, metadata={"example": "AB12 CDE"})
    make = fields.String(allow_none=True, validate=TEXT)
    model = fields.String(allow_none=True, validate=TEXT)
    colour = fields.String(allow_none=True, validate=TEXT)
    vin = Normalised(normalise.vin, allow_none=True)
    phone_number = Normalised(normalise.phone_number, allow_none=True,
                              metadata={"example": "07400 123456",
                                        "description": "Stored in E.164 once libphonenumber finds it valid"})
    category = fields.String(allow_none=True, validate=TEXT)
    description = fields.String(allow_none=True, validate=LONG_TEXT)
    serial_number = fields.String(allow_none=True, validate=TEXT)
    classification = Classification()


class ObjectCreateSchema(ObjectFields):
    """An object to record: a vehicle (VRM, make, model...), a telephone (number) or property (serial number)."""

    kind = fields.String(required=True, validate=validate.OneOf(OBJECT_KINDS))
    classification = Classification(load_default="OFFICIAL")

    @validates_schema
    def _fits_kind(self, data: dict[str, Any], **_: Any) -> None:
        check_object_fields(data["kind"], data)


def check_object_fields(kind: str, data: dict[str, Any]) -> None:
    """A vehicle needs a VRM, a telephone a number, property a category and description; nothing foreign."""
    errors: dict[str, list[str]] = {}
    for field in OBJECT_REQUIRED[kind]:
        if not data.get(field):
            errors[field] = [f"is required for a {kind}"]
    for field in sorted(set(data) - OBJECT_FIELDS[kind] - OBJECT_COMMON):
        if data[field] is not None:
            errors[field] = [f"does not apply to a {kind}"]
    if errors:
        raise ValidationError(errors)


class ObjectSchema(RecordSchema, ObjectFields):
    """An object (vehicle, telephone or property) as held by a force. Another force's is masked by its agreement and
    read-only."""

    shared_as = "object"
    kind = fields.String()


class ObjectQuerySchema(PageQuerySchema):
    vrm = Normalised(normalise.vrm_fragment, metadata={"description": "Full or partial; ? for one unknown character"})
    phone_number = Normalised(normalise.phone_number)
    serial_number = fields.String(validate=TEXT)
    kind = fields.String(validate=validate.OneOf(OBJECT_KINDS))

    @validates_schema
    def _one_criterion(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data.get(f) for f in ("vrm", "phone_number", "serial_number")):
            raise ValidationError("give vrm, phone_number or serial_number", field_name="vrm")


class ObjectPageSchema(PageSchema):
    items = fields.List(fields.Nested(ObjectSchema), required=True)


class LocationFields(StrictSchema):
    do_not_share = fields.Boolean(metadata={"description": "Never shared with another force"})
    address_lines = fields.List(fields.String(validate=TEXT), validate=validate.Length(max=6))
    town = fields.String(allow_none=True, validate=TEXT)
    postcode = Normalised(normalise.postcode, allow_none=True, metadata={"example": "SW1A 1AA"})
    uprn = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=999_999_999_999),
                          metadata={"description": "Unique Property Reference Number: one location per UPRN"})
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    classification = Classification()

    @validates_schema
    def _both_coordinates(self, data: dict[str, Any], **_: Any) -> None:
        if ("latitude" in data) != ("longitude" in data) or (
            (data.get("latitude") is None) != (data.get("longitude") is None)
        ):
            raise ValidationError("give latitude and longitude together", field_name="latitude")


class LocationCreateSchema(LocationFields):
    """A location to record: an address (lines, town, postcode, UPRN) and/or coordinates."""

    address_lines = fields.List(fields.String(validate=TEXT), load_default=list, validate=validate.Length(max=6))
    classification = Classification(load_default="OFFICIAL")

    @validates_schema
    def _somewhere(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("address_lines") or data.get("uprn") or data.get("latitude") is not None
                or data.get("postcode")):
            raise ValidationError("give address lines, a postcode, a UPRN or coordinates", field_name="address_lines")


class LocationSchema(RecordSchema, LocationFields):
    """A location as held by a force. Another force's is masked by its agreement and read-only."""

    shared_as = "location"


class LocationQuerySchema(PageQuerySchema):
    postcode = Normalised(normalise.postcode)
    uprn = fields.Integer(validate=validate.Range(min=1))

    @validates_schema
    def _one_criterion(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("postcode") and not data.get("uprn"):
            raise ValidationError("give postcode or uprn", field_name="postcode")


class LocationPageSchema(PageSchema):
    items = fields.List(fields.Nested(LocationSchema), required=True)


class EventFields(StrictSchema):
    do_not_share = fields.Boolean(metadata={"description": "Never shared with another force"})
    event_type = fields.String(validate=EVENT_TYPE)
    occurred_at = AwareDateTime(validate=not_future_moment)
    location_id = fields.UUID(allow_none=True)
    summary = fields.String(validate=LONG_TEXT)
    classification = Classification()


class EventCreateSchema(EventFields):
    """An event to record: what kind, when it happened, where, and a summary."""

    event_type = fields.String(required=True, validate=EVENT_TYPE)
    occurred_at = AwareDateTime(required=True, validate=not_future_moment)
    summary = fields.String(load_default="", validate=LONG_TEXT)
    classification = Classification(load_default="OFFICIAL")


class EventSchema(RecordSchema, EventFields):
    """An event as held by a force. Another force's is masked by its agreement and read-only."""

    shared_as = "event"


class EntityRefSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(ENTITY_TYPES))
    id = fields.UUID(required=True)


class SourceRefSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z_]{1,39}$"))
    id = fields.UUID(required=True)


class LinkCreateSchema(StrictSchema):
    """A link between two records (person, object, location, event) of a given type, with the period it held."""

    from_ = fields.Nested(EntityRefSchema, required=True, data_key="from")
    to = fields.Nested(EntityRefSchema, required=True)
    link_type = fields.String(required=True,
                              validate=validate.OneOf(sorted({t for ts in LINK_TYPES.values() for t in ts})))
    valid_from = fields.Date(allow_none=True, load_default=None)
    valid_to = fields.Date(allow_none=True, load_default=None)
    source = fields.Nested(SourceRefSchema, allow_none=True, load_default=None,
                           metadata={"description": "The record the link came from"})

    @validates_schema
    def _dates(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
            raise ValidationError("cannot be before valid_from", field_name="valid_to")


class LinkUpdateSchema(StrictSchema):
    do_not_share = fields.Boolean(metadata={"description": "Never shared with another force"})
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)


class LinkSchema(RecordSchema):
    """A link between two records, as held by a force. Another force's is masked by its agreement and read-only."""

    shared_as = "link"
    from_ = fields.Function(lambda link: {"type": link.from_type, "id": str(link.from_id)}, data_key="from")
    to = fields.Function(lambda link: {"type": link.to_type, "id": str(link.to_id)})
    link_type = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    do_not_share = fields.Boolean()
    source = fields.Function(
        lambda link: {"type": link.source_type, "id": str(link.source_id)} if link.source_id else None)


class LinkListSchema(Schema):
    items = fields.List(fields.Nested(LinkSchema), required=True)


class NetworkQuerySchema(StrictSchema):
    entity_type = fields.String(required=True, validate=validate.OneOf(ENTITY_TYPES))
    entity_id = fields.UUID(required=True)
    hops = fields.Integer(load_default=2, validate=validate.Range(min=1, max=3))


class NetworkStepSchema(Schema):
    link_id = fields.UUID()
    link_type = fields.String()
    from_ = fields.Dict(data_key="from")
    to = fields.Dict()


class NetworkEntitySchema(Schema):
    type = fields.String()
    id = fields.UUID()
    hops = fields.Integer()
    path = fields.List(fields.Nested(NetworkStepSchema), metadata={"description": "The links from the start"})


class NetworkSchema(Schema):
    start = fields.Dict()
    hops = fields.Integer()
    entities = fields.List(fields.Nested(NetworkEntitySchema))
    truncated = fields.Boolean()
