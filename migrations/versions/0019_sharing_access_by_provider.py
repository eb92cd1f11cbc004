"""The shared-read log is keyed by its provider first, like every tenant table by tenant_id: it grows with every
shared read, so on a distributed pool it is a distributed table (by provider_id, the force whose log it is)
rather than a reference table, and its primary key must lead with that column.

Revision ID: 0019
Revises: 0014
Create Date: 2026-12-01
"""
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE sharing_access DROP CONSTRAINT sharing_access_pkey, ADD PRIMARY KEY (provider_id, id)")


def downgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE sharing_access DROP CONSTRAINT sharing_access_pkey, ADD PRIMARY KEY (id)")
