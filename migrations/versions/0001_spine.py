"""The spine: tenant registry, people, audit trail, idempotency keys, all tenant tables under RLS.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    # Fail closed: a missing or empty setting is NULL, and tenant_id = NULL matches nothing.
    op.execute(
        """
        CREATE FUNCTION app_current_tenant() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        SET search_path = pg_catalog
        AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$
        """
    )
    op.execute(f"GRANT SELECT ON alembic_version TO {runtime_role}")

    # Platform registry (not tenant-owned): written by `concord tenants apply`, read by the app.
    op.execute(
        """
        CREATE TABLE tenant (
            id uuid PRIMARY KEY,
            slug text NOT NULL UNIQUE,
            name text NOT NULL,
            deployment text NOT NULL CHECK (deployment IN ('pooled', 'dedicated')),
            issuer text NOT NULL,
            settings jsonb NOT NULL,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX tenant_issuer_active ON tenant (issuer) WHERE active")
    op.execute(
        """
        CREATE TABLE collaboration (
            slug text PRIMARY KEY,
            name text NOT NULL,
            settings jsonb NOT NULL,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(f"GRANT SELECT ON tenant, collaboration TO {runtime_role}")

    op.execute(
        """
        CREATE TABLE person (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            surname text NOT NULL,
            forenames text NOT NULL,
            surname_key text NOT NULL,
            forenames_key text NOT NULL,
            date_of_birth date,
            sex text NOT NULL CHECK (sex IN ('male', 'female', 'indeterminate', 'unknown')),
            pnc_id text,
            classification text NOT NULL DEFAULT 'OFFICIAL'
                CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT person_pnc_id_unique UNIQUE (tenant_id, pnc_id)
        )
        """
    )
    op.execute("CREATE INDEX person_name ON person (tenant_id, surname_key, forenames_key)")
    op.execute("CREATE INDEX person_date_of_birth ON person (tenant_id, date_of_birth)")
    rls.own_force("person", runtime_role)

    op.execute(
        """
        CREATE TABLE person_other_name (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            person_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('alias', 'maiden_name', 'nickname', 'previous_name')),
            surname text NOT NULL,
            forenames text NOT NULL DEFAULT '',
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    op.execute("CREATE INDEX person_other_name_person ON person_other_name (tenant_id, person_id)")
    rls.own_force("person_other_name", runtime_role)

    # Append-only for the runtime role: SELECT and INSERT policies and grants, nothing else.
    op.execute(
        """
        CREATE TABLE audit_event (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            user_id text NOT NULL,
            action text NOT NULL CHECK (action IN
                ('collection', 'alteration', 'consultation', 'disclosure', 'combination', 'erasure')),
            record_type text NOT NULL,
            record_id text NOT NULL,
            request_id text NOT NULL DEFAULT '',
            purpose text NOT NULL DEFAULT '',
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            PRIMARY KEY (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX audit_event_record ON audit_event (tenant_id, record_id, occurred_at)")
    op.execute("CREATE INDEX audit_event_time ON audit_event (tenant_id, occurred_at)")
    op.execute("CREATE INDEX audit_event_user ON audit_event (tenant_id, user_id, occurred_at)")
    rls.own_force("audit_event", runtime_role, commands=("SELECT", "INSERT"))

    op.execute(
        """
        CREATE TABLE idempotency_key (
            tenant_id uuid NOT NULL,
            user_id text NOT NULL,
            key text NOT NULL,
            fingerprint text NOT NULL,
            status_code integer,
            response jsonb,
            headers jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, key)
        )
        """
    )
    op.execute("CREATE INDEX idempotency_key_created ON idempotency_key (tenant_id, created_at)")
    rls.own_force("idempotency_key", runtime_role)


def downgrade(runtime_role: str) -> None:
    for table in ("idempotency_key", "audit_event", "person_other_name", "person", "collaboration", "tenant"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION app_current_tenant()")
