"""Schema building blocks shared by every domain."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from marshmallow import RAISE, Schema, ValidationError, fields, validate

CLASSIFICATIONS = ("OFFICIAL", "OFFICIAL-SENSITIVE")
# Every date and moment Concord takes lies in this range: a year 1 or 9999 is a slip of the keyboard, not a
# record (and a date of birth before 1900 would be someone over 125).
EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)
RANGE_MESSAGE = f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
REFUSED_CLASSIFICATIONS = ("SECRET", "TOP SECRET", "TOP-SECRET")


def date_out_of_range(value: date) -> str | None:
    """Why a date (or a moment, by its own calendar date) is implausible, or None."""
    day = value.date() if isinstance(value, datetime) else value  # no offset arithmetic: year 1 would overflow
    return None if EARLIEST <= day <= LATEST else RANGE_MESSAGE


def plausible_date(value: date) -> None:
    """Validator: the date or moment lies between EARLIEST and LATEST."""
    reason = date_out_of_range(value)
    if reason:
        raise ValidationError(reason)


def _hold_to_range(field: fields.Field) -> None:
    if isinstance(field, (fields.Date, fields.DateTime)):
        if plausible_date not in field.validators:
            field.validators.insert(0, plausible_date)
    elif isinstance(field, fields.List):
        _hold_to_range(field.inner)


class StrictSchema(Schema):
    """Input schemas refuse unknown fields: a body cannot name a tenant_id or anything else unexpected.
    Every date and date-time field they take (in a list too) is held to EARLIEST..LATEST."""

    class Meta:
        unknown = RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Hold the field to the plausible date range if it is a date."""
        _hold_to_range(field_obj)


class PageQuerySchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class PageSchema(Schema):
    total = fields.Integer(required=True, metadata={"description": "Matching records, all pages"})
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)


def validate_classification(value: str) -> None:
    """OFFICIAL (optionally SENSITIVE) only; SECRET and above are refused with a reason."""
    if value.upper() in REFUSED_CLASSIFICATIONS:
        raise ValidationError("Concord holds OFFICIAL information only; SECRET and TOP SECRET are refused")
    if value not in CLASSIFICATIONS:
        raise ValidationError(f"must be one of {', '.join(CLASSIFICATIONS)}")


def not_in_future(value: date) -> None:
    """Validator: today at the latest (and within the plausible range)."""
    if value > date.today():
        raise ValidationError("cannot be in the future")
    plausible_date(value)


class Classification(fields.String):
    """A security classification field with the refusal rule built in."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate_classification, **kwargs)


class Normalised(fields.String):
    """A string brought to its normal form on the way in; the normaliser's ValueError becomes the field's error."""

    def __init__(self, normalise: Callable[[str], Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.normalise = normalise

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.normalise(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class AwareDateTime(fields.AwareDateTime):
    """A moment with its offset; naive times are refused (UTC inside, the force's zone on the way out)."""

    def __init__(self, **kwargs: Any):
        super().__init__(format="iso", **kwargs)


def not_future_moment(value: Any) -> None:
    if value > datetime.now(timezone.utc) + timedelta(minutes=5):
        raise ValidationError("cannot be in the future")


class Unique(validate.Validator):
    """A list whose entries (or their `key`) appear once each; as a field's validator it runs only when every
    entry loaded, so it never sees a half-valid entry."""

    def __init__(self, key: str | None = None, what: str = "a code"):
        self.key, self.what = key, what

    def __call__(self, value: list[Any]) -> list[Any]:
        seen = [entry[self.key] for entry in value] if self.key else list(value)
        repeated = sorted({str(v) for v in seen if seen.count(v) > 1})
        if repeated:
            raise ValidationError(f"{self.what} is listed twice: {', '.join(repeated)}")
        return value
