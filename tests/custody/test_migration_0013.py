"""Migration 0013_custody_investigations goes up, down and up again: the link table under RLS, and the
voluntary attender's arrival-before-arrest check (s.41(2)(c)) replacing the plain one."""
from __future__ import annotations

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine

from app import migrate
from tests.conftest import superuser_url
from tests.test_migrations import DATABASE, fresh_database  # noqa: F401  (the fixture)


def _state() -> tuple[bool, bool, set[str]]:
    with psycopg.connect(superuser_url(DATABASE)) as conn:
        table = conn.execute("SELECT relrowsecurity AND relforcerowsecurity FROM pg_class "
                             "WHERE relname = 'custody_investigation'").fetchone()
        checks = {r[0] for r in conn.execute("SELECT conname FROM pg_constraint "
                                             "WHERE conrelid = 'custody_record'::regclass AND contype = 'c'")}
    return table is not None, bool(table and table[0]), checks


@pytest.mark.committing
def test_0013_upgrades_downgrades_and_upgrades_again(fresh_database):  # noqa: F811
    owner = create_engine(fresh_database.owner_url(fresh_database.runtime_url()))
    try:
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0013")
        up = _state()
        with owner.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            cfg.attributes["runtime_role"] = "concord_app"
            command.downgrade(cfg, "0012")
        down = _state()
        with owner.begin() as conn:
            migrate.upgrade_connection(conn, "concord_app", "0013")
        again = _state()
    finally:
        owner.dispose()
    assert up[:2] == (True, True)
    assert "custody_record_arrival_after_arrest" in up[2] and "custody_record_check" not in up[2]
    assert down[0] is False and "custody_record_check" in down[2]
    assert again == up
