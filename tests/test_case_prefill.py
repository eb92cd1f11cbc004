"""MG2, MG4A and MG7 drawn from the records (victims with enhanced rights, custody charged and bailed or
remanded), and readiness for what they and MG4's offence codes and MG10 need."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text as sql

from tests.conftest import unique_name
from tests.custody.test_investigation_link import book_suspect, investigation
from tests.custody.test_records import NOW, H, entry, iso
from tests.retention.conftest import as_force


@pytest.fixture
def sergeant(as_user):
    return as_user("northshire", "custody_officer", user="ps-custody-1")


def _case(north, inv):
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]})
    assert case.status_code == 201, case.get_json()
    return case.get_json()


def _ready(north, case, stage="first_hearing"):
    return north.get(f"/api/v1/cases/{case['id']}/readiness?stage={stage}").get_json()


def _unmet(north, case, item, stage="first_hearing"):
    return next((m for m in _ready(north, case, stage)["missing"] if m["item"] == item), None)


def _plea(north, case, plea, **forms):
    changed = north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": f'"{case["version"]}"'},
                          json={"anticipated_plea": plea, "forms": forms})
    assert changed.status_code == 200, changed.get_json()
    return changed.get_json()


def test_mg2_lists_the_victims_with_enhanced_rights_and_follows_the_record(north):
    flagged, other = north.create_person(surname=unique_name("Vul")), north.create_person(surname=unique_name("Vic"))
    witness = north.create_person(surname=unique_name("Wit"))
    inv = investigation(north, [(flagged, "victim"), (other, "victim"), (witness, "witness")])
    preferences = f"/api/v1/investigations/{inv['id']}/victims"
    assert north.put(f"{preferences}/{flagged['id']}/preferences", json={"enhanced": True}).status_code == 204
    case = _case(north, inv)
    [row] = case["forms"]["MG2"]["witnesses"]
    assert (row["person_id"], row["name"], row["role"]) == (flagged["id"], f"{flagged['forenames']} "
                                                            f"{flagged['surname']}", "victim")
    assert "vulnerable or intimidated" in row["eligibility"]
    # flagged on the record after the file was built: the file shows it (a fact, never typed into the file)
    assert north.put(f"{preferences}/{other['id']}/preferences", json={"enhanced": True}).status_code == 204
    shown = north.get(f"/api/v1/cases/{case['id']}").get_json()["forms"]["MG2"]["witnesses"]
    assert sorted(w["person_id"] for w in shown) == sorted([flagged["id"], other["id"]])
    refused = north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"1"'},
                          json={"forms": {"MG2": {"witnesses": []}}})
    assert refused.status_code == 422 and "forms.MG2.witnesses" in refused.get_json()["errors"]


def test_mg2_lists_a_witness_under_18_with_the_section_that_makes_them_eligible(north):
    child = north.create_person(surname=unique_name("Wit"), date_of_birth=(date.today() - timedelta(days=12 * 365))
                                .isoformat())
    adult = north.create_person(surname=unique_name("Wit"))
    case = _case(north, investigation(north, [(child, "witness"), (adult, "witness")]))
    assert [(w["person_id"], w["eligibility"]) for w in case["forms"]["MG2"]["witnesses"]] == [
        (child["id"], "under 18 (YJCEA 1999 s.16(1)(a))")]


def _charged_and_released(sergeant, person, inv, outcome, offences=("Burglary of a dwelling",)):
    record = book_suspect(sergeant, person, [inv["id"]]).get_json()
    if offences:
        assert entry(sergeant, record, "charge", NOW - 2 * H, offences=list(offences)).status_code == 201
    path = f"/api/v1/custody/records/{record['id']}"
    released = sergeant.post(f"{path}/release", headers={"If-Match": sergeant.get(path).headers["ETag"]},
                             json={"released_at": iso(NOW - H), "outcome": outcome})
    assert released.status_code == 200, released.get_json()
    return record


def test_mg7_and_mg4a_are_drawn_from_custody_charged_and_remanded_or_bailed(north, sergeant):
    remanded, bailed = north.create_person(surname=unique_name("Rem")), north.create_person(surname=unique_name("Bai"))
    inv = investigation(north, [(remanded, "suspect"), (bailed, "suspect")])
    held = _charged_and_released(sergeant, remanded, inv, "charged_remanded")
    out = _charged_and_released(sergeant, bailed, inv, "charged_bailed", offences=("Theft from a shop",))
    forms = _case(north, inv)["forms"]
    [mg7] = forms["MG7"]["remanded"]
    assert mg7 == {"person_id": remanded["id"], "name": f"{remanded['forenames']} {remanded['surname']}",
                   "custody_number": held["custody_number"], "charged_at": iso(NOW - 2 * H),
                   "offences": "Burglary of a dwelling", "remanded_at": iso(NOW - H)}
    [mg4a] = forms["MG4A"]["bailed"]
    assert mg4a == {"person_id": bailed["id"], "name": f"{bailed['forenames']} {bailed['surname']}",
                    "custody_number": out["custody_number"], "charged_at": iso(NOW - 2 * H),
                    "offences": "Theft from a shop", "bailed_at": iso(NOW - H)}


def test_a_remand_needs_its_grounds_and_its_facts_from_custody(services, north, sergeant):
    remanded, other = north.create_person(surname=unique_name("Rem")), north.create_person(surname=unique_name("Rem"))
    inv = investigation(north, [(remanded, "suspect")])
    _charged_and_released(sergeant, remanded, inv, "charged_remanded")
    case = _case(north, inv)
    grounds = _unmet(north, case, "MG7.grounds")
    assert grounds == {"item": "MG7.grounds", "form": "MG7", "field": "grounds", "label": "MG7 grounds for opposing "
                       "bail", "severity": "required", "blocks": True}
    assert _unmet(north, case, "MG7.remanded.charged_at") is None  # the custody record has them
    _plea(north, case, "GAP", MG7={"grounds": "Failed to surrender twice in 2025; likely to reoffend"})
    assert _unmet(north, case, "MG7.grounds") is None
    # remanded with no charge entry on the custody record (released so before the outcome was checked against the
    # timeline; a release now refuses it): the remand facts are not there, and readiness says so
    inv2 = investigation(north, [(other, "suspect")])
    legacy = _charged_and_released(sergeant, other, inv2, "released", offences=())
    as_force(services, "northshire").execute(
        sql("UPDATE custody_record SET outcome = 'charged_remanded' WHERE id = :id"), {"id": legacy["id"]})
    unmet = _unmet(north, _case(north, inv2), "MG7.remanded.charged_at")
    assert (unmet["form"], unmet["field"], unmet["rows"], unmet["blocks"]) == ("MG7", "remanded.charged_at", [1], True)
    # no one remanded: MG7 asks for nothing
    assert [m for m in _ready(north, _case(north, investigation(north, [])))["missing"] if m["form"] == "MG7"] == []


def test_a_charge_no_cjs_offence_matched_is_flagged_naming_mg4_and_the_row(north):
    suspect = north.create_person(surname=unique_name("Def"))
    inv = investigation(north, [(suspect, "suspect")])
    for text in ("Theft from a shop, contrary to s.1 Theft Act 1968", "Being drunk and disorderly in a public place"):
        assert north.post(f"/api/v1/investigations/{inv['id']}/entries",
                          json={"kind": "charge", "text": text, "person_id": suspect["id"]}).status_code == 201
    case = _case(north, inv)
    assert [c["cjs_code"] for c in case["forms"]["MG4"]["charges"]] == ["TH68010", None]
    unmet = _unmet(north, case, "MG4.charges.cjs_code")
    assert (unmet["form"], unmet["field"], unmet["rows"], unmet["severity"], unmet["blocks"]) == (
        "MG4", "charges.cjs_code", [2], "required", True)
    ready = _ready(north, case)
    assert not ready["ready"]
    proposed = _unmet(north, case, "MG4.charges.cjs_code", stage="charging_decision")
    assert (proposed["rows"], proposed["blocks"]) == ([2], False)  # a charge proposed to the CPS may lack it yet


def test_mg10_is_asked_for_a_not_guilty_plea_with_witnesses(north):
    suspect, witness = north.create_person(surname=unique_name("Def")), north.create_person(surname=unique_name("Wit"))
    inv = investigation(north, [(suspect, "suspect"), (witness, "witness")])
    case = _case(north, inv)
    case = _plea(north, case, "GAP")
    assert _unmet(north, case, "MG10.dates") is None  # no trial to fix on a guilty plea
    case = _plea(north, case, "NGAP")
    assert _unmet(north, case, "MG10.dates") == {
        "item": "MG10.dates", "form": "MG10", "field": "dates", "label": "MG10 witness non-availability",
        "severity": "required", "blocks": False}
    _plea(north, case, "NGAP", MG10={"dates": [{"person_id": witness["id"], "unavailable_from": "2027-01-04",
                                                "unavailable_to": "2027-01-15", "reason": "abroad"}]})
    assert _unmet(north, case, "MG10.dates") is None
    alone = _plea(north, _case(north, investigation(north, [(north.create_person(surname=unique_name("D")),
                                                             "suspect")])), "NGAP")
    assert _unmet(north, alone, "MG10.dates") is None  # no witnesses, no dates to ask for
