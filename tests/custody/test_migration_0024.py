"""Migration 0024_custody_entry_data_loaded: entries stored with a number or a yes/no as a string hold the number
or boolean after it, every other entry as it was; and the record reads again."""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine

from app import migrate
from tests.conftest import superuser_url
from tests.test_migrations import DATABASE, fresh_database  # noqa: F401  (the fixture)

STORED = {  # as the console and JSON stored them before, and what each becomes
    "warrant": ({"hours": "36", "court": "Northtown"}, {"hours": 36, "court": "Northtown"}),
    "observation_level": ({"level": " 2 "}, {"level": 2}),
    "medication": ({"name": "Insulin", "dose": "10 units", "interval_hours": "8.5", "first_due_at": "2026-12-01"},
                   {"name": "Insulin", "dose": "10 units", "interval_hours": 8.5, "first_due_at": "2026-12-01"}),
    "appropriate_adult": ({"name": "Pat", "relationship": "mother", "police_officer_or_staff": "No"},
                          {"name": "Pat", "relationship": "mother", "police_officer_or_staff": False}),
    "visit": ({"condition": "asleep", "roused": "yes"}, {"condition": "asleep", "roused": True}),
    "legal_advice": ({"requested": 0}, {"requested": False}),
    "rights_given": ({"written_notice": True}, {"written_notice": True}),
    "cell": ({"cell": "12"}, {"cell": "12"}),  # a string field that looks like a number stays a string
    "note": ({"text": "36"}, {"text": "36"}),
}


def _entries(conn: psycopg.Connection, tenant: uuid.UUID) -> dict[str, dict]:
    return dict(conn.execute("SELECT kind, data FROM custody_entry WHERE tenant_id = %s", (tenant,)).fetchall())


@pytest.mark.committing
def test_0024_stores_numbers_and_booleans_as_loaded_and_leaves_the_rest(fresh_database):  # noqa: F811
    owner = create_engine(fresh_database.owner_url(fresh_database.runtime_url()))
    tenant, record = uuid.uuid4(), uuid.uuid4()
    try:
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0023")
        with psycopg.connect(superuser_url(DATABASE), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # the entries alone: their record is not read
            for kind, (data, _) in STORED.items():
                conn.execute("INSERT INTO custody_entry (tenant_id, id, record_id, kind, occurred_at, recorded_by, "
                             "data) VALUES (%s, %s, %s, %s, now(), 'ps-1', %s)",
                             (tenant, uuid.uuid4(), record, kind, json.dumps(data)))
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0024")
        with psycopg.connect(superuser_url(DATABASE)) as conn:
            up = _entries(conn, tenant)
            forced = conn.execute("SELECT relforcerowsecurity FROM pg_class "
                                  "WHERE relname = 'custody_entry'").fetchone()[0]
        with owner.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            cfg.attributes["runtime_role"] = "concord_app"
            command.downgrade(cfg, "0023")
            migrate.upgrade_connection(conn, "concord_app", "0024")
        with psycopg.connect(superuser_url(DATABASE)) as conn:
            again = _entries(conn, tenant)
    finally:
        owner.dispose()
    assert up == {kind: loaded for kind, (_, loaded) in STORED.items()}
    assert type(up["warrant"]["hours"]) is int and type(up["medication"]["interval_hours"]) is float
    assert forced is True
    assert again == up
