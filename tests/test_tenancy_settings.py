"""Every section of a force's file is validated: each invalid file fails with the file, the field and the reason."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.config import ROOT
from app.tenancy import config as tenancy_config


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    return tmp_path / "tenants"


def _replace(old: str, new: str):
    return lambda text: text.replace(old, new, 1)


def _top(line: str):
    """A top-level key, before the file's first table."""
    return lambda text: line + "\n" + text


def _add(toml: str):
    """A table (or array of tables) after the rest of the file."""
    return lambda text: text + "\n" + toml + "\n"


P256 = base64.b64encode(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
RULE = '[[reference_lists.case_file_rules.first_hearing]]\nitem = "MG5.summary"\nlabel = "Summary"\n'
INVALID = [
    # the force itself
    (_replace('name = "Northshire Police"', "name = 5"), "name", "Not a valid string"),
    (_replace('force_code = "91"', 'force_code = "nine"'), "force_code", "2-4 digits or capitals"),
    (_replace('time_zone = "Europe/London"', "time_zone = 5"), "time_zone", "Not a valid string"),
    (_top('colour = "blue"'), "colour", "Unknown field"),
    # modules
    (_replace("modules = [", 'modules = ["weather", '), "modules.0", "Must be one of"),
    (_replace("modules = [", 'modules = ["custody", '), "modules", "listed twice: custody"),
    (_replace("modules = [", 'modules = "custody"\nold_modules = ['), "modules", "Not a valid list"),
    # identity
    (_replace('user_claim = "sub"', "user_claim = 7"), "identity.user_claim", "Not a valid string"),
    (_replace('"NS-Auditor" = "auditor"', '"NS-Auditor" = 3'), "identity.role_map.NS-Auditor.value",
     "Not a valid string"),
    # custody suites and cells
    (_add('[[custody_suites.cells]]\ncapacity = 1'), "custody_suites.0.cells.6.code", "Missing data"),
    (_add('[[custody_suites.cells]]\ncode = "C1"'), "custody_suites.0.cells", "listed twice: C1"),
    (_add('[[custody_suites]]\ncode = "NTH"\nname = "Again"\n[[custody_suites.cells]]\ncode = "C1"'),
     "custody_suites", "listed twice: NTH"),
    (_add('[[custody_suites.cells]]\ncode = "C9"\ncapacity = 1.5'), "custody_suites.0.cells.6.capacity",
     "Not a valid integer"),
    # warning markers (a marker without a code raised KeyError)
    (_add('[[warning_markers]]\nlabel = "No code"'), "warning_markers.0.code", "Missing data"),
    (_add('[[warning_markers]]\ncode = "VI"\nlabel = "A"\n[[warning_markers]]\ncode = "VI"\nlabel = "B"'),
     "warning_markers", "listed twice: VI"),
    (_add('[[warning_markers]]\ncode = "VI"\nlabel = "Violent"\nreview_months = 0'),
     "warning_markers.0.review_months", "greater than or equal to 1"),
    (_top('warning_markers = "VI"'), "warning_markers", "Not a valid list"),
    # the audit signing key and the keys it retired (a P-256 key is a public key, but not an Ed25519 one)
    (_add('[audit]\nsigning_key = "vault"'), "audit.signing_key", "Must be one of"),
    (_add('[audit]\nretired_public_keys = ["MCowBQYDK2VwAyEA"]'), "audit.retired_public_keys.0", "not a public key"),
    (_add(f'[audit]\nretired_public_keys = ["{P256}"]'), "audit.retired_public_keys.0", "not an Ed25519 public key"),
    # storage and rate limits
    (_add('[storage]\nbackend = "s3"'), "storage.bucket", "required for the s3 backend"),
    (_add('[storage]\nbackend = "tape"'), "storage.backend", "Must be one of"),
    (_replace('per_user = "600/minute"', 'per_user = "lots"'), "rate_limits.per_user", "must be a rate"),
    # reference lists
    (_add("[reference_lists]\ncolour = 1"), "reference_lists.colour", "Unknown field"),
    (_top("reference_lists = [1, 2]"), "reference_lists", "Invalid input type"),
    (_add("[reference_lists]\ncode_c_review_days = 0"), "reference_lists.code_c_review_days",
     "greater than or equal to 1"),
    (_add('[reference_lists]\ncode_c_review_days = "90"'), "reference_lists.code_c_review_days",
     "Not a valid integer"),
    (_add("[reference_lists]\ncode_c_review_days = 1e9"), "reference_lists.code_c_review_days",
     "Not a valid integer"),
    (_add('[reference_lists]\nintelligence_action_codes = ["A1", "A1"]'), "reference_lists.intelligence_action_codes",
     "listed twice: A1"),
    (_add("[reference_lists]\nintelligence_sanitisation_codes = [1]"),
     "reference_lists.intelligence_sanitisation_codes.0", "Not a valid string"),
    (_add('[reference_lists]\nintelligence_action_codes = [""]'), "reference_lists.intelligence_action_codes.0",
     "1-20 letters"),
    (_add(RULE.replace("first_hearing", "trial") + 'severity = "required"'), "reference_lists.case_file_rules.trial",
     "Unknown field"),
    (_add(RULE.replace("MG5.summary", "summary") + 'severity = "required"'),
     "reference_lists.case_file_rules.first_hearing.0.item", "must be FORM.field"),
    (_add(RULE.replace("MG5.summary", "MG99.summary") + 'severity = "required"'),
     "reference_lists.case_file_rules.first_hearing.0.item", "must be FORM.field"),
    (_add(RULE + 'severity = "vital"'), "reference_lists.case_file_rules.first_hearing.0.severity", "Must be one of"),
    (_add(RULE), "reference_lists.case_file_rules.first_hearing.0.severity", "Missing data"),
    (_add(RULE + 'severity = "immaterial"\nblocks = true'), "reference_lists.case_file_rules.first_hearing.0.blocks",
     "never blocks"),
    (_add(RULE + 'severity = "required"\nblocks = "yes"'), "reference_lists.case_file_rules.first_hearing.0.blocks",
     "Not a valid boolean"),
    (_add(RULE + 'severity = "required"\npleas = ["GUILTY"]'),
     "reference_lists.case_file_rules.first_hearing.0.pleas.0", "Must be one of"),
    (_add(RULE + 'severity = "required"\npleas = []'), "reference_lists.case_file_rules.first_hearing.0.pleas",
     "Shorter than minimum length 1"),
    (_add(RULE + 'severity = "required"\nwhen = "always"'), "reference_lists.case_file_rules.first_hearing.0.when",
     "must be FORM.field"),
    (_add(RULE + 'severity = "required"\nunless = "MG9.witnesses"'),
     "reference_lists.case_file_rules.first_hearing.0.unless", "Unknown field"),
    (_add(RULE + 'severity = "required"\n' + RULE + 'severity = "advisory"'),
     "reference_lists.case_file_rules.first_hearing", "listed twice: MG5.summary"),
    (_add('[reference_lists.case_file_rules]\nfirst_hearing = "all"'), "reference_lists.case_file_rules.first_hearing",
     "Not a valid list"),
    # retention
    (_add("[retention.group_5]\nreview_after_years = 3"), "retention.group_5", "Unknown field"),
    (_add("[retention.group_1]\nreview_after_years = 0"), "retention.group_1.review_after_years",
     "greater than or equal to 1"),
    (_add('[retention.group_2]\nreview_after_years = "ten"'), "retention.group_2.review_after_years",
     "Not a valid integer"),
    (_add("[retention.group_3]\nkeep = true"), "retention.group_3.keep", "Unknown field"),
    (_top("retention = 10"), "retention", "Invalid input type"),
    # crime reference numbers
    (_top('crime_reference_format = "{force_code}/{serial:06d}"'), "crime_reference_format", "must contain {yy}"),
    (_top('crime_reference_format = "{yy}"'), "crime_reference_format", "must contain {serial}"),
    (_top('crime_reference_format = "{serial:>999999999}/{yy}"'), "crime_reference_format", "only {serial} takes"),
    (_top('crime_reference_format = "{serial.real}/{yy}"'), "crime_reference_format", "is not one of"),
    (_top('crime_reference_format = "{serial}/{yy:.1}"'), "crime_reference_format", "only {serial} takes"),
    (_top('crime_reference_format = "{serial/{yy}"'), "crime_reference_format", "not a valid format"),
    (_top('crime_reference_format = "{serial:02d}/{yy}/' + "x" * 60 + '"'), "crime_reference_format",
     "longer than 60"),
]


@pytest.mark.parametrize("edit, field, reason", INVALID, ids=[f"{i}-{case[1]}" for i, case in enumerate(INVALID)])
def test_every_section_fails_with_the_file_the_field_and_the_reason(config_dir, edit, field, reason):
    path = config_dir / "northshire.toml"
    path.write_text(edit(path.read_text()))
    with pytest.raises(tenancy_config.ConfigFileError) as caught:
        tenancy_config.load(config_dir)
    mine = [p for p in caught.value.problems if p.startswith(f"{path}: ")]
    assert any(p.startswith(f"{path}: {field}: ") and reason.lower() in p.lower() for p in mine), mine


def test_a_valid_file_with_every_section_loads_with_the_national_defaults_filled_in(config_dir):
    path = config_dir / "northshire.toml"
    path.write_text(path.read_text() + "\n" + RULE + 'severity = "required"\nblocks = true\npleas = ["NGAP"]\n'
                    "[reference_lists]\ncode_c_review_days = 30\nintelligence_action_codes = [\"A1\", \"B2\"]\n"
                    "[retention.group_3]\nreview_after_years = 7\n")
    settings = tenancy_config.load(config_dir).tenants["northshire"].settings
    assert settings["reference_lists"]["case_file_rules"] == {"first_hearing": [
        {"item": "MG5.summary", "label": "Summary", "severity": "required", "blocks": True, "pleas": ["NGAP"]}]}
    assert settings["retention"]["group_3"] == {"label": "All other offences", "review_after_years": 7}
    assert settings["retention"]["group_1"]["retain_until_age"] == 100


ODD = """
crime_reference_format = "{yyyy}-{serial}"

[[warning_markers]]
code = "WATER"
label = "Risk near open water"
review_months = 120

[reference_lists]
code_c_review_days = 730
intelligence_action_codes = ["A1"]
intelligence_sanitisation_codes = []

[reference_lists.case_file_rules]
charging_decision = []

[[reference_lists.case_file_rules.first_hearing]]
item = "MG12.exhibits"
label = "Exhibit list, even on a guilty plea"
severity = "required"
blocks = true
pleas = ["GAP"]

[[reference_lists.case_file_rules.first_hearing]]
item = "MG6.disclosure_officer"
label = "A field no form fills"
severity = "advisory"

[retention.group_1]
review_after_years = 1
"""


@pytest.fixture
def odd_north(config_dir, services, monkeypatch):
    """Northshire with valid but unusual settings in every section, as its file would load them."""
    path = config_dir / "northshire.toml"
    path.write_text(path.read_text().replace("# Custody suites", ODD + "\n# Custody suites", 1))
    loaded = tenancy_config.load(config_dir).tenants["northshire"].settings
    tenant = services.registry.by_slug("northshire")
    for key in ("crime_reference_format", "warning_markers", "reference_lists", "retention"):
        monkeypatch.setitem(tenant.settings, key, loaded[key])
    return tenant


def test_valid_but_odd_settings_never_make_a_request_answer_500(odd_north, north, as_user):
    from datetime import date, timedelta

    from tests.test_cases import shoplifting
    from tests.test_intelligence import ACCEPT, submit

    inv, _, _ = shoplifting(north)
    assert inv["reference"].startswith(f"{date.today().year}-")
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    charging = north.get(f"/api/v1/cases/{case['id']}/readiness?stage=charging_decision")
    assert charging.status_code == 200 and charging.get_json()["missing"] == []
    north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"1"'}, json={"anticipated_plea": "GAP"})
    first = north.get(f"/api/v1/cases/{case['id']}/readiness?stage=first_hearing")
    assert first.status_code == 200, first.get_json()
    assert {(m["item"], m["blocks"]) for m in first.get_json()["missing"]} == {
        ("MG12.exhibits", True), ("MG6.disclosure_officer", False)}

    person = north.create_person(warning_markers=[{"code": "WATER", "from_date": "2024-02-29"}])
    assert person["warning_markers"][0]["review_date"] == "2034-02-28"
    refused = north.post("/api/v1/people", json={"surname": "Odd", "forenames": "A", "sex": "female",
                                                 "warning_markers": [{"code": "VI", "from_date": "2024-01-01"}]})
    assert refused.status_code == 422 and "WATER" in refused.get_json()["message"]

    officer, analyst = as_user("northshire", "officer"), as_user("northshire", "intelligence_analyst")
    report = submit(officer, handling_code="C", handling_conditions="Not outside the unit")
    assessed = analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess",
                            json={**ACCEPT, "sanitised_handling_code": "C", "action_codes": ["A1"]})
    assert assessed.status_code == 200, assessed.get_json()
    assert assessed.get_json()["next_review_on"] == (date.today() + timedelta(days=730)).isoformat()
    other = submit(officer)
    unlisted = analyst.post(f"/api/v1/intelligence/reports/{other['id']}/assess",
                            json={**ACCEPT, "sanitisation_codes": ["S1"]})
    assert unlisted.status_code == 422 and "sanitisation_codes" in unlisted.get_json()["errors"]


def test_settings_an_older_concord_stored_fall_back_to_the_national_defaults(services, north, caplog):
    """Stored before this validation, a rule without its form (`summary`) made readiness a 500."""
    import types

    registry = services.registry
    stored = dict(registry.by_slug("northshire").settings)
    stale = {**stored, "reference_lists": {"case_file_rules": {"first_hearing": [{"item": "summary"}]}},
             "retention": {"group_9": {}}, "obsolete": True}
    served, problems = tenancy_config.revalidated(stale)
    assert served["reference_lists"] == {} and served["retention"] == tenancy_config.RetentionSchema().load({})
    assert "obsolete" not in served and served["identity"] == stored["identity"]
    assert any(p.startswith("reference_lists.case_file_rules.first_hearing.0.label: ") for p in problems)

    real = registry._read
    rows = [types.SimpleNamespace(settings=stale if t.slug == "northshire" else t.settings,
                                  maintenance=False) for t in registry.tenants()]
    collaborations = real()[1]
    registry._read = lambda: (rows, collaborations)
    registry.invalidate()
    try:
        from tests.test_cases import shoplifting

        inv, _, _ = shoplifting(north)
        case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
        response = north.get(f"/api/v1/cases/{case['id']}/readiness?stage=first_hearing")
        assert response.status_code == 200, response.get_json()
        assert "stored setting reference_lists.case_file_rules.first_hearing.0.item" in caplog.text
    finally:
        registry._read = real
        registry.invalidate()
