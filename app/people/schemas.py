"""What the people API takes and gives."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from app.people.identifiers import normalise_pnc_id
from app.tenancy import force_slug
from app.schemas import Classification, PageQuerySchema, PageSchema, StrictSchema, not_in_future

SEXES = ("male", "female", "indeterminate", "unknown")
OTHER_NAME_KINDS = ("alias", "maiden_name", "nickname", "previous_name")
NAME = validate.Length(min=1, max=100)


class OtherNameSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(OTHER_NAME_KINDS))
    surname = fields.String(required=True, validate=NAME)
    forenames = fields.String(load_default="", validate=validate.Length(max=200))


def _pnc(value: str | None) -> None:
    if value is not None:
        try:
            normalise_pnc_id(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("cannot be blank")


SURNAME = [NAME, _not_blank]
FORENAMES = [validate.Length(min=1, max=200), _not_blank]
PNC_DOC = {"example": "98/0012345J", "description": "YY/NNNNNNND with its check letter"}


class PersonCreateSchema(StrictSchema):
    surname = fields.String(required=True, validate=SURNAME)
    forenames = fields.String(required=True, validate=FORENAMES)
    date_of_birth = fields.Date(allow_none=True, load_default=None, validate=not_in_future)
    sex = fields.String(required=True, validate=validate.OneOf(SEXES))
    pnc_id = fields.String(allow_none=True, load_default=None, validate=_pnc, metadata=PNC_DOC)
    classification = Classification(load_default="OFFICIAL")
    other_names = fields.List(fields.Nested(OtherNameSchema), load_default=list, validate=validate.Length(max=50))


class PersonUpdateSchema(StrictSchema):
    """Every field optional: send only what changes (null clears an optional field)."""

    surname = fields.String(validate=SURNAME)
    forenames = fields.String(validate=FORENAMES)
    date_of_birth = fields.Date(allow_none=True, validate=not_in_future)
    sex = fields.String(validate=validate.OneOf(SEXES))
    pnc_id = fields.String(allow_none=True, validate=_pnc, metadata=PNC_DOC)
    classification = Classification()


class PersonSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    version = fields.Integer(dump_only=True)
    force = fields.Function(lambda p: force_slug(p.tenant_id), dump_only=True,
                            metadata={"description": "The force that owns the record"})
    surname = fields.String()
    forenames = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    sex = fields.String()
    pnc_id = fields.String(allow_none=True)
    classification = fields.String()
    other_names = fields.List(fields.Nested(OtherNameSchema))
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    updated_by = fields.String(dump_only=True)


class PersonListQuerySchema(PageQuerySchema):
    surname = fields.String(validate=NAME)
    forenames = fields.String(validate=validate.Length(min=1, max=200))
    date_of_birth = fields.Date()


class PersonPageSchema(PageSchema):
    items = fields.List(fields.Nested(PersonSchema), required=True)
