"""Investigations: crimes and non-crime incidents, their log, actions, and crime reference numbers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE TABLE investigation (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            reference text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('crime', 'non_crime')),
            event_id uuid NOT NULL,
            primary_classification text NOT NULL,
            included_classifications text[] NOT NULL DEFAULT '{}',
            summary text NOT NULL,
            status text NOT NULL CHECK (status IN ('recorded', 'qa', 'allocated', 'under_investigation', 'finalised')),
            officer_in_charge text,
            allocated_at timestamptz,
            acknowledged_at timestamptz,
            outcome_type smallint CHECK (outcome_type BETWEEN 0 AND 22),
            outcome_reason text,
            finalised_at timestamptz,
            classification text NOT NULL DEFAULT 'OFFICIAL'
                CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            do_not_share boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT investigation_reference_unique UNIQUE (tenant_id, reference),
            FOREIGN KEY (tenant_id, event_id) REFERENCES pole_event (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX investigation_oic ON investigation (tenant_id, officer_in_charge, status)")
    rls.own_force("investigation", runtime_role)

    # Log entries and actions are added, never edited away (an action is completed by a new entry).
    op.execute(
        """
        CREATE TABLE investigation_entry (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            investigation_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('log', 'action', 'action_done', 'charge', 'summons', 'status')),
            text text NOT NULL DEFAULT '',
            assignee text,
            due_on date,
            refers_to uuid,
            person_id uuid,
            occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            recorded_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, investigation_id) REFERENCES investigation (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX investigation_entry_investigation ON investigation_entry (tenant_id, investigation_id)")
    rls.own_force("investigation_entry", runtime_role, commands=("SELECT", "INSERT"))

    # Investigations are a shareable record type (migration 0003's pattern); their entries follow them.
    rls.shared_select("investigation", "investigation")
    rls.follows_parent("investigation_entry", "investigation", "investigation_id")

    # Crime reference numbers: one counter per force and year, taken with UPDATE ... RETURNING in the
    # recording transaction, so numbers have no gaps (a rolled-back recording gives its number back).
    op.execute(
        """
        CREATE TABLE investigation_counter (
            tenant_id uuid NOT NULL,
            year integer NOT NULL,
            last integer NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, year)
        )
        """
    )
    rls.own_force("investigation_counter", runtime_role, commands=("SELECT", "INSERT", "UPDATE"))

    # Victims' Code: each victim's contact preferences, and each obligation to tell them of a development.
    op.execute(
        """
        CREATE TABLE victim_preference (
            tenant_id uuid NOT NULL,
            investigation_id uuid NOT NULL,
            person_id uuid NOT NULL,
            enhanced boolean NOT NULL DEFAULT false,
            method text NOT NULL DEFAULT 'phone' CHECK (method IN ('phone', 'email', 'letter', 'in_person')),
            frequency text NOT NULL DEFAULT 'every_development'
                CHECK (frequency IN ('every_development', 'outcomes_only')),
            PRIMARY KEY (tenant_id, investigation_id, person_id),
            FOREIGN KEY (tenant_id, investigation_id) REFERENCES investigation (tenant_id, id),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id)
        )
        """
    )
    rls.own_force("victim_preference", runtime_role)
    op.execute(
        """
        CREATE TABLE victim_contact (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            investigation_id uuid NOT NULL,
            person_id uuid NOT NULL,
            trigger text NOT NULL,
            triggered_at timestamptz NOT NULL,
            due_on date NOT NULL,
            method text NOT NULL,
            contacted_at timestamptz,
            contacted_by text,
            notes text,
            created_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, investigation_id) REFERENCES investigation (tenant_id, id),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX victim_contact_open ON victim_contact (tenant_id, due_on) WHERE contacted_at IS NULL")
    op.execute("CREATE INDEX victim_contact_investigation ON victim_contact (tenant_id, investigation_id)")
    rls.own_force("victim_contact", runtime_role, commands=("SELECT", "INSERT", "UPDATE"))


def downgrade(runtime_role: str) -> None:
    for table in ("victim_contact", "victim_preference", "investigation_counter", "investigation_entry",
                  "investigation"):
        op.execute(f"DROP TABLE {table}")
