"""Sharing between forces: agreements, their history, the compiled grant table, the access log, and a
select-only sharing policy on every shareable table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Shareable tables with their record type. Parent tables carry the classification and the owner's
# "do not share" flag; a child table is shared exactly when its parent row is visible. The search keys
# carry a copy of their person's classification and flag (rewritten with the person), so that a search
# across forces checks each key against the grants directly instead of looking up its person.
PARENTS = {"person": "person", "pole_object": "object", "location": "location", "pole_event": "event",
           "pole_link": "link", "person_search_key": "person"}
CHILDREN = {"person_other_name": "person", "person_identifier": "person", "person_warning_marker": "person"}
CUR = "(SELECT app_current_tenant())"  # the tenant, read once per statement


def upgrade(runtime_role: str) -> None:
    op.execute(
        """
        CREATE FUNCTION app_current_purpose() RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE
        SET search_path = pg_catalog
        AS $$ SELECT coalesce(current_setting('app.purpose', true), '') $$
        """
    )
    for table in PARENTS:
        op.execute(f"ALTER TABLE {table} ADD COLUMN do_not_share boolean NOT NULL DEFAULT false")
    for table in ("pole_link", "person_search_key"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN classification text NOT NULL DEFAULT 'OFFICIAL' "
                   "CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE'))")
    # The two copied columns ride in the search index, so that key lookups stay index-only under the policy.
    op.execute("ALTER TABLE person_search_key DROP CONSTRAINT person_search_key_pkey, "
               "ADD PRIMARY KEY (tenant_id, key, birth_year, person_id, alias) INCLUDE (classification, do_not_share)")
    with rls.owner_sees_all("person"), rls.owner_sees_all("person_search_key"):
        op.execute("UPDATE person_search_key k SET classification = p.classification FROM person p "
                   "WHERE p.tenant_id = k.tenant_id AND p.id = k.person_id AND p.classification <> 'OFFICIAL'")

    # Agreements span forces, so they have no tenant_id: the provider, the consumers and the
    # collaboration administrators' forces each see them, through their own policies.
    op.execute(
        """
        CREATE TABLE sharing_agreement (
            id uuid PRIMARY KEY,
            version integer NOT NULL DEFAULT 1,
            provider_id uuid NOT NULL,
            consumer_tenant_id uuid,
            consumer_collaboration text,
            consumer_ids uuid[] NOT NULL,
            admin_tenant_ids uuid[] NOT NULL DEFAULT '{}',
            status text NOT NULL CHECK (status IN ('proposed', 'active', 'suspended', 'revoked')),
            record_types text[] NOT NULL,
            max_classification text NOT NULL CHECK (max_classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            handling_codes text[] NOT NULL DEFAULT '{P}',
            field_profile jsonb NOT NULL,
            purpose text NOT NULL,
            lawful_basis text NOT NULL,
            valid_from timestamptz NOT NULL,
            valid_to timestamptz,
            provider_approved_by text,
            provider_approved_at timestamptz,
            collaboration_approved_by text,
            collaboration_approved_at timestamptz,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((consumer_tenant_id IS NULL) <> (consumer_collaboration IS NULL)),
            CHECK (valid_to IS NULL OR valid_to > valid_from)
        )
        """
    )
    op.execute("CREATE INDEX sharing_agreement_provider ON sharing_agreement (provider_id)")
    op.execute("CREATE INDEX sharing_agreement_consumers ON sharing_agreement USING gin (consumer_ids)")
    _policies("sharing_agreement", runtime_role, {
        "SELECT": f"USING (provider_id = {CUR} OR {CUR} = ANY(consumer_ids) OR {CUR} = ANY(admin_tenant_ids))",
        "INSERT": f"WITH CHECK (provider_id = {CUR})",
        "UPDATE": f"USING (provider_id = {CUR} OR {CUR} = ANY(admin_tenant_ids)) "
                  f"WITH CHECK (provider_id = {CUR} OR {CUR} = ANY(admin_tenant_ids))",
    })

    # Every proposal, approval, transition and change of terms: who, from which force, why, and the terms.
    op.execute(
        """
        CREATE TABLE sharing_agreement_event (
            id uuid PRIMARY KEY,
            agreement_id uuid NOT NULL REFERENCES sharing_agreement (id),
            version integer NOT NULL,
            action text NOT NULL,
            reason text NOT NULL DEFAULT '',
            actor_tenant_id uuid NOT NULL,
            actor_user text NOT NULL,
            status_after text NOT NULL,
            terms jsonb NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )
    op.execute("CREATE INDEX sharing_agreement_event_agreement ON sharing_agreement_event (agreement_id, occurred_at)")
    visible = "EXISTS (SELECT 1 FROM sharing_agreement a WHERE a.id = agreement_id)"  # the agreement's own RLS decides
    _policies("sharing_agreement_event", runtime_role, {
        "SELECT": f"USING ({visible})",
        "INSERT": f"WITH CHECK (actor_tenant_id = {CUR} AND {visible})",
    })

    # The compiled grants: one row per consumer, provider, record type and classification released. The
    # sharing policies read it through one uncorrelated subquery; expiry is the valid_to it carries.
    op.execute(
        """
        CREATE TABLE sharing_grant (
            consumer_id uuid NOT NULL,
            record_type text NOT NULL,
            provider_id uuid NOT NULL,
            classification text NOT NULL,
            agreement_id uuid NOT NULL REFERENCES sharing_agreement (id),
            masked text[] NOT NULL DEFAULT '{}',
            valid_from timestamptz NOT NULL,
            valid_to timestamptz,
            PRIMARY KEY (consumer_id, record_type, provider_id, classification, agreement_id)
        )
        """
    )
    op.execute("CREATE INDEX sharing_grant_agreement ON sharing_grant (agreement_id)")
    op.execute("CREATE INDEX sharing_grant_provider ON sharing_grant (provider_id, record_type)")
    writable = (f"EXISTS (SELECT 1 FROM sharing_agreement a WHERE a.id = agreement_id "
                f"AND (a.provider_id = {CUR} OR {CUR} = ANY(a.admin_tenant_ids)))")
    _policies("sharing_grant", runtime_role, {
        "SELECT": f"USING (consumer_id = {CUR} OR provider_id = {CUR})",
        "INSERT": f"WITH CHECK ({writable})",
        "DELETE": f"USING ({writable})",
    })

    # Every record a consumer was given: written by the consumer, read by the provider (its access log).
    op.execute(
        """
        CREATE TABLE sharing_access (
            id uuid PRIMARY KEY,
            consumer_id uuid NOT NULL,
            provider_id uuid NOT NULL,
            user_id text NOT NULL,
            record_type text NOT NULL,
            record_id uuid NOT NULL,
            agreement_ids uuid[] NOT NULL,
            purpose text NOT NULL,
            request_id text NOT NULL DEFAULT '',
            occurred_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
        """
    )
    op.execute("CREATE INDEX sharing_access_provider ON sharing_access (provider_id, occurred_at)")
    op.execute("CREATE INDEX sharing_access_consumer ON sharing_access (consumer_id, occurred_at)")
    _policies("sharing_access", runtime_role, {
        "SELECT": f"USING (provider_id = {CUR} OR consumer_id = {CUR})",
        "INSERT": f"WITH CHECK (consumer_id = {CUR})",
    })

    # The sharing policies: SELECT only (a consumer can never insert, update or delete a provider's row),
    # only with a stated purpose, never a row its owner marked "do not share".
    for table, record_type in PARENTS.items():
        rls.shared_select(table, record_type)
    for table, parent in CHILDREN.items():
        rls.follows_parent(table, parent, "person_id")


def _policies(table: str, runtime_role: str, policies: dict[str, str]) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for command, clause in policies.items():
        op.execute(f"CREATE POLICY {table}_{command.lower()} ON {table} AS PERMISSIVE FOR {command} {clause}")
    op.execute(f"GRANT {', '.join(policies)} ON {table} TO {runtime_role}")


def downgrade(runtime_role: str) -> None:
    for table in CHILDREN:
        op.execute(f"DROP POLICY {table}_shared_select ON {table}")
    for table in PARENTS:
        op.execute(f"DROP POLICY {table}_shared_select ON {table}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN do_not_share")
    op.execute("ALTER TABLE pole_link DROP COLUMN classification")
    op.execute("ALTER TABLE person_search_key DROP CONSTRAINT person_search_key_pkey, "
               "ADD PRIMARY KEY (tenant_id, key, birth_year, person_id, alias)")
    op.execute("ALTER TABLE person_search_key DROP COLUMN classification")
    for table in ("sharing_access", "sharing_grant", "sharing_agreement_event", "sharing_agreement"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION app_current_purpose()")
