"""`concord tenants plan` changes nothing and warns of dangerous changes; `apply` refuses them unless told."""
from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from app.cli import cli
from app.config import ROOT
from app.tenancy import config as tenancy_config
from app.tenancy import service as tenancy_service
from tests.conftest import superuser_url


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    return tmp_path / "tenants"


def _edit(path: Path, old: str, new: str) -> None:
    text_ = path.read_text()
    assert old in text_
    path.write_text(text_.replace(old, new))


def _databases() -> set[str]:
    with psycopg.connect(superuser_url("postgres"), autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_plan_creates_no_database_and_no_data_directory(settings, tmp_path):
    before = _databases()
    env = {"DATABASE_URL": None, "CONCORD_ENV": "test", "CONCORD_VAR_DIR": str(ROOT / "var")}
    embedded = CliRunner().invoke(cli, ["tenants", "plan"], env=env)
    assert embedded.exit_code == 0, embedded.output
    assert _databases() == before  # it used to create the pooled and each dedicated database
    fresh = CliRunner().invoke(cli, ["tenants", "plan"], env={**env, "CONCORD_VAR_DIR": str(tmp_path / "var")})
    assert fresh.exit_code == 0, fresh.output
    assert "nothing applied yet" in fresh.output and "+ force lakeshire" in fresh.output
    assert not (tmp_path / "var" / "pgdata").exists()


def test_plan_reads_in_a_transaction_that_cannot_write(settings):
    engine = create_engine(settings.owner_url(settings.runtime_url()))
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            assert tenancy_service.plan(conn, tenancy_config.load(ROOT / "tenants")) == []
    finally:
        engine.dispose()


def test_moving_or_removing_a_force_that_holds_records_is_dangerous_and_refused(services, as_user, config_dir):
    as_user("westshire").create_person()
    conn = services.databases.overrides["pool"]  # the test's transaction, where the person is
    _edit(config_dir / "collaborations" / "tri-shire.toml", ', "westshire"]', "]")
    _edit(config_dir / "westshire.toml", 'deployment = "pooled"', 'deployment = "dedicated"')
    moving = [c for c in tenancy_service.plan(conn, tenancy_config.load(config_dir)) if c.danger]
    assert [(c.slug, c.field) for c in moving] == [("westshire", "deployment")]
    held = tenancy_service.records_held(conn, tenancy_config.tenant_id("westshire"))
    assert held["person"] >= 1  # other tests may have left records of their own
    assert f"moves from pooled to dedicated while it holds {sum(held.values())} record(s)" in moving[0].danger
    assert "`concord tenants move westshire --to dedicated`" in moving[0].danger

    (config_dir / "westshire.toml").unlink()
    with pytest.raises(tenancy_service.DangerousChanges) as refused:
        tenancy_service.apply(conn, tenancy_config.load(config_dir))
    assert [c.kind for c in refused.value.changes] == ["remove"]
    assert "`concord tenants offboard westshire`" in str(refused.value) and "--allow-dangerous" in str(refused.value)
    with pytest.raises(Exception, match="permission denied"):  # allowed, it goes on (and the runtime role may not)
        with conn.begin_nested():
            tenancy_service.apply(conn, tenancy_config.load(config_dir), allow_dangerous=True)


def test_a_dedicated_force_is_counted_in_its_own_database(services, lake, config_dir):
    lake.create_person()
    _edit(config_dir / "lakeshire.toml", 'deployment = "dedicated"', 'deployment = "pooled"')
    pool, own = services.databases.overrides["pool"], services.databases.overrides["lakeshire"]
    platform = tenancy_config.load(config_dir)
    counted = [c for c in tenancy_service.plan(
        pool, platform, lambda slug, _: tenancy_service.records_held(own, tenancy_config.tenant_id(slug))) if c.danger]
    held = tenancy_service.records_held(own, tenancy_config.tenant_id("lakeshire"))
    assert held["person"] >= 1
    assert counted[0].danger.startswith(f"moves from dedicated to pooled while it holds {sum(held.values())} record")
    uncounted = [c for c in tenancy_service.plan(pool, platform) if c.danger]  # the pool alone cannot tell
    assert "its records could not be counted" in uncounted[0].danger


def test_a_force_without_records_moves_or_goes_without_a_flag(settings, config_dir):
    engine = create_engine(settings.owner_url(settings.runtime_url()))
    east = config_dir / "eastshire.toml"
    shutil.copy(config_dir / "southshire.toml", east)
    _edit(east, "southshire", "eastshire")
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            tenancy_service.apply(conn, tenancy_config.load(config_dir))
            east.unlink()  # a force with no records may go
            removed = tenancy_service.apply(conn, tenancy_config.load(config_dir))
            assert [str(c) for c in removed] == ["- force eastshire"]
            shutil.copy(config_dir / "southshire.toml", east)
            _edit(east, "southshire", "eastshire")
            tenancy_service.apply(conn, tenancy_config.load(config_dir))
            _edit(east, 'deployment = "pooled"', 'deployment = "dedicated"')  # and may move
            moved = tenancy_service.apply(conn, tenancy_config.load(config_dir))
            assert [str(c) for c in moved] == ['~ force eastshire: deployment: "pooled" -> "dedicated"']
            trans.rollback()
    finally:
        engine.dispose()


def test_the_cli_warns_in_plan_and_refuses_in_apply(settings, config_dir, monkeypatch):
    monkeypatch.setattr(tenancy_service, "records_held", lambda conn, force: {"person": 3, "audit_event": 9})
    _edit(config_dir / "lakeshire.toml", 'deployment = "dedicated"', 'deployment = "pooled"')
    env = {"DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir), "CONCORD_ENV": "test",
           "CONCORD_TENANTS_DIR": str(config_dir)}
    plan = CliRunner().invoke(cli, ["tenants", "plan"], env=env)
    assert plan.exit_code == 0, plan.output
    assert '~ force lakeshire: deployment: "dedicated" -> "pooled"' in plan.output
    assert "DANGER: force lakeshire moves from dedicated to pooled while it holds 12 record(s)" in plan.output
    assert "`concord tenants move lakeshire --to pooled`" in plan.output
    applied = CliRunner().invoke(cli, ["tenants", "apply"], env=env)
    assert applied.exit_code == 1 and "refused (nothing applied)" in applied.output
    assert "--allow-dangerous" in applied.output
    again = CliRunner().invoke(cli, ["tenants", "plan"], env=env)
    assert '~ force lakeshire: deployment: "dedicated" -> "pooled"' in again.output  # still to do: nothing applied
