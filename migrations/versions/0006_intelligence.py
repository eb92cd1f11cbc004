"""Intelligence reports (3x5x2), their disseminations, interests in people, and tasks across modules.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATUSES = ("requires_completion", "requires_assessment", "returned_for_correction", "returned_for_deletion",
            "requires_linking", "live", "deleted")


def upgrade(runtime_role: str) -> None:
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    op.execute(
        f"""
        CREATE TABLE intelligence_report (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            event_id uuid NOT NULL,
            status text NOT NULL CHECK (status IN ({statuses})),
            sensitive boolean NOT NULL DEFAULT false,
            unsanitised_text text NOT NULL,
            source_evaluation smallint CHECK (source_evaluation BETWEEN 1 AND 3),
            intelligence_assessment text CHECK (intelligence_assessment IN ('A', 'B', 'C', 'D', 'E')),
            handling_code text CHECK (handling_code IN ('P', 'C')),
            handling_conditions text,
            sanitised_text text,
            sanitised_source_evaluation smallint CHECK (sanitised_source_evaluation BETWEEN 1 AND 3),
            sanitised_assessment text CHECK (sanitised_assessment IN ('A', 'B', 'C', 'D', 'E')),
            sanitised_handling_code text CHECK (sanitised_handling_code IN ('P', 'C')),
            mopi_group smallint CHECK (mopi_group BETWEEN 1 AND 4),
            action_codes text[] NOT NULL DEFAULT '{{}}',
            sanitisation_codes text[] NOT NULL DEFAULT '{{}}',
            legacy_grading jsonb,
            next_review_on date,
            deletion_requested_by text,
            deletion_reason text,
            deleted_by text,
            classification text NOT NULL DEFAULT 'OFFICIAL'
                CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            do_not_share boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, event_id) REFERENCES pole_event (tenant_id, id),
            CHECK (handling_code IS DISTINCT FROM 'C' OR handling_conditions IS NOT NULL)
        )
        """
    )
    op.execute("CREATE INDEX intelligence_report_status ON intelligence_report (tenant_id, status)")
    rls.own_force("intelligence_report", runtime_role)
    # Only the sanitised version, live, with handling code P, ever crosses a force boundary.
    rls.shared_select("intelligence_report", "intelligence", "AND status = 'live' AND sanitised_handling_code = 'P'")

    op.execute(
        """
        CREATE TABLE intelligence_dissemination (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            report_id uuid NOT NULL,
            recipients text[] NOT NULL,
            note text NOT NULL DEFAULT '',
            disseminated_by text NOT NULL,
            disseminated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, report_id) REFERENCES intelligence_report (tenant_id, id)
        )
        """
    )
    rls.own_force("intelligence_dissemination", runtime_role, commands=("SELECT", "INSERT"))

    op.execute(
        """
        CREATE TABLE person_interest (
            tenant_id uuid NOT NULL,
            person_id uuid NOT NULL,
            user_id text NOT NULL,
            registered_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, person_id, user_id),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id)
        )
        """
    )
    rls.own_force("person_interest", runtime_role, commands=("SELECT", "INSERT", "DELETE"))

    # Tasks for a user or for everyone holding a role, from any module.
    op.execute(
        """
        CREATE TABLE task (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            module text NOT NULL,
            record_type text NOT NULL,
            record_id uuid NOT NULL,
            kind text NOT NULL,
            assignee_user text,
            assignee_role text,
            due_on date,
            note text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            done_at timestamptz,
            done_by text,
            PRIMARY KEY (tenant_id, id),
            CHECK (assignee_user IS NOT NULL OR assignee_role IS NOT NULL)
        )
        """
    )
    op.execute("CREATE INDEX task_open_user ON task (tenant_id, assignee_user) WHERE done_at IS NULL")
    op.execute("CREATE INDEX task_open_role ON task (tenant_id, assignee_role) WHERE done_at IS NULL")
    op.execute("CREATE INDEX task_record ON task (tenant_id, record_id)")
    rls.own_force("task", runtime_role, commands=("SELECT", "INSERT", "UPDATE"))


def downgrade(runtime_role: str) -> None:
    for table in ("task", "person_interest", "intelligence_dissemination", "intelligence_report"):
        op.execute(f"DROP TABLE {table}")
