"""The `concord` command, as an operator runs it."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.cli import cli


def _env(settings):
    return {"DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir), "CONCORD_ENV": "test"}


def test_token_prints_a_token_the_api_accepts(settings, app):
    result = CliRunner().invoke(cli, ["token", "--tenant", "westshire", "--user", "pc-9", "--role", "officer",
                                      "--role", "auditor"], env=_env(settings))
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (me["force"], me["user"], me["roles"]) == ("westshire", "pc-9", ["auditor", "officer"])


def test_token_refuses_unknown_forces_and_roles(settings):
    runner = CliRunner()
    unknown_force = runner.invoke(cli, ["token", "--tenant", "nowhere", "--user", "x", "--role", "officer"],
                                  env=_env(settings))
    assert unknown_force.exit_code != 0 and "no force 'nowhere'" in unknown_force.output
    unknown_role = runner.invoke(cli, ["token", "--tenant", "northshire", "--user", "x", "--role", "sheriff"],
                                 env=_env(settings))
    assert unknown_role.exit_code != 0 and "sheriff" in unknown_role.output
    too_long = runner.invoke(cli, ["token", "--tenant", "northshire", "--user", "x", "--role", "officer",
                                   "--lifetime", str(13 * 3600)], env=_env(settings))
    assert too_long.exit_code != 0 and "CONCORD_MAX_TOKEN_LIFETIME" in too_long.output


@pytest.mark.parametrize("command", [
    ["people", "rekey"], ["documents", "sweep"], ["audit", "seal"], ["retention", "recompute"],
    ["import", "people", __file__],
], ids=" ".join)
def test_every_command_acting_on_named_forces_refuses_a_slug_with_no_force_naming_those_there_are(settings, command):
    result = CliRunner().invoke(cli, [*command, "--tenant", "nowhere"], env=_env(settings))
    assert result.exit_code != 0 and "no force 'nowhere'; known: lakeshire, moorshire, northshire" in result.output


def test_tenants_plan_and_db_check_report_an_applied_platform(settings):
    runner = CliRunner()
    plan = runner.invoke(cli, ["tenants", "plan"], env=_env(settings))
    assert plan.exit_code == 0 and plan.output.strip().endswith("no changes")
    check = runner.invoke(cli, ["db", "check"], env=_env(settings))
    assert check.exit_code == 0, check.output
    assert "pool: at head" in check.output and "lakeshire: at head" in check.output


def test_demo_load_creates_people_and_their_surroundings_once(app, north):
    from app import demo

    first = demo.load(app)
    assert first >= 7 + 6
    assert demo.load(app) == 0
    kate = north.get(f"/api/v1/people/{demo.demo_id('northshire', 0)}").get_json()
    assert kate["surname"] == "Smith-Jones"
    links = north.get(f"/api/v1/people/{kate['id']}/links").get_json()["items"]
    assert sorted(link["link_type"] for link in links) == ["owner", "resides_at", "suspect"]
    board = north.get("/api/v1/custody/suites/NTH/board").get_json()["items"]
    siobhan = [item for item in board if item["person"]["id"] == str(demo.demo_id("northshire", 1))]
    assert siobhan and siobhan[0]["clock"]["cell"] == "C1"


def test_import_dry_run_lists_bad_rows_by_line_and_exits_1(settings, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("source_ref,surname,forenames,date_of_birth,sex\nr1,Ng,Wei,1990-02-03,M\nr2,,Ann,1990,F\n")
    result = CliRunner().invoke(cli, ["import", "people", str(path), "--tenant", "southshire", "--dry-run"],
                                env=_env(settings))
    assert result.exit_code == 1, result.output
    assert "line 3: surname: is required" in result.output
    assert "2 rows: 1 would load, 0 already present, 1 bad (not loaded) [dry run: nothing written]" in result.output
