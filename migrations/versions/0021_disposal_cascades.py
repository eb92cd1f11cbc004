"""Disposal of investigations, intelligence reports and custody records (PIRM Code of Practice 2023): the runtime
role may delete the append-only rows hanging off them, within its own force, and a tombstone names the record a
cascaded one was disposed of with (an investigation's event and case file, an intelligence report's event).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""
import rls
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# Rows the runtime role could only read and add until now; disposal removes them with their record.
CHILDREN = ("custody_entry", "custody_investigation", "investigation_entry", "victim_contact",
            "intelligence_dissemination", "case_submission", "court_result", "task")


def upgrade(runtime_role: str) -> None:
    for table in CHILDREN:
        rls.own_force(table, runtime_role, ("DELETE",))
    op.execute("ALTER TABLE retention_tombstone ADD COLUMN with_type text, ADD COLUMN with_id uuid, "
               "ADD CONSTRAINT retention_tombstone_with CHECK ((with_type IS NULL) = (with_id IS NULL))")


def downgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE retention_tombstone DROP COLUMN with_type, DROP COLUMN with_id")
    for table in CHILDREN:
        op.execute(f"REVOKE DELETE ON {table} FROM {runtime_role}")
        op.execute(f"DROP POLICY {table}_own_delete ON {table}")
