"""Custody: detention records, their append-only entries, and custody numbers per suite and year.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE TABLE custody_record (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            custody_number text NOT NULL,
            suite text NOT NULL,
            person_id uuid NOT NULL,
            arrested_at timestamptz NOT NULL,
            arrest_place text NOT NULL,
            arresting_officer text NOT NULL,
            offences jsonb NOT NULL,
            arrived_at timestamptz NOT NULL,
            arrested_in_other_force_area boolean NOT NULL DEFAULT false,
            arrived_at_relevant_station timestamptz,
            voluntary_attender boolean NOT NULL DEFAULT false,
            relevant_time_override timestamptz,
            override_reason text,
            authorised_at timestamptz,
            authorised_by text,
            grounds text,
            vulnerable boolean NOT NULL DEFAULT false,
            released_at timestamptz,
            outcome text,
            classification text NOT NULL DEFAULT 'OFFICIAL'
                CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            do_not_share boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT custody_number_unique UNIQUE (tenant_id, custody_number),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id),
            CHECK (arrived_at >= arrested_at),
            CHECK (authorised_at IS NULL OR authorised_at >= arrived_at),
            CHECK (released_at IS NULL OR released_at >= arrived_at)
        )
        """
    )
    op.execute("CREATE INDEX custody_record_current ON custody_record (tenant_id, suite) WHERE released_at IS NULL")
    op.execute("CREATE INDEX custody_record_person ON custody_record (tenant_id, person_id)")
    rls.own_force("custody_record", runtime_role)

    # Entries are never edited away: the runtime role may only read and add them; a correction is a new
    # entry that points at the one it corrects.
    op.execute(
        """
        CREATE TABLE custody_entry (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            record_id uuid NOT NULL,
            kind text NOT NULL,
            occurred_at timestamptz NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            recorded_by text NOT NULL,
            data jsonb NOT NULL DEFAULT '{}'::jsonb,
            corrects_id uuid,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, record_id) REFERENCES custody_record (tenant_id, id),
            FOREIGN KEY (tenant_id, corrects_id) REFERENCES custody_entry (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX custody_entry_record ON custody_entry (tenant_id, record_id, occurred_at)")
    rls.own_force("custody_entry", runtime_role, commands=("SELECT", "INSERT"))

    # Custody numbers: one counter per force, suite and year, taken with UPDATE ... RETURNING (no gaps, no races).
    op.execute(
        """
        CREATE TABLE custody_number_counter (
            tenant_id uuid NOT NULL,
            suite text NOT NULL,
            year integer NOT NULL,
            last integer NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, suite, year)
        )
        """
    )
    rls.own_force("custody_number_counter", runtime_role, commands=("SELECT", "INSERT", "UPDATE"))

    # Custody records are a shareable record type: the same select-only sharing policy as the POLE tables
    # (migration 0003); their entries follow the record.
    rls.shared_select("custody_record", "custody")
    rls.follows_parent("custody_entry", "custody_record", "record_id")


def downgrade(runtime_role: str) -> None:
    for table in ("custody_number_counter", "custody_entry", "custody_record"):
        op.execute(f"DROP TABLE {table}")
