"""The `[retention]` policy: national defaults filled in, every bad key named; `concord retention recompute`
reassesses records written past the ORM (the bulk import) or under an older policy."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import ROOT
from app.retention.recompute import recompute
from app.tenancy import config as tenancy_config
from tests.retention.conftest import as_force


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    return tmp_path / "tenants"


INVALID = [
    ('version = "no spaces allowed"', "retention.version", "letters, digits"),
    ('group_1_offences = ["rape"]', "retention.group_1_offences.0", "Home Office class or code"),
    ('group_2_markers = ["ZZ"]', "retention.group_2_markers", "not in this force's warning markers: ZZ"),
    ("undetected_outcomes = [23]", "retention.undetected_outcomes.0", "less than or equal to 22"),
    ("undetected_outcomes = [18, 18]", "retention.undetected_outcomes", "listed twice"),
    ("review_all = true", "retention.review_all", "Unknown field"),
]


@pytest.mark.parametrize("line, field, reason", INVALID, ids=[case[1] for case in INVALID])
def test_a_bad_retention_policy_fails_naming_the_key(config_dir, line, field, reason):
    path = config_dir / "northshire.toml"
    path.write_text(path.read_text() + f"\n[retention]\n{line}\n")
    with pytest.raises(tenancy_config.ConfigFileError) as caught:
        tenancy_config.load(config_dir)
    assert any(p.startswith(f"{path}: {field}: ") and reason.lower() in p.lower() for p in caught.value.problems), \
        caught.value.problems


def test_a_force_changes_its_policy_and_keeps_the_national_defaults_it_does_not_name(config_dir):
    path = config_dir / "northshire.toml"
    path.write_text(path.read_text() + '\n[retention]\nversion = "ns-2027-1"\ngroup_2_markers = ["VI"]\n'
                    "[retention.group_3]\nreview_after_years = 7\n")
    policy = tenancy_config.load(config_dir).tenants["northshire"].settings["retention"]
    assert policy["version"] == "ns-2027-1" and policy["group_2_markers"] == ["VI"]
    assert policy["group_3"]["review_after_years"] == 7 and policy["group_1"]["retain_until_age"] == 100
    assert policy["undetected_outcomes"] == [14, 18] and policy["group_1_offences"] == ["1", "2", "4/1", "19"]


def test_recompute_assesses_records_that_have_no_group_yet(services, north):
    person = north.create_person()
    conn = as_force(services, "northshire")
    conn.execute(text("UPDATE person SET retention_group = NULL, review_on = NULL WHERE id = :id"),
                 {"id": person["id"]})

    changed = recompute(services.databases, services.registry.by_slug("northshire"))

    assert changed["person"] >= 1
    row = as_force(services, "northshire").execute(
        text("SELECT retention_group, review_on FROM person WHERE id = :id"), {"id": person["id"]}).one()
    assert row.retention_group == 3 and row.review_on is not None
