"""The database keeps forces apart: each test fails if the protection it checks is removed."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app.db import TenantContext, UnsafeRuntimeRole, check_runtime_role, tenant_context
from app.people.models import Person
from tests.conftest import POOL_DB, superuser_url, tenant_tables, unique


@pytest.mark.parametrize("database", [POOL_DB, f"{POOL_DB}_lakeshire"])
def test_every_tenant_table_has_rls_enabled_forced_and_policies(database):
    with psycopg.connect(superuser_url(database)) as conn:
        tables = tenant_tables(conn)
        assert {"person", "person_other_name", "audit_event", "idempotency_key"} <= set(tables)
        for table in tables:
            enabled, forced, policies = conn.execute(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                "FROM pg_class c WHERE c.oid = %s::regclass", (table,)
            ).fetchone()
            assert (enabled, forced) == (True, True), table
            assert policies >= 1, table
            # tenant_id leads the primary key, every unique constraint, foreign key and index
            leading = conn.execute(
                "SELECT i.indexrelid::regclass::text, a.attname FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                "WHERE i.indrelid = %s::regclass", (table,)
            ).fetchall()
            assert leading and all(col == "tenant_id" for _, col in leading), (table, leading)
            fks = conn.execute(
                "SELECT conname, (SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = conkey[1]) "
                "FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'", (table,)
            ).fetchall()
            assert all(col == "tenant_id" for _, col in fks), (table, fks)


@pytest.mark.parametrize("database", [POOL_DB, f"{POOL_DB}_lakeshire"])
def test_search_key_partitions_are_sealed_and_reached_only_through_their_parent(database, settings):
    with psycopg.connect(superuser_url(database)) as conn:
        partitions = [r[0] for r in conn.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'person_search_key'::regclass")]
        assert "person_search_key_default" in partitions
        for name in partitions:
            sealed = conn.execute(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "has_table_privilege(%s, c.oid, 'SELECT,INSERT,UPDATE,DELETE'), "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                "FROM pg_class c WHERE c.oid = %s::regclass",
                (settings.runtime_role, name)).fetchone()
            assert sealed == (True, True, False, 1), name


def test_runtime_role_is_not_owner_superuser_or_bypassrls(services, superuser):
    role = services.settings.runtime_role
    superuser_flag, bypass = superuser.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
    ).fetchone()
    owned = superuser.execute(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)", (role,)
    ).fetchone()[0]
    assert (superuser_flag, bypass, owned) == (False, False, 0)
    check_runtime_role(services.databases.pool)  # the start-up check agrees


def test_start_up_check_refuses_owner_and_superuser(settings):
    owner = create_engine(settings.owner_url(settings.runtime_url()))
    with pytest.raises(UnsafeRuntimeRole, match="owns"):
        check_runtime_role(owner)
    root = create_engine(superuser_url().replace("postgresql://", "postgresql+psycopg://"))
    with pytest.raises(UnsafeRuntimeRole, match="superuser"):
        check_runtime_role(root)
    owner.dispose()
    root.dispose()


def test_runtime_role_without_context_sees_no_rows_of_any_tenant_table(services, north, south, superuser):
    north.create_person(surname=unique())
    south.create_person(surname=unique())
    conn = services.databases.overrides["pool"]  # the test's own transaction: the rows above are in it
    tables = tenant_tables(superuser)
    visible_with_context = {}
    for tenant_id in (services.registry.by_slug("northshire").id,):
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        visible_with_context = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}
    assert visible_with_context["person"] > 0 and visible_with_context["audit_event"] > 0
    conn.execute(text("SELECT set_config('app.tenant_id', '', true)"))
    for table in tables:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table
    conn.execute(text("RESET app.tenant_id"))
    for table in tables:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table


@pytest.fixture
def committed_people(services, as_user, superuser):
    """One person in each of two forces, committed (for tests that look from outside a transaction)."""
    marker = unique("Committed")
    created = {}
    for slug in ("northshire", "southshire"):
        created[slug] = as_user(slug, "investigator", user="isolation-test").create_person(surname=marker)
    yield created
    superuser.execute("DELETE FROM audit_event WHERE user_id = 'isolation-test'")
    superuser.execute("DELETE FROM person WHERE surname = %s", (marker,))


@pytest.mark.committing
def test_a_pooled_connection_carries_no_tenant_to_the_next_transaction(services, settings, committed_people):
    engine = create_engine(settings.runtime_url(), pool_size=1, max_overflow=0)
    north = services.registry.by_slug("northshire")
    try:
        with tenant_context(TenantContext(north.id, "isolation-test")):
            session = Session(bind=engine, autobegin=False)
            with session.begin():
                pid_first = session.execute(text("SELECT pg_backend_pid()")).scalar()
                seen_as_north = session.scalars(select(Person.id)).all()
            session.close()
        with tenant_context(None):
            session = Session(bind=engine, autobegin=False)
            session.info["tenant_criteria"] = False  # RLS alone must hide everything
            with session.begin():
                pid_second = session.execute(text("SELECT pg_backend_pid()")).scalar()
                setting = session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
                raw_rows = session.execute(text("SELECT count(*) FROM person")).scalar()
                orm_rows = session.scalars(select(Person)).all()
            session.close()
    finally:
        engine.dispose()
    assert str(committed_people["northshire"]["id"]) in {str(i) for i in seen_as_north}
    assert pid_first == pid_second  # the very same backend connection
    assert setting in ("", None)
    assert raw_rows == 0 and orm_rows == []


def test_rls_alone_isolates_with_orm_criteria_switched_off(services, north, south):
    a = north.create_person(surname=unique("A"))
    b = south.create_person(surname=unique("B"))
    tenant = services.registry.by_slug("northshire")
    session = services.databases.session(tenant, tenant_criteria=False)
    south_id = services.registry.by_slug("southshire").id
    with tenant_context(TenantContext(tenant.id, "t")), session.begin():
        ids = {str(p.id) for p in session.scalars(select(Person))}
        explicit = session.scalars(select(Person).where(Person.tenant_id == south_id)).all()
    assert a["id"] in ids and b["id"] not in ids
    assert explicit == []


@pytest.mark.committing
def test_orm_criteria_alone_isolate_when_rls_is_bypassed(services, committed_people):
    north = services.registry.by_slug("northshire")
    root = create_engine(superuser_url().replace("postgresql://", "postgresql+psycopg://"))
    seen = {}
    try:
        for criteria in (True, False):
            session = Session(bind=root, autobegin=False)
            session.info["tenant_criteria"] = criteria
            with tenant_context(TenantContext(north.id, "t")), session.begin():
                ids = {str(i) for i in session.scalars(select(Person.id))}
            session.close()
            seen[criteria] = ids
    finally:
        root.dispose()
    north_id, south_id = committed_people["northshire"]["id"], committed_people["southshire"]["id"]
    assert north_id in seen[True] and south_id not in seen[True]
    assert south_id in seen[False]  # the superuser really bypasses RLS: the criteria did the work


def test_a_row_of_one_force_cannot_reference_a_row_of_another(services, north, south):
    b = south.create_person(surname=unique())
    north_tenant = services.registry.by_slug("northshire")
    conn = services.databases.overrides["pool"]
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(north_tenant.id)})
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError, match="foreign key"):
        conn.execute(
            text("INSERT INTO person_other_name (tenant_id, id, person_id, kind, surname) "
                 "VALUES (:t, :id, :p, 'alias', 'X')"),
            {"t": north_tenant.id, "id": uuid.uuid4(), "p": b["id"]},
        )
    savepoint.rollback()
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match="row-level security"):
        conn.execute(
            text("INSERT INTO person_other_name (tenant_id, id, person_id, kind, surname) "
                 "VALUES (:t, :id, :p, 'alias', 'X')"),
            {"t": services.registry.by_slug("southshire").id, "id": uuid.uuid4(), "p": b["id"]},
        )
    savepoint.rollback()

