"""Migration 0021_disposal_cascades goes up, down and up again: the children of investigations, reports and
custody records deletable by the runtime role within its own force, and the tombstone's 'disposed of with'."""
from __future__ import annotations

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine

from app import migrate
from tests.conftest import superuser_url
from tests.test_migrations import DATABASE, fresh_database  # noqa: F401  (the fixture)


def _state() -> tuple[set[str], set[str], set[str]]:
    with psycopg.connect(superuser_url(DATABASE)) as conn:
        deletable = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.role_table_grants WHERE grantee = 'concord_app' "
            "AND privilege_type = 'DELETE' AND table_name IN ('custody_entry', 'investigation_entry', 'task', "
            "'court_result')")}
        policies = {r[0] for r in conn.execute("SELECT policyname FROM pg_policies WHERE policyname LIKE "
                                               "'%_own_delete' AND tablename IN ('custody_entry', 'task')")}
        columns = {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'retention_tombstone'")}
    return deletable, policies, columns & {"with_type", "with_id"}


@pytest.mark.committing
def test_0021_upgrades_downgrades_and_upgrades_again(fresh_database):  # noqa: F811
    owner = create_engine(fresh_database.owner_url(fresh_database.runtime_url()))
    try:
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0021")
        up = _state()
        with owner.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            cfg.attributes["runtime_role"] = "concord_app"
            command.downgrade(cfg, "0020")
        down = _state()
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0021")
        again = _state()
    finally:
        owner.dispose()
    assert up == ({"custody_entry", "investigation_entry", "task", "court_result"},
                  {"custody_entry_own_delete", "task_own_delete"}, {"with_type", "with_id"})
    assert down == (set(), set(), set())
    assert again == up
