"""The POLE store: richer people (identifiers, markers, search keys, merges), objects, locations, events, links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import rls
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CLASSIFICATION = ("classification text NOT NULL DEFAULT 'OFFICIAL' "
                  "CHECK (classification IN ('OFFICIAL', 'OFFICIAL-SENSITIVE'))")
STAMPS = """
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text NOT NULL
"""
ENTITY_TYPES = "('person', 'object', 'location', 'event')"


def upgrade(runtime_role: str) -> None:
    # The bulk import stages rows in session-private temporary tables before inserting them through RLS.
    op.execute("DO $$ BEGIN "
               f"EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {runtime_role}', current_database()); END $$")
    op.execute(
        """
        ALTER TABLE person
            ADD COLUMN date_of_birth_precision text CHECK (date_of_birth_precision IN ('day', 'month', 'year')),
            ADD COLUMN place_of_birth text,
            ADD COLUMN ethnicity_code text,
            ADD COLUMN height_cm smallint CHECK (height_cm BETWEEN 40 AND 260),
            ADD COLUMN build text,
            ADD COLUMN marks text,
            ADD COLUMN tattoos text,
            ADD COLUMN merged_into uuid
        """
    )
    # Dates recorded before precision existed were full dates.
    with rls.owner_sees_all("person"):
        op.execute("UPDATE person SET date_of_birth_precision = 'day' WHERE date_of_birth IS NOT NULL")
    op.execute(
        """
        ALTER TABLE person ADD CONSTRAINT person_precision_with_date
            CHECK ((date_of_birth IS NULL) = (date_of_birth_precision IS NULL))
        """
    )

    op.execute(
        """
        CREATE TABLE person_identifier (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            person_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('cro', 'ni_number', 'passport', 'driving_licence')),
            value text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT person_identifier_unique UNIQUE (tenant_id, kind, value),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id) ON DELETE CASCADE
        )
        """
    )
    op.execute("CREATE INDEX person_identifier_person ON person_identifier (tenant_id, person_id)")
    rls.own_force("person_identifier", runtime_role)

    op.execute(
        """
        CREATE TABLE person_warning_marker (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            person_id uuid NOT NULL,
            code text NOT NULL,
            from_date date NOT NULL,
            review_date date,
            source_type text,
            source_id uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id) ON DELETE CASCADE,
            CHECK (review_date IS NULL OR review_date >= from_date)
        )
        """
    )
    op.execute("CREATE INDEX person_warning_marker_person ON person_warning_marker (tenant_id, person_id)")
    rls.own_force("person_warning_marker", runtime_role)

    # Search keys, computed when a person is written: plain text equality is leakproof, so these indexes
    # stay usable under RLS (DESIGN.md "Search under RLS"). One row per distinct key of a person, with
    # the person's year of birth (0 when unknown) so that a search with a date of birth reads only the
    # key's entries for the years around it. Derived data, rewritten by the service with the person; no
    # foreign key, because checking one per key row costs a third of a bulk import, and a key of a deleted
    # person matches nothing (search joins person).
    op.execute(
        """
        CREATE TABLE person_search_key (
            tenant_id uuid NOT NULL,
            key text NOT NULL,
            birth_year smallint NOT NULL DEFAULT 0,
            person_id uuid NOT NULL,
            alias boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, key, birth_year, person_id, alias)
        )
        """
    )
    op.execute("CREATE INDEX person_search_key_person ON person_search_key (tenant_id, person_id)")
    rls.own_force("person_search_key", runtime_role)
    _key_existing_people()

    op.execute(
        """
        CREATE TABLE person_merge (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            survivor_id uuid NOT NULL,
            duplicate_id uuid NOT NULL,
            reason text NOT NULL,
            moved jsonb NOT NULL,
            merged_at timestamptz NOT NULL DEFAULT now(),
            merged_by text NOT NULL,
            undone_at timestamptz,
            undone_by text,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, survivor_id) REFERENCES person (tenant_id, id),
            FOREIGN KEY (tenant_id, duplicate_id) REFERENCES person (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX person_merge_duplicate ON person_merge (tenant_id, duplicate_id)")
    rls.own_force("person_merge", runtime_role)

    op.execute(
        f"""
        CREATE TABLE pole_object (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            kind text NOT NULL CHECK (kind IN ('vehicle', 'telephone', 'property')),
            vrm text,
            make text,
            model text,
            colour text,
            vin text,
            phone_number text,
            category text,
            description text,
            serial_number text,
            {CLASSIFICATION},
            {STAMPS},
            PRIMARY KEY (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX pole_object_vrm ON pole_object (tenant_id, vrm) WHERE vrm IS NOT NULL")
    op.execute("CREATE INDEX pole_object_phone ON pole_object (tenant_id, phone_number) WHERE phone_number IS NOT NULL")
    op.execute("CREATE INDEX pole_object_serial ON pole_object (tenant_id, serial_number) "
               "WHERE serial_number IS NOT NULL")
    rls.own_force("pole_object", runtime_role)

    op.execute(
        f"""
        CREATE TABLE location (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            address_lines text[] NOT NULL DEFAULT '{{}}',
            town text,
            postcode text,
            uprn bigint CHECK (uprn > 0),
            latitude double precision CHECK (latitude BETWEEN -90 AND 90),
            longitude double precision CHECK (longitude BETWEEN -180 AND 180),
            {CLASSIFICATION},
            {STAMPS},
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT location_uprn_unique UNIQUE (tenant_id, uprn)
        )
        """
    )
    op.execute("CREATE INDEX location_postcode ON location (tenant_id, postcode) WHERE postcode IS NOT NULL")
    rls.own_force("location", runtime_role)

    op.execute(
        f"""
        CREATE TABLE pole_event (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            event_type text NOT NULL,
            occurred_at timestamptz NOT NULL,
            location_id uuid,
            summary text NOT NULL DEFAULT '',
            {CLASSIFICATION},
            {STAMPS},
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, location_id) REFERENCES location (tenant_id, id)
        )
        """
    )
    op.execute("CREATE INDEX pole_event_occurred ON pole_event (tenant_id, occurred_at)")
    op.execute("CREATE INDEX pole_event_location ON pole_event (tenant_id, location_id) WHERE location_id IS NOT NULL")
    rls.own_force("pole_event", runtime_role)

    # Links join any two entities; each end is checked to exist (in the same force) by the service.
    op.execute(
        f"""
        CREATE TABLE pole_link (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            version integer NOT NULL DEFAULT 1,
            from_type text NOT NULL CHECK (from_type IN {ENTITY_TYPES}),
            from_id uuid NOT NULL,
            to_type text NOT NULL CHECK (to_type IN {ENTITY_TYPES}),
            to_id uuid NOT NULL,
            link_type text NOT NULL,
            valid_from date,
            valid_to date,
            source_type text,
            source_id uuid,
            {STAMPS},
            PRIMARY KEY (tenant_id, id),
            CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from),
            CHECK (from_id <> to_id)
        )
        """
    )
    op.execute("CREATE INDEX pole_link_from ON pole_link (tenant_id, from_id)")
    op.execute("CREATE INDEX pole_link_to ON pole_link (tenant_id, to_id)")
    rls.own_force("pole_link", runtime_role)


def downgrade(runtime_role: str) -> None:
    op.execute("DO $$ BEGIN "
               f"EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM {runtime_role}', current_database()); END $$")
    for table in ("pole_link", "pole_event", "location", "pole_object", "person_merge", "person_search_key",
                  "person_warning_marker", "person_identifier"):
        op.execute(f"DROP TABLE {table}")
    op.execute(
        """
        ALTER TABLE person DROP CONSTRAINT person_precision_with_date,
            DROP COLUMN date_of_birth_precision, DROP COLUMN place_of_birth, DROP COLUMN ethnicity_code,
            DROP COLUMN height_cm, DROP COLUMN build, DROP COLUMN marks, DROP COLUMN tattoos, DROP COLUMN merged_into
        """
    )


def _key_existing_people() -> None:
    """People recorded before search keys existed have none yet. Keys are derived data computed by the
    application's matching rules, which change over time; a migration must not import them (it would mean
    something different each time it ran), so they are built afterwards by `concord people rekey`."""
    import sqlalchemy as sa

    with rls.owner_sees_all("person"):
        unkeyed = op.get_bind().execute(sa.text("SELECT count(*) FROM person")).scalar_one()
    if unkeyed:
        print(f"0002: {unkeyed} people recorded before search keys: run `concord people rekey` after upgrading")
