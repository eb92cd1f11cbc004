"""Retention (PIRM Code of Practice 2023): each record's group, next review date and restriction; reviews, two-person
disposal lists frozen once approved, and the tombstones disposal leaves.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01
"""
import rls
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The tables of every record type (app.db.Record); a guard test checks this list against the registry.
RECORD_TABLES = ("person", "pole_object", "location", "pole_event", "pole_link", "intelligence_report",
                 "custody_record", "investigation", "case_file")


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE FUNCTION app_restricted_access() RETURNS boolean
        LANGUAGE sql STABLE PARALLEL SAFE
        SET search_path = pg_catalog
        AS $$ SELECT coalesce(current_setting('app.restricted_access', true), '') = 'on' $$
        """
    )
    for table in RECORD_TABLES:
        # Filled by the application when a record is next written, or by `concord retention recompute`.
        op.execute(f"""
            ALTER TABLE {table}
                ADD COLUMN retention_group smallint CHECK (retention_group BETWEEN 1 AND 4),
                ADD COLUMN review_on date,
                ADD COLUMN retained_to date,
                ADD COLUMN restricted boolean NOT NULL DEFAULT false
        """)
        op.execute(f"CREATE INDEX {table}_review_on ON {table} (tenant_id, review_on) WHERE review_on IS NOT NULL")
        op.execute(f"CREATE INDEX {table}_restricted ON {table} (tenant_id) WHERE restricted")
        rls.restricted_hidden(table)
    # A restricted record's documents, and the links that would show it from their other end, are hidden with it.
    # The ids come from a definer function that reads them with restricted access for a moment (the caller's RLS
    # would hide them) and gives it back before returning, for the transaction's force only; one uncorrelated
    # subquery per statement.
    selects = " UNION ALL ".join(f"SELECT id FROM {table} WHERE tenant_id = app_current_tenant() AND restricted"
                                 for table in RECORD_TABLES)
    op.execute(
        f"""
        CREATE FUNCTION app_restricted_ids() RETURNS SETOF uuid
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = public, pg_catalog
        AS $$
        DECLARE
            had text := coalesce(current_setting('app.restricted_access', true), '');
        BEGIN
            PERFORM set_config('app.restricted_access', 'on', true);
            RETURN QUERY {selects};
            PERFORM set_config('app.restricted_access', had, true);
        END
        $$
        """
    )
    op.execute(f"GRANT EXECUTE ON FUNCTION app_restricted_ids() TO {runtime_role}")
    rls.restricted_ends("document", ("record_id",))
    rls.restricted_ends("pole_link", ("from_id", "to_id"))

    # Disposal removes a record's documents (until now append-only for the runtime role).
    rls.own_force("document", runtime_role, ("DELETE",))

    op.execute(
        """
        CREATE TABLE retention_review (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            record_type text NOT NULL,
            record_id uuid NOT NULL,
            retention_group smallint NOT NULL CHECK (retention_group BETWEEN 1 AND 4),
            policy_version text NOT NULL,
            decision text NOT NULL CHECK (decision IN ('retain', 'dispose')),
            criteria text[] NOT NULL DEFAULT '{}',
            rationale text NOT NULL,
            next_review_on date,
            decided_by text NOT NULL,
            decided_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, id),
            CHECK ((decision = 'retain') = (next_review_on IS NOT NULL))
        )
        """
    )
    op.execute("CREATE INDEX retention_review_record ON retention_review (tenant_id, record_id, decided_at)")
    rls.own_force("retention_review", runtime_role, ("SELECT", "INSERT", "DELETE"))

    op.execute(
        """
        CREATE TABLE disposal_list (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            status text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'executed')),
            items_hash text NOT NULL,
            proposed_by text NOT NULL,
            proposed_at timestamptz NOT NULL DEFAULT now(),
            approved_by text,
            approved_at timestamptz,
            executed_by text,
            executed_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            CHECK (approved_by IS NULL OR approved_by <> proposed_by),
            CHECK ((status = 'proposed') = (approved_by IS NULL))
        )
        """
    )
    rls.own_force("disposal_list", runtime_role, ("SELECT", "INSERT", "UPDATE"))

    # A list's items: ids and groups only. Once the list is no longer proposed nothing can join it (the insert
    # policy), and the runtime role can neither change nor remove an item.
    op.execute(
        """
        CREATE TABLE disposal_item (
            tenant_id uuid NOT NULL,
            list_id uuid NOT NULL,
            record_type text NOT NULL,
            record_id uuid NOT NULL,
            retention_group smallint NOT NULL,
            review_id uuid NOT NULL,
            PRIMARY KEY (tenant_id, list_id, record_type, record_id),
            FOREIGN KEY (tenant_id, list_id) REFERENCES disposal_list (tenant_id, id)
        )
        """
    )
    rls.own_force("disposal_item", runtime_role, ("SELECT",))
    op.execute(
        f"""
        CREATE POLICY disposal_item_own_insert ON disposal_item AS PERMISSIVE FOR INSERT WITH CHECK (
            {rls.TENANT} AND EXISTS (SELECT 1 FROM disposal_list l WHERE l.tenant_id = disposal_item.tenant_id
                                     AND l.id = disposal_item.list_id AND l.status = 'proposed'))
        """
    )
    op.execute(f"GRANT INSERT ON disposal_item TO {runtime_role}")

    # What disposal leaves: the record's type, id and group, the decision, when and who. No personal content.
    op.execute(
        """
        CREATE TABLE retention_tombstone (
            tenant_id uuid NOT NULL,
            record_type text NOT NULL,
            record_id uuid NOT NULL,
            retention_group smallint NOT NULL,
            decision text NOT NULL,
            review_id uuid NOT NULL,
            list_id uuid NOT NULL,
            approved_by text NOT NULL,
            disposed_by text NOT NULL,
            disposed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, record_type, record_id),
            FOREIGN KEY (tenant_id, list_id) REFERENCES disposal_list (tenant_id, id)
        )
        """
    )
    rls.own_force("retention_tombstone", runtime_role, ("SELECT", "INSERT"))


def downgrade(runtime_role: str) -> None:
    for table in ("retention_tombstone", "disposal_item", "disposal_list", "retention_review"):
        op.execute(f"DROP TABLE {table}")
    op.execute(f"REVOKE DELETE ON document FROM {runtime_role}")
    op.execute("DROP POLICY document_own_delete ON document")
    op.execute("DROP POLICY document_restricted_ends ON document")
    op.execute("DROP POLICY pole_link_restricted_ends ON pole_link")
    op.execute("DROP FUNCTION app_restricted_ids()")
    for table in RECORD_TABLES:
        op.execute(f"DROP POLICY {table}_restricted ON {table}")
        op.execute(f"DROP INDEX {table}_restricted")
        op.execute(f"ALTER TABLE {table} DROP COLUMN retention_group, DROP COLUMN review_on, "
                   "DROP COLUMN retained_to, DROP COLUMN restricted")
    op.execute("DROP FUNCTION app_restricted_access()")
