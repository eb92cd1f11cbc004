"""GET /api/v1/cases: each filter, paging totals, and another force's case files only where an agreement allows
(masked, logged for the provider; a filter on its masked forms leaves it out)."""
from __future__ import annotations

from tests.lists import ids, listed, logged_for_provider, shared_listing
from tests.sharing.test_agreements import share
from tests.test_cases import shoplifting

PATH = "/api/v1/cases"


def case_of(north):
    inv, suspect, _ = shoplifting(north)
    case = north.post(PATH, json={"investigation_id": inv["id"]})
    assert case.status_code == 201, case.get_json()
    return inv, suspect, case.get_json()


def files(north):
    """One file being built, one submitted, one with a court result."""
    building, submitted, resulted = case_of(north), case_of(north), case_of(north)
    case = submitted[2]
    north.patch(f"{PATH}/{case['id']}", headers={"If-Match": '"1"'},
                json={"anticipated_plea": "GAP", "forms": {"MG5": {"summary": "Admitted"}}})
    assert north.post(f"{PATH}/{case['id']}/submissions", json={"stage": "first_hearing"}).status_code == 201
    _, suspect, case = resulted
    charge_id = case["forms"]["MG4"]["charges"][0]["charge_id"]
    assert north.post(f"{PATH}/{case['id']}/results", json={"person_id": suspect["id"], "result": "guilty",
                                                           "charge_id": charge_id,
                                                           "decided_on": "2026-11-20"}).status_code == 201
    return building, submitted, resulted


def test_each_filter_narrows_the_list_and_pages_carry_the_total(north):
    (inv_b, _, building), (inv_s, _, submitted), (inv_r, _, resulted) = files(north)

    def of(**query):
        return ids(listed(north, PATH, **query))

    assert set(of()) == {building["id"], submitted["id"], resulted["id"]}
    assert of(urn=building["forms"]["MG1"]["urn"]) == [building["id"]] and of(urn="01NT0000000") == []
    assert of(reference=inv_s["reference"]) == [submitted["id"]]
    assert of(investigation_id=inv_r["id"]) == [resulted["id"]]
    assert of(status="building") == [building["id"]] and of(status="submitted") == [submitted["id"]]
    assert of(status="resulted") == [resulted["id"]]
    one, two = (listed(north, PATH, page_size=2, page=p) for p in (1, 2))
    assert (one["total"], two["total"], len(one["items"]), len(two["items"])) == (3, 3, 2, 1)
    assert set(ids(one)) | set(ids(two)) == set(of())


def test_bad_filters_are_refused_naming_the_field(north):
    for query, field in (({"status": "closed"}, "status"), ({"investigation_id": "x"}, "investigation_id"),
                         ({"page": 0}, "page"), ({"forms": "MG1"}, "forms")):
        response = north.get(PATH, query_string=query)
        assert response.status_code == 422 and field in str(response.get_json()["errors"]), (query, response.json)


def test_another_forces_case_files_appear_only_with_an_agreement_masked_and_logged(north, south, north_admin,
                                                                                   as_user):
    inv, suspect, case = case_of(north)
    assert shared_listing(south, PATH, investigation_id=inv["id"])["items"] == []
    agreement = share(north_admin, record_types=["case"], field_profile={"case": {"masked": ["forms"]}})
    page = shared_listing(south, PATH, investigation_id=inv["id"])
    assert ids(page) == [case["id"]] and page["total"] == 1
    shown = page["items"][0]
    assert shown["force"] == "northshire" and shown["forms"] is None
    assert shown["shared"] == {"read_only": True, "masked": ["forms"]}
    auditor = as_user("northshire", "auditor", user="ns-aud")
    assert {row["force"] for row in logged_for_provider(auditor, case["id"])} == {"southshire"}
    assert {row["force"] for row in logged_for_provider(auditor, suspect["id"])} == {"southshire"}  # its defendant
    # the URN is in the masked forms: it neither finds nor confirms the file; another force's progress is not known
    assert shared_listing(south, PATH, urn=case["forms"]["MG1"]["urn"])["items"] == []
    assert shared_listing(south, PATH, investigation_id=inv["id"], status="building")["items"] == []
    north_admin.post(f"/api/v1/sharing/agreements/{agreement['id']}/revoke", json={"reason": "ended"})
    share(north_admin, record_types=["case"])
    assert ids(shared_listing(south, PATH, urn=case["forms"]["MG1"]["urn"])) == [case["id"]]
