"""Case files: the file built from an investigation, its submissions (frozen versions), court results.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE TABLE case_file (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            investigation_id uuid NOT NULL,
            anticipated_plea text CHECK (anticipated_plea IN ('GAP', 'NGAP')),
            forms jsonb NOT NULL,
            classification text NOT NULL DEFAULT 'OFFICIAL'
                CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            do_not_share boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT case_file_investigation_unique UNIQUE (tenant_id, investigation_id),
            FOREIGN KEY (tenant_id, investigation_id) REFERENCES investigation (tenant_id, id)
        )
        """
    )
    rls.own_force("case_file", runtime_role)
    op.execute(
        """
        CREATE TABLE case_submission (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            case_id uuid NOT NULL,
            case_version integer NOT NULL,
            stage text NOT NULL CHECK (stage IN ('charging_decision', 'first_hearing')),
            bundle_key text NOT NULL,
            bundle_sha256 text NOT NULL,
            snapshot jsonb NOT NULL,
            submitted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            submitted_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, case_id) REFERENCES case_file (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX case_submission_case ON case_submission (tenant_id, case_id)")
    rls.own_force("case_submission", runtime_role, commands=("SELECT", "INSERT"))
    op.execute(
        """
        CREATE TABLE court_result (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            case_id uuid NOT NULL,
            person_id uuid NOT NULL,
            result text NOT NULL CHECK (result IN ('guilty', 'not_guilty', 'dismissed', 'withdrawn', 'adjourned')),
            sentence text,
            decided_on date NOT NULL,
            recorded_by text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, case_id) REFERENCES case_file (tenant_id, id),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id)
        )
        """
    )
    rls.own_force("court_result", runtime_role, commands=("SELECT", "INSERT"))

    # Case files are a shareable record type (migration 0003's pattern); their submissions follow them.
    rls.shared_select("case_file", "case")
    # A document is shared exactly when the record it is attached to is visible to the other force.
    attached = " OR ".join(
        f"(record_type = '{record_type}' AND EXISTS (SELECT 1 FROM {table} r "
        f"WHERE r.tenant_id = document.tenant_id AND r.id = document.record_id))"
        for record_type, table in (("person", "person"), ("object", "pole_object"), ("location", "location"),
                                   ("event", "pole_event"), ("link", "pole_link"), ("custody", "custody_record"),
                                   ("investigation", "investigation"), ("intelligence", "intelligence_report")))
    op.execute(
        f"""
        CREATE POLICY document_shared_select ON document AS PERMISSIVE FOR SELECT USING (
            tenant_id <> (SELECT app_current_tenant()) AND NOT do_not_share AND ({attached})
        )
        """
    )


def downgrade(runtime_role: str) -> None:
    op.execute("DROP POLICY document_shared_select ON document")
    for table in ("court_result", "case_submission", "case_file"):
        op.execute(f"DROP TABLE {table}")
