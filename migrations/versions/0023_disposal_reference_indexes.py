"""An index behind each uuid column that may name another record and had none leading with it after the tenant.
Disposal (app/retention/disposal.py) asks every such column whether it still names a record it erases, and clears
the sources that name it (a link's, a warning marker's): without an index each question read the whole force's
table (a document's record, asked without its type, the force's whole index of documents), several times per
record, so a list of 250 records in a force of 100,000 people took 65 s (docs/benchmarks.md).
tests/retention/test_disposal_references.py keeps every column it reads indexed.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# (table, column, whether it may be NULL: then the index leaves out the rows naming nothing): a merged person's
# survivor, a warning marker's and a link's source record, an investigation entry's action done and the person it
# charges, the record a document is attached to.
INDEXES = [
    ("person", "merged_into", True),
    ("person_warning_marker", "source_id", True),
    ("pole_link", "source_id", True),
    ("investigation_entry", "refers_to", True),
    ("investigation_entry", "person_id", True),
    ("document", "record_id", False),
]


def upgrade(runtime_role: str) -> None:
    for table, column, nullable in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column}_named ON {table} (tenant_id, {column})"
                   + (f" WHERE {column} IS NOT NULL" if nullable else ""))


def downgrade(runtime_role: str) -> None:
    for table, column, _ in INDEXES:
        op.execute(f"DROP INDEX {table}_{column}_named")
