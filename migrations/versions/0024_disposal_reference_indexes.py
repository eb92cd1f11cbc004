"""An index behind each uuid column that may name another record, is no foreign key and had none. Disposal
(app/retention/disposal.py) asks every such column whether it still names a record it erases, and clears the
sources that name it (a link's, a warning marker's): without an index each question read the whole force's table,
several times per record, so a list of 250 records in a force of 100,000 people took 76 s (docs/benchmarks.md).
The columns are mostly empty: the indexes leave out the rows naming nothing.

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-02
"""
from alembic import op

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None

# (table, column): a merged person's survivor, a warning marker's and a link's source record, an investigation
# entry's correction and the person it charges.
INDEXES = [
    ("person", "merged_into"),
    ("person_warning_marker", "source_id"),
    ("pole_link", "source_id"),
    ("investigation_entry", "refers_to"),
    ("investigation_entry", "person_id"),
]


def upgrade(runtime_role: str) -> None:
    for table, column in INDEXES:
        op.execute(f"CREATE INDEX {table}_{column}_named ON {table} (tenant_id, {column}) WHERE {column} IS NOT NULL")


def downgrade(runtime_role: str) -> None:
    for table, column in INDEXES:
        op.execute(f"DROP INDEX {table}_{column}_named")
