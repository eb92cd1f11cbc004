"""Migrations carry existing records forward: data written before a revision is right after it."""
from __future__ import annotations

import dataclasses
import uuid

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine

from app import embedded, migrate
from app.config import ROOT, Settings
from app.db import Databases
from app.people.rekey import rekey
from app.tenancy import config as tenancy_config
from tests.conftest import superuser_url

DATABASE = "concord_test_migrations"


@pytest.fixture
def fresh_database(settings):
    with psycopg.connect(superuser_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    embedded.bootstrap([DATABASE])
    yield Settings(environment="test", database_url=embedded.runtime_url(DATABASE), var_dir=settings.var_dir)
    with psycopg.connect(superuser_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


@pytest.mark.committing
def test_people_recorded_before_the_pole_revision_get_a_precision_and_then_search_keys_by_rekey(fresh_database):
    owner = create_engine(fresh_database.owner_url(fresh_database.runtime_url()))
    try:
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0001")
        tenant, person = uuid.uuid4(), uuid.uuid4()
        with psycopg.connect(superuser_url(DATABASE), autocommit=True) as conn:
            conn.execute("INSERT INTO person (tenant_id, id, surname, forenames, surname_key, forenames_key, "
                         "date_of_birth, sex, created_by, updated_by) VALUES "
                         "(%s, %s, 'O''Brien', 'Siobhan', 'OBRIEN', 'SIOBHAN', '1980-02-03', 'female', 't', 't')",
                         (tenant, person))
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "head")
        # the keys are derived by today's matching rules, after the migrations (which import no app code)
        force = dataclasses.replace(tenancy_config.load(ROOT / "tenants").tenants["northshire"], id=tenant)
        databases = Databases(fresh_database)
        try:
            assert rekey(databases, force) == 1
        finally:
            databases.dispose()
        with psycopg.connect(superuser_url(DATABASE)) as conn:
            precision = conn.execute("SELECT date_of_birth_precision FROM person").fetchone()
            keys = {r[0] for r in conn.execute("SELECT key FROM person_search_key WHERE person_id = %s", (person,))}
            forced = conn.execute("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'person'").fetchone()
    finally:
        owner.dispose()
    assert precision == ("day",)
    assert {"SE:OBRIEN", "FE:SIOBHAN"} <= keys
    assert forced == (True,)


@pytest.mark.committing
def test_search_keys_move_into_partitions_by_force_and_back(fresh_database):
    """Migration 0009 carries every force's keys into the partitioned table, and its downgrade back."""
    owner = create_engine(fresh_database.owner_url(fresh_database.runtime_url()))
    tenant, person = uuid.uuid4(), uuid.uuid4()

    def keys() -> set[str]:
        with psycopg.connect(superuser_url(DATABASE)) as conn:
            return {r[0] for r in conn.execute("SELECT key FROM person_search_key WHERE person_id = %s", (person,))}

    def partitioned() -> bool:
        with psycopg.connect(superuser_url(DATABASE)) as conn:
            return conn.execute("SELECT relkind FROM pg_class WHERE relname = 'person_search_key'").fetchone()[0] == "p"

    try:
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0008")
        with psycopg.connect(superuser_url(DATABASE), autocommit=True) as conn:
            conn.execute("INSERT INTO person_search_key (tenant_id, key, birth_year, person_id) VALUES "
                         "(%s, 'SE:OBRIEN', 1980, %s), (%s, 'FE:SIOBHAN', 1980, %s)", (tenant, person, tenant, person))
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0009")
        after_upgrade = (partitioned(), keys())
        with owner.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            cfg.attributes["runtime_role"] = "concord_app"
            command.downgrade(cfg, "0008")
        after_downgrade = (partitioned(), keys())
    finally:
        owner.dispose()
    assert after_upgrade == (True, {"SE:OBRIEN", "FE:SIOBHAN"})
    assert after_downgrade == (False, {"SE:OBRIEN", "FE:SIOBHAN"})
