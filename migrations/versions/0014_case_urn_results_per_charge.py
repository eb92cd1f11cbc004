"""Case files get a CPS URN from a per-force counter (gap-free, like crime references), and court results
name the charge they decide, with the plea and the next hearing of an adjournment.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import rls
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE TABLE case_urn_counter (
            tenant_id uuid NOT NULL,
            year integer NOT NULL,
            last integer NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, year)
        )
        """
    )
    rls.own_force("case_urn_counter", runtime_role, commands=("SELECT", "INSERT", "UPDATE"))
    op.execute("ALTER TABLE court_result ADD COLUMN charge_id text, ADD COLUMN plea text, "
               "ADD COLUMN next_hearing date")


def downgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE court_result DROP COLUMN charge_id, DROP COLUMN plea, DROP COLUMN next_hearing")
    op.execute("DROP TABLE case_urn_counter")
