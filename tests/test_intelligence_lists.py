"""GET /api/v1/intelligence/reports: each filter, paging totals, unsanitised material withheld as in the detail
view, and another force's reports only where an agreement allows (live, sanitised, code P; masked, logged)."""
from __future__ import annotations

from tests.conftest import unique_name
from tests.lists import ids, listed, logged_for_provider, shared_listing
from tests.sharing.test_agreements import share
from tests.test_intelligence import ACCEPT, submit

PATH = "/api/v1/intelligence/reports"


def reports(as_user, north):
    """A live report about a person, one accepted awaiting linking, one code C awaiting assessment."""
    officer, analyst = as_user("northshire", "officer", user="pc-author"), as_user("northshire", "intelligence_analyst")
    subject = north.create_person(surname=unique_name("Subject"))
    live, linking = submit(officer), submit(officer)
    coded_c = submit(officer, handling_code="C", handling_conditions="not beyond the drugs unit")
    for report in (live, linking):
        assert analyst.post(f"{PATH}/{report['id']}/assess", json=ACCEPT).status_code == 200
    went_live = analyst.post(f"{PATH}/{live['id']}/links",
                             json={"entities": [{"type": "person", "id": subject["id"]}], "go_live": True})
    assert went_live.status_code == 200, went_live.get_json()
    return analyst, subject, live, linking, coded_c


def test_each_filter_narrows_the_list_and_pages_carry_the_total(as_user, north):
    analyst, subject, live, linking, coded_c = reports(as_user, north)

    def of(api=analyst, **query):
        return set(ids(listed(api, PATH, **query)))

    assert of() == {live["id"], linking["id"], coded_c["id"]}
    assert of(status="live") == {live["id"]} and of(status="requires_assessment") == {coded_c["id"]}
    assert of(person_id=subject["id"]) == {live["id"]}
    assert of(handling_code="P") == {live["id"], linking["id"]} and of(handling_code="C") == {coded_c["id"]}
    one, two = (listed(analyst, PATH, page_size=2, page=p) for p in (1, 2))
    assert (one["total"], two["total"], len(one["items"]), len(two["items"])) == (3, 3, 2, 1)
    assert set(ids(one)) | set(ids(two)) == of()


def test_the_list_withholds_unsanitised_material_and_never_filters_by_it(as_user, north):
    analyst, _, live, linking, coded_c = reports(as_user, north)
    colleague = as_user("northshire", "officer", user="pc-other")
    page = listed(colleague, PATH)
    assert {i["id"] for i in page["items"]} == {live["id"], linking["id"], coded_c["id"]}
    assert all("unsanitised_text" not in i and "handling_code" not in i and i["unsanitised"] == "withheld"
               for i in page["items"])
    assert all("CHIS" in i["unsanitised_text"] for i in listed(analyst, PATH)["items"])
    # the code C a report was submitted with is unsanitised grading: it finds nothing for who may not see it
    assert listed(colleague, PATH, handling_code="C")["items"] == []


def test_a_deleted_report_is_never_listed(as_user, north):
    analyst, _, live, linking, coded_c = reports(as_user, north)
    officer = as_user("northshire", "officer", user="pc-author")
    assert officer.post(f"{PATH}/{linking['id']}/deletion", json={"reason": "duplicate"}).status_code == 200
    assert analyst.post(f"{PATH}/{linking['id']}/deletion/authorise").status_code == 200
    assert set(ids(listed(analyst, PATH))) == {live["id"], coded_c["id"]}
    assert listed(analyst, PATH, handling_code="P")["total"] == 1


def test_bad_filters_are_refused_naming_the_field(as_user):
    analyst = as_user("northshire", "intelligence_analyst")
    for query, field in (({"status": "deleted"}, "status"), ({"handling_code": "X"}, "handling_code"),
                         ({"person_id": "nobody"}, "person_id"), ({"unsanitised_text": "CHIS"}, "unsanitised_text")):
        response = analyst.get(PATH, query_string=query)
        assert response.status_code == 422 and field in str(response.get_json()["errors"]), (query, response.json)


def test_another_forces_live_sanitised_reports_appear_only_with_an_agreement_masked_and_logged(as_user, north,
                                                                                             north_admin):
    _, subject, live, _, _ = reports(as_user, north)
    south = as_user("southshire", "intelligence_analyst", user="ss-ia")
    assert shared_listing(south, PATH)["items"] == []
    share(north_admin, record_types=["intelligence"], field_profile={"intelligence": {"masked": ["mopi_group"]}})
    page = shared_listing(south, PATH)
    assert ids(page) == [live["id"]] and page["total"] == 1  # not the one awaiting linking, nor the code C
    shown = page["items"][0]
    assert shown["force"] == "northshire" and shown["mopi_group"] is None and shown["unsanitised"] == "withheld"
    assert "unsanitised_text" not in shown and shown["shared"] == {"read_only": True, "masked": ["mopi_group"]}
    assert shared_listing(south, PATH, handling_code="P", status="live")["total"] == 1
    auditor = as_user("northshire", "auditor", user="ns-aud")
    assert {row["force"] for row in logged_for_provider(auditor, live["id"])} == {"southshire"}
