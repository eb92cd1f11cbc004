"""The sealed audit trail: each audit row records its transaction's id, and a per-force Merkle tree of sealed
rows with its signed checkpoints (app/audit/seal.py).

- audit_event.xid: the top-level transaction id of the writer (pg_current_xact_id(), a column default, so the
  request path adds nothing and takes no lock). The sealer seals only rows whose xid is below its snapshot's
  xmin: their transactions have finished, so no row can commit behind the seal.
- audit_leaf: one row per sealed event, its position in the force's tree and its leaf hash.
- audit_checkpoint: one row per seal, the signed (tree size, root hash, time).
- audit_seal_state: the force's seal horizon in this database (an xid): every row below it is sealed. It is a
  cursor of this database's transaction ids, not part of the trail: a force moved to another database leaves
  it behind (the sealer then finds the unsealed rows afresh).

Leaves and checkpoints are append-only for the runtime role (SELECT and INSERT only), under forced RLS; the
sealer runs as the runtime role. Existing rows take this migration's xid, so the first seal takes them all.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""
import rls
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE audit_event ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute("CREATE INDEX audit_event_xid ON audit_event (tenant_id, xid)")
    op.execute(
        """
        CREATE TABLE audit_leaf (
            tenant_id uuid NOT NULL,
            tree_index bigint NOT NULL CHECK (tree_index >= 0),
            event_id uuid NOT NULL,
            leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
            PRIMARY KEY (tenant_id, tree_index),
            UNIQUE (tenant_id, event_id)
        )
        """
    )
    rls.own_force("audit_leaf", runtime_role, commands=("SELECT", "INSERT"))
    op.execute(
        """
        CREATE TABLE audit_checkpoint (
            tenant_id uuid NOT NULL,
            tree_size bigint NOT NULL CHECK (tree_size > 0),
            root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
            sealed_at timestamptz NOT NULL,
            key_id text NOT NULL,
            signature bytea NOT NULL,
            PRIMARY KEY (tenant_id, tree_size)
        )
        """
    )
    rls.own_force("audit_checkpoint", runtime_role, commands=("SELECT", "INSERT"))
    op.execute(
        """
        CREATE TABLE audit_seal_state (
            tenant_id uuid NOT NULL PRIMARY KEY,
            horizon xid8 NOT NULL
        )
        """
    )
    rls.own_force("audit_seal_state", runtime_role, commands=("SELECT", "INSERT", "UPDATE"))


def downgrade(runtime_role: str) -> None:
    op.execute("DROP TABLE audit_seal_state, audit_checkpoint, audit_leaf")
    op.execute("ALTER TABLE audit_event DROP COLUMN xid")
