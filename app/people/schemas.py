"""What the people API takes and gives."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from app.errors import ErrorSchema
from app.people.identifiers import (
    IDENTIFIER_KINDS,
    PartialDate,
    check_name,
    normalise_identifier,
    normalise_pnc_id,
)
from app.people.search import MAX_WINDOW
from app.pole.normalise import postcode as postcode_normal_form
from app.schemas import (
    Classification,
    Normalised,
    PageQuerySchema,
    PageSchema,
    StrictSchema,
    not_in_future,
)
from app.sharing.schemas import RecordReadSchema

SEXES = ("male", "female", "indeterminate", "unknown")
OTHER_NAME_KINDS = ("alias", "maiden_name", "nickname", "previous_name")
NAME = validate.Length(min=1, max=100)


def _name(value: str) -> None:
    """Validator: a name has a letter and no control character (any script is welcome)."""
    reason = check_name(value)
    if reason:
        raise ValidationError(reason)


def _name_or_empty(value: str) -> None:
    if value:
        _name(value)


class OtherNameSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(OTHER_NAME_KINDS))
    surname = fields.String(required=True, validate=[NAME, _name])
    forenames = fields.String(load_default="", validate=[validate.Length(max=200), _name_or_empty])


def _pnc(value: str | None) -> None:
    if value is not None:
        try:
            normalise_pnc_id(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class DateOfBirth(fields.Field):
    """A full date (1985-03-12), a year and month (1985-03) or a year (1985); shown back as given."""

    def __init__(self, **kwargs: Any):
        kwargs["metadata"] = {"type": "string", **kwargs.get("metadata", {})}  # what the OpenAPI document says
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> PartialDate:
        if not isinstance(value, str):
            raise ValidationError("must be a date (YYYY-MM-DD), a year and month (YYYY-MM) or a year (YYYY)")
        try:
            partial = PartialDate.parse(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        not_in_future(partial.date)
        return partial

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class IdentifierSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(IDENTIFIER_KINDS))
    value = fields.String(required=True, validate=validate.Length(min=1, max=40))

    @validates_schema
    def _shape(self, data: dict[str, Any], **_: Any) -> None:
        try:
            data["value"] = normalise_identifier(data["kind"], data["value"])
        except ValueError as exc:
            raise ValidationError(str(exc), field_name="value") from exc


class SourceSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z_]{1,39}$"))
    id = fields.UUID(required=True)


class WarningMarkerSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=8),
                         metadata={"description": "A code from the force's warning-marker list"})
    from_date = fields.Date(required=True, validate=not_in_future)
    review_date = fields.Date(allow_none=True, load_default=None)
    source = fields.Nested(SourceSchema, allow_none=True, load_default=None,
                           metadata={"description": "The record that justifies the marker"})

    @validates_schema
    def _review_after_start(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("review_date") and data["review_date"] < data["from_date"]:
            raise ValidationError("cannot be before from_date", field_name="review_date")


class WarningMarkerOutSchema(Schema):
    code = fields.String()
    from_date = fields.Date()
    review_date = fields.Date(allow_none=True)
    source = fields.Function(lambda m: {"type": m.source_type, "id": str(m.source_id)} if m.source_id else None)


ETHNICITY_CODES = ("W1", "W2", "W3", "W4", "W9", "M1", "M2", "M3", "M9", "A1", "A2", "A3", "A4", "A9", "B1", "B2",
                   "B9", "O1", "O2", "O9", "NS")
BUILDS = ("thin", "slim", "medium", "athletic", "stocky", "heavy")
TEXT = validate.Length(min=1, max=200)


class PersonDetailsSchema(StrictSchema):
    """The optional details of a person, the same on create and update."""

    place_of_birth = fields.String(allow_none=True, validate=TEXT)
    ethnicity_code = fields.String(allow_none=True, validate=validate.OneOf(ETHNICITY_CODES),
                                   metadata={"description": "Self-defined ethnicity (ONS 18+1 codes)"})
    height_cm = fields.Integer(allow_none=True, validate=validate.Range(min=40, max=260))
    build = fields.String(allow_none=True, validate=validate.OneOf(BUILDS))
    marks = fields.String(allow_none=True, validate=validate.Length(max=2000))
    tattoos = fields.String(allow_none=True, validate=validate.Length(max=2000))
    do_not_share = fields.Boolean(
        metadata={"description": "Never shared with another force, whatever an agreement says"})


SURNAME: list[Callable[[Any], Any]] = [NAME, _name]
FORENAMES: list[Callable[[Any], Any]] = [validate.Length(min=1, max=200), _name]
PNC_DOC = {"example": "98/0012345J", "description": "YY/NNNNNNND with its check letter"}


DOB_DOC = {"example": "1985-03-12", "description": "YYYY-MM-DD, or YYYY-MM or YYYY when only approximate",
           "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"}
LISTS = validate.Length(max=50)


class PersonCreateSchema(PersonDetailsSchema):
    """A person (nominal) to record: names, sex and date of birth, with any other names, identifiers and warning
    markers. A probable duplicate answers 409 with the candidates."""

    surname = fields.String(required=True, validate=SURNAME)
    forenames = fields.String(required=True, validate=FORENAMES)
    date_of_birth = DateOfBirth(allow_none=True, load_default=None, metadata=DOB_DOC)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    pnc_id = fields.String(allow_none=True, load_default=None, validate=_pnc, metadata=PNC_DOC)
    classification = Classification(load_default="OFFICIAL")
    other_names = fields.List(fields.Nested(OtherNameSchema), load_default=list, validate=LISTS)
    identifiers = fields.List(fields.Nested(IdentifierSchema), load_default=list, validate=LISTS)
    warning_markers = fields.List(fields.Nested(WarningMarkerSchema), load_default=list, validate=LISTS)


class PersonUpdateSchema(PersonDetailsSchema):
    """Every field optional: send only what changes (null clears an optional field; a list replaces the list)."""

    surname = fields.String(validate=SURNAME)
    forenames = fields.String(validate=FORENAMES)
    date_of_birth = DateOfBirth(allow_none=True, metadata=DOB_DOC)
    sex = fields.String(validate=validate.OneOf(SEXES))
    pnc_id = fields.String(allow_none=True, validate=_pnc, metadata=PNC_DOC)
    classification = Classification()
    other_names = fields.List(fields.Nested(OtherNameSchema), validate=LISTS)
    identifiers = fields.List(fields.Nested(IdentifierSchema), validate=LISTS)
    warning_markers = fields.List(fields.Nested(WarningMarkerSchema), validate=LISTS)


class PersonSchema(RecordReadSchema, StrictSchema):
    """A person (nominal) as held by a force. Another force's is masked by its agreement's field profile and
    read-only."""

    shared_as = "person"

    id = fields.UUID(dump_only=True)
    version = fields.Integer(dump_only=True)
    surname = fields.String()
    forenames = fields.String()
    date_of_birth = DateOfBirth(attribute="partial_date_of_birth", allow_none=True)
    sex = fields.String()
    pnc_id = fields.String(allow_none=True)
    place_of_birth = fields.String(allow_none=True)
    ethnicity_code = fields.String(allow_none=True)
    height_cm = fields.Integer(allow_none=True)
    build = fields.String(allow_none=True)
    marks = fields.String(allow_none=True)
    tattoos = fields.String(allow_none=True)
    classification = fields.String()
    do_not_share = fields.Boolean()
    other_names = fields.List(fields.Nested(OtherNameSchema))
    identifiers = fields.List(fields.Nested(IdentifierSchema))
    warning_markers = fields.List(fields.Nested(WarningMarkerOutSchema))
    merged_into = fields.UUID(allow_none=True, metadata={"description": "Set when merged into another record"})
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    updated_by = fields.String(dump_only=True)


class PersonListQuerySchema(PageQuerySchema):
    surname = fields.String(validate=SURNAME)
    forenames = fields.String(validate=FORENAMES)
    date_of_birth = fields.Date()


class PersonCreateQuerySchema(StrictSchema):
    confirm_new = fields.Boolean(load_default=False, metadata={
        "description": "Create even though the person probably exists already (otherwise 409 with candidates)"})


class PersonSearchQuerySchema(StrictSchema):
    name = fields.String(validate=[validate.Length(min=1, max=200), _name], metadata={"example": "OBrien Siobhan"})
    date_of_birth = DateOfBirth(metadata=DOB_DOC)
    sex = fields.String(validate=validate.OneOf(SEXES))
    age_from = fields.Integer(validate=validate.Range(min=0, max=130))
    age_to = fields.Integer(validate=validate.Range(min=0, max=130))
    postcode = Normalised(postcode_normal_form, metadata={"description": "Has an address link to this postcode"})
    identifier = fields.String(validate=validate.Length(min=1, max=40),
                               metadata={"description": "PNC ID, CRO number, NI number, passport or driving licence"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_WINDOW))
    page_size = fields.Integer(validate=validate.Range(min=1, max=100), metadata={"description": "Default 20"})
    limit = fields.Integer(validate=validate.Range(min=1, max=100),
                           metadata={"description": "The page size under its earlier name (use page_size)"})

    @validates_schema
    def _criteria(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("name") or data.get("identifier") or data.get("date_of_birth")):
            raise ValidationError("give a name, a date of birth or an identifier", field_name="name")
        if data.get("age_from") is not None and data.get("age_to") is not None and data["age_to"] < data["age_from"]:
            raise ValidationError("cannot be less than age_from", field_name="age_to")
        if "limit" in data and "page_size" in data:
            raise ValidationError("give page_size or limit (its earlier name), not both", field_name="limit")
        if data["page"] * data.get("page_size", data.get("limit", 20)) > MAX_WINDOW:
            raise ValidationError(f"a search pages through its best {MAX_WINDOW} results: narrow it to see more",
                                  field_name="page")

    @post_load
    def _page_size(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """`limit` is the page size under its earlier name."""
        data["page_size"] = data.pop("limit", data.get("page_size", 20))
        return data


class SearchResultSchema(RecordReadSchema):
    """A person found by a search, with a score and the reasons they matched."""

    shared_as = "person"

    id = fields.UUID()
    surname = fields.String()
    forenames = fields.String()
    date_of_birth = DateOfBirth(allow_none=True)
    sex = fields.String()
    pnc_id = fields.String(allow_none=True)
    score = fields.Integer(metadata={"description": "0-100"})
    reasons = fields.List(fields.String(), metadata={"example": ["exact surname", "nickname", "date of birth exact"]})


class LeftOutSchema(Schema):
    force = fields.String(required=True, metadata={"description": "The force whose records were not searched"})
    reason = fields.String(required=True, metadata={"description": "Why (e.g. its database did not answer)"})


class SearchResultsSchema(PageSchema):
    items = fields.List(fields.Nested(SearchResultSchema), required=True)
    notice = fields.String(metadata={"description": "Set when records shared by other forces were left out, and why"})
    left_out = fields.List(fields.Nested(LeftOutSchema), metadata={
        "description": "Present when some forces' shared records could not be searched (their database did not "
                       "answer): the answer ranks what the other databases gave, and names these forces"})


class DuplicateCandidatesSchema(ErrorSchema):
    """The 409 answer when a new person probably exists already: the error, and the candidates, best first.
    Send the request again with ?confirm_new=true to record the person all the same."""

    candidates = fields.List(fields.Nested(SearchResultSchema), required=True)


class MergeRequestSchema(StrictSchema):
    survivor_id = fields.UUID(required=True, metadata={"description": "The record this one is folded into"})
    reason = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class UndoRequestSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class MergeSchema(Schema):
    id = fields.UUID()
    survivor_id = fields.UUID()
    duplicate_id = fields.UUID()
    reason = fields.String()
    moved = fields.Dict()
    merged_at = fields.DateTime()
    merged_by = fields.String()
    undone_at = fields.DateTime(allow_none=True)
    undone_by = fields.String(allow_none=True)


class DuplicatePairSchema(Schema):
    first = fields.Nested(SearchResultSchema)
    second = fields.Nested(SearchResultSchema)
    score = fields.Integer()
    reasons = fields.List(fields.String())


class DuplicatePairsSchema(PageSchema):
    items = fields.List(fields.Nested(DuplicatePairSchema), required=True)


class PersonPageSchema(PageSchema):
    items = fields.List(fields.Nested(PersonSchema), required=True)
