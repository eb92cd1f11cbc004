"""Documents: rows referencing content-addressed objects in the force's storage.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE TABLE document (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            record_type text NOT NULL,
            record_id uuid NOT NULL,
            filename text NOT NULL,
            media_type text NOT NULL,
            size bigint NOT NULL CHECK (size >= 0),
            sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            storage_key text NOT NULL,
            classification text NOT NULL DEFAULT 'OFFICIAL'
                CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            do_not_share boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            PRIMARY KEY (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX document_record ON document (tenant_id, record_type, record_id)")
    op.execute("CREATE INDEX document_key ON document (tenant_id, storage_key)")
    rls.own_force("document", runtime_role, commands=("SELECT", "INSERT"))


def downgrade(runtime_role: str) -> None:
    op.execute("DROP TABLE document")
