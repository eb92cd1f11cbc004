"""Search keys partitioned by force, so that a force's first bulk import builds its key indexes in one pass.

`person_search_key` becomes a table partitioned by `tenant_id`. Every force's keys live in its default
partition until the force's first bulk import; that import loads the keys into a new table, indexes it
in one pass and attaches it as the force's own partition: about three times faster than inserting
millions of rows into two B-tree indexes one by one. Searches and writes still go through the parent
table and its policies; each partition is sealed against direct use (RLS forced, a policy that admits
nothing, no grants).

The runtime role does this only through two functions, which act on the force of its tenant context:

    app_search_keys_bulk_begin()   the name of a new table to COPY the force's keys into (its CHECK
                                   constraint admits no other force's rows), or NULL when the force
                                   already has keys (the import then inserts them through RLS)
    app_search_keys_bulk_finish()  indexes that table and attaches it as the force's partition, unless
                                   keys arrived meanwhile (then they are inserted through the parent)

Attaching scans the default partition (the keys of forces never bulk-loaded) and holds it locked until
the import commits.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = "tenant_id, key, birth_year, person_id, alias, classification, do_not_share"
PRIMARY_KEY = "(tenant_id, key, birth_year, person_id, alias) INCLUDE (classification, do_not_share)"


def upgrade(runtime_role: str) -> None:
    _replace_table("unpartitioned", "PARTITION BY LIST (tenant_id)")
    op.execute("CREATE TABLE person_search_key_default PARTITION OF person_search_key DEFAULT")
    _functions(runtime_role)
    op.execute("SELECT app_search_key_seal('person_search_key_default')")
    with rls.owner_sees_all("person_search_key_unpartitioned"):
        op.execute(f"INSERT INTO person_search_key ({COLUMNS}) SELECT {COLUMNS} FROM person_search_key_unpartitioned "
                   "ORDER BY tenant_id, key, birth_year, person_id, alias")
    op.execute("DROP TABLE person_search_key_unpartitioned")
    rls.own_force("person_search_key", runtime_role)
    rls.shared_select("person_search_key", "person")


def _replace_table(old: str, partitioning: str) -> None:
    """Rename the key table and its indexes to person_search_key_<old>; create it anew (empty, no policies)."""
    op.execute(f"ALTER TABLE person_search_key RENAME TO person_search_key_{old}")
    op.execute(f"ALTER INDEX person_search_key_pkey RENAME TO person_search_key_{old}_pkey")
    op.execute(f"ALTER INDEX person_search_key_person RENAME TO person_search_key_{old}_person")
    op.execute(
        f"""
        CREATE TABLE person_search_key (
            tenant_id uuid NOT NULL,
            key text NOT NULL,
            birth_year smallint NOT NULL DEFAULT 0,
            person_id uuid NOT NULL,
            alias boolean NOT NULL DEFAULT false,
            classification text NOT NULL DEFAULT 'OFFICIAL'
                CONSTRAINT person_search_key_classification_check
                CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE')),
            do_not_share boolean NOT NULL DEFAULT false,
            CONSTRAINT person_search_key_pkey PRIMARY KEY {PRIMARY_KEY}
        ) {partitioning}
        """
    )
    op.execute("CREATE INDEX person_search_key_person ON person_search_key (tenant_id, person_id)")


def _functions(runtime_role: str) -> None:
    # A partition is read and written only through person_search_key, whose policies apply.
    op.execute(
        """
        CREATE FUNCTION app_search_key_seal(name text) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        BEGIN
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
            EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', name);
            EXECUTE format('CREATE POLICY %I ON %I USING (false) WITH CHECK (false)', name || '_direct', name);
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION app_search_keys_bulk_begin() RETURNS text
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        DECLARE
            tenant uuid := app_current_tenant();
            load text := 'person_search_key_' || replace(tenant::text, '-', '') || '_load';
        BEGIN
            IF tenant IS NULL THEN
                RAISE EXCEPTION 'no force in the tenant context';
            END IF;
            -- one first load of a force at a time: a second waits, then finds keys and inserts through RLS
            PERFORM pg_advisory_xact_lock(hashtextextended(load, 0));
            IF EXISTS (SELECT 1 FROM person_search_key WHERE tenant_id = tenant) THEN
                RETURN NULL;
            END IF;
            EXECUTE format('CREATE TABLE %I (LIKE person_search_key INCLUDING DEFAULTS INCLUDING CONSTRAINTS, '
                           'CONSTRAINT %I CHECK (tenant_id = %L))', load, load || '_force', tenant);
            EXECUTE format('GRANT SELECT, INSERT, DELETE ON %I TO {runtime_role}', load);
            RETURN load;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION app_search_keys_bulk_finish() RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
        AS $$
        DECLARE
            tenant uuid := app_current_tenant();
            part text := 'person_search_key_' || replace(tenant::text, '-', '');
            load text := part || '_load';
        BEGIN
            EXECUTE format('REVOKE ALL ON %I FROM {runtime_role}', load);
            -- the indexes first: only the new table is locked while they are built
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY {PRIMARY_KEY}', load, load || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %I (tenant_id, person_id)', load || '_person', load);
            IF to_regclass(part) IS NOT NULL THEN  -- an earlier bulk load's partition, emptied since
                EXECUTE format('LOCK TABLE %I IN SHARE MODE', part);
            END IF;
            LOCK TABLE person_search_key_default IN SHARE MODE;  -- no key reaches the force from here on
            IF EXISTS (SELECT 1 FROM person_search_key WHERE tenant_id = tenant) THEN
                EXECUTE format('INSERT INTO person_search_key ({COLUMNS}) SELECT {COLUMNS} FROM %I '
                               'ORDER BY tenant_id, key, birth_year, person_id, alias', load);
                EXECUTE format('DROP TABLE %I', load);
                RETURN false;
            END IF;
            IF to_regclass(part) IS NOT NULL THEN
                EXECUTE format('ALTER TABLE person_search_key DETACH PARTITION %I', part);
                EXECUTE format('DROP TABLE %I', part);
            END IF;
            EXECUTE format('ALTER TABLE %I RENAME TO %I', load, part);
            EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', part, load || '_force', part || '_force');
            EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', part, load || '_pkey', part || '_pkey');
            EXECUTE format('ALTER INDEX %I RENAME TO %I', load || '_person', part || '_person');
            EXECUTE format('ALTER TABLE person_search_key ATTACH PARTITION %I FOR VALUES IN (%L)', part, tenant);
            PERFORM app_search_key_seal(part);
            EXECUTE format('ANALYZE %I', part);  -- searches straight after the load plan with its statistics
            RETURN true;
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION app_search_key_seal(text), app_search_keys_bulk_begin(), "
               "app_search_keys_bulk_finish() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION app_search_keys_bulk_begin(), app_search_keys_bulk_finish() "
               f"TO {runtime_role}")


def downgrade(runtime_role: str) -> None:
    _replace_table("partitioned", "")
    with rls.owner_sees_all("person_search_key_partitioned"):
        op.execute(f"INSERT INTO person_search_key ({COLUMNS}) SELECT {COLUMNS} FROM person_search_key_partitioned")
    op.execute("DROP TABLE person_search_key_partitioned")
    op.execute("DROP FUNCTION app_search_keys_bulk_begin(), app_search_keys_bulk_finish(), app_search_key_seal(text)")
    rls.own_force("person_search_key", runtime_role)
    rls.shared_select("person_search_key", "person")
