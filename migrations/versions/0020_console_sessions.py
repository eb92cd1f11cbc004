"""The console's server-side sessions: one row per signed-in browser, in the force's own database and under its
row-level security. The cookie carries the force's slug and a random secret; the row is found by the secret's
SHA-256 (a stolen database copy holds no usable cookie), and keeps the access token the force's identity
provider issued, so every page is authorised by the same verifier as the API.

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-01
"""
import rls
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE TABLE console_session (
            tenant_id uuid NOT NULL,
            secret_hash text NOT NULL CHECK (length(secret_hash) = 64),
            user_id text NOT NULL,
            access_token text NOT NULL,
            purpose text NOT NULL DEFAULT '' CHECK (length(purpose) <= 500),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, secret_hash)
        )
        """
    )
    op.execute("CREATE INDEX console_session_expiry ON console_session (tenant_id, expires_at)")
    rls.own_force("console_session", runtime_role)


def downgrade(runtime_role: str) -> None:
    op.execute("DROP TABLE console_session")
