"""Custody records name the investigations they belong to (one row per record and investigation, with the
charge the custody record passed on, so it reaches the investigation once); and a voluntary attender later
arrested may have arrived before the arrest (PACE s.41(2)(c)).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""
import rls
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE TABLE custody_investigation (
            tenant_id uuid NOT NULL,
            custody_record_id uuid NOT NULL,
            investigation_id uuid NOT NULL,
            charge_entry_id uuid,
            investigation_charge_id uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            PRIMARY KEY (tenant_id, custody_record_id, investigation_id),
            FOREIGN KEY (tenant_id, custody_record_id) REFERENCES custody_record (tenant_id, id),
            FOREIGN KEY (tenant_id, investigation_id) REFERENCES investigation (tenant_id, id),
            FOREIGN KEY (tenant_id, charge_entry_id) REFERENCES custody_entry (tenant_id, id),
            FOREIGN KEY (tenant_id, investigation_charge_id) REFERENCES investigation_entry (tenant_id, id),
            CONSTRAINT custody_investigation_charge_once UNIQUE (tenant_id, investigation_charge_id)
        )
        """
    )
    op.execute("CREATE INDEX custody_investigation_by_investigation "
               "ON custody_investigation (tenant_id, investigation_id)")
    rls.own_force("custody_investigation", runtime_role, commands=("SELECT", "INSERT", "UPDATE"))
    rls.follows_parent("custody_investigation", "custody_record", "custody_record_id")

    # s.41(2)(c): the clock of a voluntary attender starts at the arrest, which may follow the arrival.
    op.execute("ALTER TABLE custody_record DROP CONSTRAINT custody_record_check")
    op.execute("ALTER TABLE custody_record ADD CONSTRAINT custody_record_arrival_after_arrest "
               "CHECK (voluntary_attender OR arrived_at >= arrested_at)")


def downgrade(runtime_role: str) -> None:
    op.execute("ALTER TABLE custody_record DROP CONSTRAINT custody_record_arrival_after_arrest")
    op.execute("ALTER TABLE custody_record ADD CONSTRAINT custody_record_check CHECK (arrived_at >= arrested_at)")
    op.execute("DROP TABLE custody_investigation")
