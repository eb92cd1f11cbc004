"""A force's life as verified commands (`concord tenants onboard/move/export/offboard`): the registry entry says
when the force is in maintenance (its writes answer 503) and when it was offboarded (a tombstone: the slug and
issuer cannot be reused), and each operation is logged with its progress, so it can resume after a crash.

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-01
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE tenant ADD COLUMN maintenance boolean NOT NULL DEFAULT false, "
               "ADD COLUMN offboarded_at timestamptz")
    # Platform table (not tenant-owned: no tenant_id, so a move or export never copies it): one row per operation
    # on a force, its progress (`steps` done) and outcome; the audit trail of the lifecycle commands, which
    # outlives the force itself.
    op.execute(
        """
        CREATE TABLE tenant_operation (
            id uuid PRIMARY KEY,
            slug text NOT NULL,
            operation text NOT NULL CHECK (operation IN ('onboard', 'move', 'export', 'import', 'offboard')),
            status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
            operator text NOT NULL,
            steps jsonb NOT NULL DEFAULT '[]'::jsonb,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX tenant_operation_slug ON tenant_operation (slug, operation, started_at)")
    op.execute("CREATE UNIQUE INDEX tenant_operation_running ON tenant_operation (slug) WHERE status = 'running'")


def downgrade(runtime_role: str) -> None:
    op.execute("DROP TABLE tenant_operation")
    op.execute("ALTER TABLE tenant DROP COLUMN maintenance, DROP COLUMN offboarded_at")
