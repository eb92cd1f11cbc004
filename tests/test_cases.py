"""Case files: pre-filled from what Concord holds, readiness per stage, submission bundles, court results."""
from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone

from app.documents.storage import FilesystemStorage
from tests.conftest import unique_name

WHEN = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()


def shoplifting(north):
    """A finalised shoplifting investigation with a suspect (at an address), a victim and a charge."""
    suspect = north.create_person(surname=unique_name("Def"), date_of_birth="1990-02-03")
    home = north.post("/api/v1/locations", json={"address_lines": ["4 Quay Street"], "postcode": "NT2 2QS"}).get_json()
    north.post("/api/v1/links", json={"from": {"type": "person", "id": suspect["id"]},
                                      "to": {"type": "location", "id": home["id"]}, "link_type": "resides_at"})
    victim = north.create_person(surname=unique_name("Shop"))
    inv = north.post("/api/v1/investigations", json={
        "primary_classification": "46/1", "occurred_at": WHEN, "summary": "Two bottles of gin taken from the Co-op",
        "people": [{"person_id": suspect["id"], "role": "suspect"}, {"person_id": victim["id"], "role": "victim"}]
    }).get_json()
    north.post(f"/api/v1/investigations/{inv['id']}/entries",
               json={"kind": "charge", "text": "Theft from a shop, contrary to s.1 Theft Act 1968",
                     "person_id": suspect["id"]})
    return inv, suspect, victim


def test_a_case_file_is_prefilled_from_what_concord_holds(north):
    inv, suspect, victim = shoplifting(north)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]})
    assert case.status_code == 201, case.get_json()
    forms = case.get_json()["forms"]
    defendant = forms["MG1"]["defendants"][0]
    assert (defendant["surname"], defendant["date_of_birth"]) == (suspect["surname"], "1990-02-03")
    assert defendant["address"] == "4 Quay Street, NT2 2QS" and forms["MG1"]["crime_reference"] == inv["reference"]
    assert re.fullmatch(r"91CJ\d{5}\d{2}", forms["MG1"]["urn"])
    [charge] = forms["MG4"]["charges"]
    assert (charge["cjs_code"], charge["ho_classification"]) == ("TH68010", "46/1")
    assert charge["wording"].startswith("Stole goods") and charge["recorded_as"].startswith("Theft from a shop")
    assert [w["person_id"] for w in forms["MG9"]["witnesses"]] == [victim["id"]]
    assert forms["MG5"]["incident"] == "Two bottles of gin taken from the Co-op"
    again = north.post("/api/v1/cases", json={"investigation_id": inv["id"]})
    assert again.status_code == 409


def test_readiness_names_what_each_stage_needs_and_nothing_immaterial_blocks(north):
    inv, _, _ = shoplifting(north)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    first = north.get(f"/api/v1/cases/{case['id']}/readiness?stage=first_hearing").get_json()
    missing = {m["item"]: m for m in first["missing"]}
    assert first["ready"] is False and missing["MG1.anticipated_plea"]["blocks"] is True
    assert missing["MG1.solicitor_gender"] == {"item": "MG1.solicitor_gender", "form": "MG1",
                                               "field": "solicitor_gender", "label": "Defence solicitor's gender",
                                               "severity": "immaterial", "blocks": False}
    north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"1"'}, json={
        "anticipated_plea": "GAP", "forms": {"MG5": {"summary": "Seen on CCTV; admitted in interview"}}})
    ready = north.get(f"/api/v1/cases/{case['id']}/readiness?stage=first_hearing").get_json()
    assert ready["ready"] is True and {m["item"] for m in ready["missing"]} == {"MG1.solicitor_gender"}
    ngap = north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"2"'}, json={"anticipated_plea": "NGAP"})
    assert ngap.status_code == 200
    blocked = north.get(f"/api/v1/cases/{case['id']}/readiness?stage=first_hearing").get_json()
    assert blocked["ready"] is False and "MG11.statements" in {m["item"] for m in blocked["missing"]}
    assert north.get(f"/api/v1/cases/{case['id']}/readiness?stage=trial").status_code == 422


def test_a_submission_bundles_the_file_and_freezes_its_version(north, settings):
    inv, _, _ = shoplifting(north)
    evidence = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "investigation", "record_id": inv["id"], "file": (io.BytesIO(b"CCTV frame"), "cctv.jpg")})
    assert evidence.status_code == 201, evidence.get_json()
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    assert case["forms"]["MG12"]["exhibits"][0]["description"] == "cctv.jpg"
    early = north.post(f"/api/v1/cases/{case['id']}/submissions", json={"stage": "first_hearing"})
    assert early.status_code == 409 and "Anticipated plea" in early.get_json()["message"]
    north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"1"'}, json={
        "anticipated_plea": "GAP", "forms": {"MG5": {"summary": "Admitted"}}})
    sent = north.post(f"/api/v1/cases/{case['id']}/submissions", json={"stage": "first_hearing"})
    assert sent.status_code == 201, sent.get_json()
    submission = sent.get_json()
    assert submission["case_version"] == 2
    digest = submission["bundle_sha256"]
    store = FilesystemStorage(settings.var_dir / "documents" / "northshire")
    with zipfile.ZipFile(io.BytesIO(store.get(f"sha256/{digest[:2]}/{digest}"))) as bundle:
        names = sorted(bundle.namelist())
        assert names[:1] == ["case.json"] and "mg-forms.pdf" in names
        assert any(n.endswith("-cctv.jpg") for n in names)
        assert bundle.read("mg-forms.pdf").startswith(b"%PDF-")
    later = north.patch(f"/api/v1/cases/{case['id']}", headers={"If-Match": '"2"'},
                        json={"forms": {"MG5": {"summary": "Admitted; remorseful"}}})
    assert later.get_json()["version"] == 3  # the submitted version 2 stays as it was sent


def test_court_results_go_onto_the_case_and_the_crime(north):
    inv, suspect, victim = shoplifting(north)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    [charge] = case["forms"]["MG4"]["charges"]
    result = north.post(f"/api/v1/cases/{case['id']}/results", json={
        "person_id": suspect["id"], "charge_id": charge["charge_id"], "result": "guilty", "sentence": "Fine £120",
        "decided_on": "2026-11-20"})
    assert result.status_code == 201
    log = north.get(f"/api/v1/investigations/{inv['id']}").get_json()["entries"]
    assert any(e["text"].startswith("Court result 2026-11-20: guilty, Fine") for e in log)
    wrong = north.post(f"/api/v1/cases/{case['id']}/results", json={
        "person_id": victim["id"], "charge_id": charge["charge_id"], "result": "guilty", "decided_on": "2026-11-20"})
    assert wrong.status_code == 422 and "person_id" in wrong.get_json()["errors"]


def test_another_forces_case_file_is_404(north, south):
    inv, _, _ = shoplifting(north)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    assert south.get(f"/api/v1/cases/{case['id']}").status_code == 404
    foreign = south.post("/api/v1/cases", json={"investigation_id": inv["id"]})
    unknown = south.post("/api/v1/cases", json={"investigation_id": str(uuid.uuid4())})
    assert foreign.status_code == unknown.status_code == 422
    assert foreign.get_json()["errors"] == unknown.get_json()["errors"] == {
        "investigation_id": ["no such investigation in this force"]}


def test_a_shared_case_file_and_its_documents_are_read_only_for_the_other_force(north, as_user):
    inv, _, _ = shoplifting(north)
    doc = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "investigation", "record_id": inv["id"], "file": (io.BytesIO(b"frame"), "frame.jpg")}).get_json()
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    admin = as_user("northshire", "force_admin", user="ns-admin")
    agreement = admin.post("/api/v1/sharing/agreements", json={
        "consumer_force": "southshire", "record_types": ["case", "investigation", "document"],
        "max_classification": "OFFICIAL", "purpose": "joint prosecution", "lawful_basis": "DPA 2018 s.35"}).get_json()
    admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/approve", json={"reason": "agreed"})
    south = as_user("southshire", "investigator")
    purpose = {"X-Purpose": "joint prosecution"}
    shown = south.get(f"/api/v1/cases/{case['id']}", headers=purpose).get_json()
    assert shown["force"] == "northshire" and shown["shared"]["read_only"] is True
    assert south.get(f"/api/v1/documents/{doc['id']}/content", headers=purpose).data == b"frame"
    assert south.get(f"/api/v1/documents/{doc['id']}/content").status_code == 404
    refused = south.patch(f"/api/v1/cases/{case['id']}", headers={**purpose, "If-Match": '"1"'},
                          json={"anticipated_plea": "GAP"})
    assert refused.status_code == 404


def _version(north, inv):
    return north.get(f"/api/v1/investigations/{inv['id']}").get_json()["investigation"]["version"]


def test_a_court_result_is_logged_through_the_investigation_a_new_version_audited(north, as_user):
    inv, suspect, _ = shoplifting(north)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    before = _version(north, inv)
    result = north.post(f"/api/v1/cases/{case['id']}/results", json={
        "person_id": suspect["id"], "charge_id": case["forms"]["MG4"]["charges"][0]["charge_id"], "result": "guilty",
        "decided_on": "2026-11-20"})
    assert result.status_code == 201, result.get_json()
    assert _version(north, inv) == before + 1
    events = as_user("northshire", "auditor").get(f"/api/v1/audit?record_id={inv['id']}").get_json()["items"]
    logged = [e for e in events if e["action"] == "alteration" and e["details"].get("kind") == "log"]
    assert len(logged) == 1 and logged[0]["details"]["source"] == {"type": "case", "id": case["id"]}


def test_a_court_result_reaches_the_log_of_a_finalised_crime(north):
    from tests.investigations.test_records import move

    inv, suspect, _ = shoplifting(north)
    case = north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()
    for action, body in (("qa", {}), ("allocate", {"officer_in_charge": "pc-101"}), ("acknowledge", {}),
                         ("finalise", {"outcome_type": 1})):
        assert move(north, inv, action, _version(north, inv), **body).status_code == 200
    result = north.post(f"/api/v1/cases/{case['id']}/results", json={
        "person_id": suspect["id"], "charge_id": case["forms"]["MG4"]["charges"][0]["charge_id"], "result": "guilty",
        "decided_on": "2026-11-20"})
    assert result.status_code == 201, result.get_json()  # results come back after the crime is finalised
    log = north.get(f"/api/v1/investigations/{inv['id']}").get_json()["entries"]
    assert any(e["text"] == "Court result 2026-11-20: guilty on the charge TH68010 Theft from a shop, contrary to "
                            "s.1 Theft Act 1968" for e in log)


def _case(north, inv):
    return north.post("/api/v1/cases", json={"investigation_id": inv["id"]}).get_json()


def test_each_form_has_a_schema_and_facts_are_read_only(north):
    inv, _, _ = shoplifting(north)
    case = _case(north, inv)
    path = f"/api/v1/cases/{case['id']}"
    for body, field in (({"MG1": {"defendants": "x"}}, "forms.MG1.defendants"),
                        ({"MG1": {"urn": "01YE0000001"}}, "forms.MG1.urn"),
                        ({"MG5": {"summary": 12}}, "forms.MG5.summary"),
                        ({"MG5": {"colour": "red"}}, "forms.MG5.colour"),
                        ({"MG5": "x"}, "forms"),
                        ({"MG10": {"dates": [{"person_id": str(uuid.uuid4())}]}}, "forms.MG10.dates"),
                        ({"MG4": {"charges": []}}, "forms.MG4.charges")):
        refused = north.patch(path, headers={"If-Match": '"1"'}, json={"forms": body})
        assert refused.status_code == 422, (body, refused.get_json())
        assert field in refused.get_json()["errors"], (body, refused.get_json())
    ok = north.patch(path, headers={"If-Match": '"1"'}, json={"forms": {"MG5": {"summary": "Seen on CCTV"}}})
    assert ok.status_code == 200 and ok.get_json()["forms"]["MG5"]["summary"] == "Seen on CCTV"


def test_a_correction_on_the_record_shows_on_the_file_until_submission_freezes_it(north, settings):
    inv, suspect, _ = shoplifting(north)
    case = _case(north, inv)
    person = north.get(f"/api/v1/people/{suspect['id']}")
    fixed = north.patch(f"/api/v1/people/{suspect['id']}", headers={"If-Match": person.headers["ETag"]},
                        json={"date_of_birth": "1990-03-02"})
    assert fixed.status_code == 200, fixed.get_json()
    shown = north.get(f"/api/v1/cases/{case['id']}").get_json()
    assert shown["forms"]["MG1"]["defendants"][0]["date_of_birth"] == "1990-03-02"
    assert shown["version"] == 1


def test_a_charge_made_in_custody_is_listed_once(north):
    inv, suspect, _ = shoplifting(north)
    case = _case(north, inv)
    assert len(case["forms"]["MG4"]["charges"]) == 1
    assert {f for f in case["forms"]} >= {"MG2", "MG3A", "MG4A", "MG6A", "MG6E", "MG7", "MG8", "MG10"}


def test_urns_are_gap_free_per_force(north):
    urns = [_case(north, shoplifting(north)[0])["forms"]["MG1"]["urn"] for _ in range(2)]
    first, second = (int(u[4:9]) for u in urns)
    assert second == first + 1 and urns[0][:4] == "91CJ"


def test_a_statement_counts_only_if_its_document_is_this_investigations(north):
    inv, _, victim = shoplifting(north)
    other, _, _ = shoplifting(north)
    elsewhere = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "investigation", "record_id": other["id"], "file": (io.BytesIO(b"MG11"), "mg11.pdf")}).get_json()
    here = north.post("/api/v1/documents", content_type="multipart/form-data", data={
        "record_type": "investigation", "record_id": inv["id"], "file": (io.BytesIO(b"MG11 v"), "v.pdf")}).get_json()
    case = _case(north, inv)
    path = f"/api/v1/cases/{case['id']}"

    def statement_missing(version, document_id, **extra):
        north.patch(path, headers={"If-Match": f'"{version}"'}, json={"anticipated_plea": "NGAP", "forms": {
            "MG11": {"statements": [{"person_id": victim["id"], "document_id": document_id, **extra}]}}})
        state = north.get(f"{path}/readiness?stage=first_hearing").get_json()
        return {m["item"]: m for m in state["missing"]}.get("MG11.statements")

    for version, document_id in ((1, str(uuid.uuid4())), (2, elsewhere["id"])):
        unmet = statement_missing(version, document_id)
        assert unmet == {"item": "MG11.statements", "form": "MG11", "field": "statements",
                         "label": "MG11 key witness statements", "severity": "required", "blocks": True}
    assert statement_missing(3, here["id"], withdrawn=True) is not None
    assert statement_missing(4, here["id"]) is None


def test_a_court_result_per_charge_reaches_the_log(north):
    inv, suspect, _ = shoplifting(north)
    case = _case(north, inv)
    [charge] = case["forms"]["MG4"]["charges"]
    path = f"/api/v1/cases/{case['id']}/results"
    base = {"person_id": suspect["id"], "decided_on": "2026-11-20"}
    bad = north.post(path, json={**base, "result": "guilty", "charge_id": "nope"})
    assert bad.status_code == 422 and "charge_id" in bad.get_json()["errors"]
    for result in ("guilty", "not_guilty", "dismissed", "withdrawn"):  # a verdict is on a charge, never the case
        uncharged = north.post(path, json={**base, "result": result})
        assert uncharged.status_code == 422 and "charge_id" in uncharged.get_json()["errors"], result
    whole_case = north.post(path, json={**base, "result": "adjourned", "next_hearing": "2026-11-27"})
    assert whole_case.status_code == 201 and whole_case.get_json()["charge_id"] is None
    no_date = north.post(path, json={**base, "result": "adjourned", "charge_id": charge["charge_id"]})
    assert no_date.status_code == 422 and "next_hearing" in no_date.get_json()["errors"]
    adjourned = north.post(path, json={**base, "result": "adjourned", "charge_id": charge["charge_id"],
                                       "plea": "not_guilty", "next_hearing": "2026-12-04"})
    assert adjourned.status_code == 201, adjourned.get_json()
    assert adjourned.get_json()["charge_id"] == charge["charge_id"]
    log = north.get(f"/api/v1/investigations/{inv['id']}").get_json()["entries"]
    assert any("adjourned (plea not guilty); next hearing 2026-12-04 on the charge TH68010" in e["text"] for e in log)


def test_a_charge_in_custody_and_on_the_crime_is_one_row_on_mg4(north, as_user):
    from tests.custody.test_investigation_link import book_suspect, investigation
    from tests.custody.test_records import NOW, H, entry
    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    suspect, victim = north.create_person(surname=unique_name("Sus")), north.create_person(surname=unique_name("Vic"))
    inv = investigation(north, [(suspect, "suspect"), (victim, "victim")])
    record = book_suspect(sergeant, suspect, [inv["id"]]).get_json()
    assert entry(sergeant, record, "charge", NOW - H, offences=["Burglary of a dwelling"]).status_code == 201
    assert entry(sergeant, record, "charge", NOW - H / 2, offences=["Burglary of a dwelling"]).status_code == 201
    charges = _case(north, inv)["forms"]["MG4"]["charges"]
    assert [(c["cjs_code"], c["recorded_as"], c["source"]) for c in charges] == [
        ("TH68023", "Burglary of a dwelling", f"custody {record['custody_number']}")]
