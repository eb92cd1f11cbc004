"""A force's [custody] settings: visit intervals per observation level and the dose interval range, national
defaults when absent, validated with the file, the field and the reason."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.config import ROOT
from app.custody import service
from app.tenancy import config as tenancy_config
from tests.custody.test_records import NOW, H, entry, iso

M = timedelta(minutes=1)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    return tmp_path / "tenants"


def test_absent_settings_are_the_national_defaults_and_a_force_may_set_its_own():
    platform = tenancy_config.load(ROOT / "tenants")
    north, west = platform.tenants["northshire"].settings, platform.tenants["westshire"].settings
    assert service.visit_intervals(north) == {1: 60 * M, 2: 30 * M, 3: timedelta(0), 4: timedelta(0)}
    assert service.dose_range(north) == (0.25, 72.0)
    assert service.visit_intervals(west)[2] == 20 * M and service.dose_range(west) == (0.5, 48.0)
    assert service.visit_intervals({}) == service.visit_intervals(north)  # settings stored before [custody]


@pytest.mark.parametrize("section, field, reason", [
    ('visit_minutes = { "1" = 90 }', "custody.visit_minutes", "less than or equal to 60"),
    ('visit_minutes = { "2" = 45 }', "custody.visit_minutes", "level 2: at most 30 minutes"),
    ('visit_minutes = { "5" = 10 }', "custody.visit_minutes", "observation levels are 1 to 4"),
    ('visit_minutes = { "1" = "hourly" }', "custody.visit_minutes", "not a valid integer"),
    ("dose_interval_hours = { minimum = 8, maximum = 4 }", "custody.dose_interval_hours", "minimum is above"),
    ("dose_interval_hours = { every = 4 }", "custody.dose_interval_hours.every", "unknown field"),
    ("visits = 3", "custody.visits", "unknown field"),
])
def test_a_bad_custody_section_names_the_file_the_field_and_the_reason(config_dir, section, field, reason):
    path = config_dir / "northshire.toml"
    path.write_text(path.read_text().replace("[identity]\n", f"[custody]\n{section}\n\n[identity]\n", 1))
    with pytest.raises(tenancy_config.ConfigFileError) as caught:
        tenancy_config.load(config_dir)
    problem = next(p for p in caught.value.problems if p.startswith(str(path)))
    assert f": {field}" in problem and reason.lower() in problem.lower(), problem


def test_visits_and_doses_follow_the_forces_settings_through_the_api(as_user):
    west = as_user("westshire", "custody_officer", user="ws-ps-1")
    arrived = NOW - 2 * H
    body = {"suite": "WST", "person": {"surname": "Westerly", "forenames": "Sam", "sex": "male"},
            "confirm_new": True, "arrested_at": iso(arrived - H), "arrest_place": "x", "arresting_officer": "PC 1",
            "arrived_at": iso(arrived), "offences": [{"code": "28/1", "wording": "x", "indictable": True}]}
    record = west.post("/api/v1/custody/records", json=body).get_json()
    assert entry(west, record, "observation_level", arrived + 10 * M, level=2).status_code == 201
    assert entry(west, record, "visit", arrived + H, condition="awake").status_code == 201
    shown = west.get(f"/api/v1/custody/records/{record['id']}").get_json()
    assert datetime.fromisoformat(shown["clock"]["next_visit_due"]) == arrived + H + 20 * M
    short = entry(west, record, "medication", arrived + H, name="x", dose="1", interval_hours=0.25,
                  first_due_at=iso(NOW))
    assert short.status_code == 422 and "0.5 to 48" in str(short.get_json()["errors"]["data.interval_hours"])
