"""An index behind every foreign key that had none. Deleting a row makes PostgreSQL look in each table referring
to it for rows that still do; without an index on the referring columns that look reads the whole table, once per
row deleted. A lifecycle command removing a force's rows (after a move, at offboarding) deletes all of them, so a
missing index made its removal quadratic: 10,000 custody entries took 27 s to delete (custody_entry refers to
itself through corrects_id); with the index, well under a second. tests/test_tenant_lifecycle_schema.py keeps
every foreign key indexed.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-02
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# (table, referring column, whether it may be NULL: then the index leaves out the rows referring to nothing)
INDEXES = [
    ("court_result", "person_id", False),
    ("court_result", "case_id", False),
    ("custody_entry", "corrects_id", True),
    ("custody_investigation", "charge_entry_id", True),
    ("intelligence_dissemination", "report_id", False),
    ("intelligence_report", "event_id", False),
    ("investigation", "event_id", False),
    ("person_merge", "survivor_id", False),
    ("retention_tombstone", "list_id", False),
    ("victim_contact", "person_id", False),
    ("victim_preference", "person_id", False),
]


def upgrade(runtime_role: str) -> None:
    for table, column, nullable in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column}_fk ON {table} (tenant_id, {column})"
                   + (f" WHERE {column} IS NOT NULL" if nullable else ""))


def downgrade(runtime_role: str) -> None:
    for table, column, _ in INDEXES:
        op.execute(f"DROP INDEX {table}_{column}_fk")
