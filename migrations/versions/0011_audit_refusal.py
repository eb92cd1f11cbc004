"""A refused request is an action of its own in the audit trail: `refusal` (a 403, or a 404 for an id the force
cannot see), beside the six of DPA 2018 Part 3 s.62, so that refused attempts are not counted as consultations.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DPA = "'collection', 'alteration', 'consultation', 'disclosure', 'combination', 'erasure'"


def upgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE audit_event DROP CONSTRAINT audit_event_action_check, ADD CONSTRAINT "
               f"audit_event_action_check CHECK (action IN ({DPA}, 'refusal'))")


def downgrade(runtime_role: str) -> None:
    # The trail is append-only: refusals already written stay; NOT VALID checks only rows written from now on.
    op.execute("ALTER TABLE audit_event DROP CONSTRAINT audit_event_action_check, ADD CONSTRAINT "
               f"audit_event_action_check CHECK (action IN ({DPA})) NOT VALID")
