"""The MG forms of a case file and what an officer may edit on each.

Shape (what the bundle renders generically): ``forms`` is ``{form: {field: value}}`` where a value is a
scalar (string, number, boolean or null) or a list of rows, each row a flat ``{column: scalar}`` dict.
Fields drawn from Concord's records (FACTS) are read-only here: a correction is made on the record. Fields
only the case file holds are validated by the form's schema (EDITABLE), so a wrong shape is a 422 naming
``forms.FORM.field``.
"""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from app.errors import InvalidInput
from app.schemas import StrictSchema


def _text() -> fields.String:
    return fields.String(validate=validate.Length(max=20000), allow_none=True)



class _ItemSchema(StrictSchema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    source = fields.String(validate=validate.Length(max=200), allow_none=True)


class _StatementSchema(StrictSchema):
    person_id = fields.UUID(required=True)
    document_id = fields.UUID(allow_none=True)
    withdrawn = fields.Boolean()


class _MeasureSchema(StrictSchema):
    person_id = fields.UUID(required=True)
    measures = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    reasons = fields.String(validate=validate.Length(max=4000), allow_none=True)


class _BreachSchema(StrictSchema):
    person_id = fields.UUID(required=True)
    condition = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    breach = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    occurred_on = fields.Date(allow_none=True)


class _UnavailableSchema(StrictSchema):
    person_id = fields.UUID(required=True)
    unavailable_from = fields.Date(required=True)
    unavailable_to = fields.Date(required=True)
    reason = fields.String(validate=validate.Length(max=2000), allow_none=True)


def _items() -> fields.List:
    return fields.List(fields.Nested(_ItemSchema), validate=validate.Length(max=5000))


EDITABLE: dict[str, dict[str, fields.Field]] = {
    "MG1": {"solicitor_gender": fields.String(validate=validate.Length(max=40), allow_none=True)},
    "MG2": {"applications": fields.List(fields.Nested(_MeasureSchema))},
    "MG3": {"summary": _text()},
    "MG3A": {"summary": _text()},
    "MG4": {},
    "MG4A": {"conditions": _text()},
    "MG5": {"summary": _text()},
    "MG6": {"disclosure_officer": fields.String(validate=validate.Length(max=200), allow_none=True)},
    "MG6A": {"items": _items()},
    "MG6B": {"items": _items()},
    "MG6C": {"items": _items()},
    "MG6D": {"items": _items()},
    "MG6E": {"report": _text()},
    "MG7": {"grounds": _text()},
    "MG8": {"breaches": fields.List(fields.Nested(_BreachSchema))},
    "MG9": {},
    "MG10": {"dates": fields.List(fields.Nested(_UnavailableSchema))},
    "MG11": {"statements": fields.List(fields.Nested(_StatementSchema))},
    "MG12": {},
}
_SCHEMAS = {form: StrictSchema.from_dict(dict(spec), name=f"{form}Edit") for form, spec in EDITABLE.items()}


def validated(form: str, current: dict[str, Any], values: Any) -> dict[str, Any]:
    """The officer's fields of one form, checked by its schema, as they are stored (JSON); facts refused."""
    if not isinstance(values, dict):
        raise InvalidInput.field(f"forms.{form}", "must be an object of the form's fields")
    for name in values:
        if name not in EDITABLE[form] and name in current:
            raise InvalidInput.field(f"forms.{form}.{name}",
                                     "drawn from Concord's records and read-only: correct it on the record")
    try:
        loaded = _SCHEMAS[form]().load(values)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        errors = {f"forms.{form}.{k}": (v if isinstance(v, list) else [str(v)]) for k, v in messages.items()}
        first = next(iter(errors))
        raise InvalidInput(f"{first}: {errors[first]}", errors) from None
    return _SCHEMAS[form]().dump(loaded)
