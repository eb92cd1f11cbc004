"""Custody entries stored before their data was stored as loaded (app/custody/schemas.py EntryCreateSchema) may
hold a number as a string ("36" hours, observation level "2", a dose every "8" hours) or a yes or no as a string
("no", "false"), as the console's text inputs and some JSON sent them; the clock then met strings and every
page of the record answered 500. Each becomes what the schema loads now: a JSON number or boolean.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02
"""
import rls
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# (kind, field) of the schema's integer fields (marshmallow's Integer takes "36", " 36 ", "3_6" and truncates 36.7)
# and its float ones; a value that is not a plain decimal number is left as it was.
INTEGERS = (("warrant", "hours"), ("observation_level", "level"))
FLOATS = (("medication", "interval_hours"),)
NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
# (kind, field) of its booleans, and the strings (and 0 and 1) marshmallow's Boolean takes for each answer.
BOOLEANS = (("rights_given", "written_notice"), ("legal_advice", "requested"),
            ("appropriate_adult", "police_officer_or_staff"), ("visit", "roused"))
TRUE = ("true", "t", "on", "y", "yes", "1")
FALSE = ("false", "f", "off", "n", "no", "0")


def _loaded(field: str, cast: str) -> str:
    """The field's value as a number, or NULL if it is not a plain decimal one (checked before the cast)."""
    number = f"replace(btrim(data->>'{field}'), '_', '')"
    return f"CASE WHEN jsonb_typeof(data->'{field}') IN ('string', 'number') AND {number} ~ '{NUMBER}' " \
           f"THEN to_jsonb({cast.format(number)}) END"


def upgrade(runtime_role: str) -> None:
    with rls.owner_sees_all("custody_entry"):
        for kinds, cast in ((INTEGERS, "trunc(CAST({} AS numeric))::integer"), (FLOATS, "CAST({} AS float8)")):
            for kind, field in kinds:
                value = _loaded(field, cast)
                op.execute(f"""
                    UPDATE custody_entry SET data = jsonb_set(data, '{{{field}}}', {value})
                    WHERE kind = '{kind}' AND {value} IS NOT NULL AND {value} <> data->'{field}'""")
        true, false = (", ".join(f"'{word}'" for word in words) for words in (TRUE, FALSE))
        for kind, field in BOOLEANS:
            answer = f"lower(btrim(data->>'{field}'))"
            op.execute(f"""
                UPDATE custody_entry SET data = jsonb_set(data, '{{{field}}}', to_jsonb({answer} IN ({true})))
                WHERE kind = '{kind}' AND jsonb_typeof(data->'{field}') IN ('string', 'number')
                  AND {answer} IN ({true}, {false})""")


def downgrade(runtime_role: str) -> None:
    """Nothing to undo: the numbers and booleans are what the entries meant, and what earlier code accepted too."""
