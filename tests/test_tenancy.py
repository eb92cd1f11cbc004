"""Tenant config: validated with file, field and reason; plan shows the difference; apply is one transaction."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import ROOT
from app.tenancy import config as tenancy_config
from app.tenancy import service as tenancy_service


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    return tmp_path / "tenants"


def test_the_demo_config_is_valid():
    platform = tenancy_config.load(ROOT / "tenants")
    assert set(platform.tenants) == {"northshire", "southshire", "westshire", "lakeshire", "moorshire"}
    assert sorted(t.slug for t in platform.dedicated()) == ["lakeshire", "moorshire"]
    assert platform.collaborations["tri-shire"].members == ("northshire", "southshire", "westshire")
    # a collaboration groups forces under shared agreements, whichever database holds each one's records
    assert platform.collaborations["lakes-and-moors"].members == ("lakeshire", "moorshire", "southshire")


@pytest.mark.parametrize(
    "edit, field, reason",
    [
        (lambda s: s.replace('audience = "concord"\n', ""), "identity.audience", "Missing data"),
        (lambda s: s.replace('deployment = "pooled"', 'deployment = "shared"'), "deployment", "Must be one of"),
        (lambda s: s.replace('time_zone = "Europe/London"', 'time_zone = "Mars/Olympus"'), "time_zone", "time zone"),
        (lambda s: s.replace('= "officer"', '= "sheriff"'), "identity.role_map", "sheriff"),
        (lambda s: 'colour = "blue"\n' + s, "colour", "Unknown field"),
        (lambda s: s.replace('slug = "northshire"', 'slug = "north"'), "slug", "file name"),
        (lambda s: s + "\n[[[broken", "", "not valid TOML"),
    ],
)
def test_an_invalid_file_names_the_file_the_field_and_the_reason(config_dir, edit, field, reason):
    path = config_dir / "northshire.toml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(tenancy_config.ConfigFileError) as caught:
        tenancy_config.load(config_dir)
    problem = next(p for p in caught.value.problems if p.startswith(str(path)))
    assert f": {field}:" in problem or field == ""
    assert reason.lower() in problem.lower()


def test_collaboration_members_must_be_forces_in_the_config(config_dir):
    path = config_dir / "collaborations" / "tri-shire.toml"
    path.write_text(path.read_text().replace('"westshire"]', '"westshire", "lakeshire", "nowhere"]'))
    with pytest.raises(tenancy_config.ConfigFileError) as caught:
        tenancy_config.load(config_dir)
    assert caught.value.problems == [f"{path}: members: no force 'nowhere' in the tenant config"]


def test_two_forces_cannot_share_an_issuer(config_dir):
    south = config_dir / "southshire.toml"
    south.write_text(south.read_text().replace("dev-idp/southshire", "dev-idp/northshire"))
    with pytest.raises(tenancy_config.ConfigFileError, match="already used by 'northshire'"):
        tenancy_config.load(config_dir)


def test_plan_shows_additions_changes_and_removals_and_apply_makes_them(services, config_dir):
    conn = services.databases.overrides["pool"]  # the runtime role: it may read the registry, not write it
    assert tenancy_service.plan(conn, tenancy_config.load(config_dir)) == []

    (config_dir / "westshire.toml").unlink()
    collab = config_dir / "collaborations" / "tri-shire.toml"
    collab.write_text(collab.read_text().replace(', "westshire"]', "]"))
    north = config_dir / "northshire.toml"
    north.write_text(north.read_text().replace('name = "Northshire Police"', 'name = "Northshire Constabulary"'))
    shutil.copy(config_dir / "southshire.toml", config_dir / "eastshire.toml")
    east = config_dir / "eastshire.toml"
    east.write_text(east.read_text().replace("southshire", "eastshire").replace('"92"', '"95"'))

    lines = [str(c) for c in tenancy_service.plan(conn, tenancy_config.load(config_dir))]
    assert "+ force eastshire" in lines
    assert "- force westshire" in lines
    assert '~ force northshire: name: "Northshire Police" -> "Northshire Constabulary"' in lines
    assert any(line.startswith("~ collaboration tri-shire: members") for line in lines)

    with pytest.raises(Exception, match="permission denied"):  # the runtime role cannot apply
        with conn.begin_nested():
            tenancy_service.apply(conn, tenancy_config.load(config_dir), allow_dangerous=True)


def test_apply_as_owner_is_one_transaction(settings, config_dir):
    from sqlalchemy import create_engine

    engine = create_engine(settings.owner_url(settings.runtime_url()))
    east = config_dir / "eastshire.toml"
    shutil.copy(config_dir / "southshire.toml", east)
    east.write_text(east.read_text().replace("southshire", "eastshire"))
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            changes = tenancy_service.apply(conn, tenancy_config.load(config_dir))
            assert [str(c) for c in changes] == ["+ force eastshire"]
            assert conn.execute(text("SELECT count(*) FROM tenant WHERE slug = 'eastshire'")).scalar() == 1
            assert tenancy_service.plan(conn, tenancy_config.load(config_dir)) == []
            trans.rollback()
            assert conn.execute(text("SELECT count(*) FROM tenant WHERE slug = 'eastshire'")).scalar() == 0
    finally:
        engine.dispose()
