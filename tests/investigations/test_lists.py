"""GET /api/v1/investigations: each filter, paging totals, and another force's investigations only where an
agreement allows (masked, logged for the provider)."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import unique
from tests.investigations.test_records import move, person, record
from tests.lists import ids, listed, logged_for_provider, shared_listing
from tests.sharing.test_agreements import share

PATH = "/api/v1/investigations"


def test_each_filter_narrows_the_list_and_pages_carry_the_total(north):
    someone = person(north)
    first = record(north, [(someone, "suspect")])
    second = record(north, [(someone, "victim")], primary_classification="8/1", included_classifications=["49/2"])
    third = record(north, [(someone, "witness")], primary_classification="49/2", kind="non_crime")
    oic = unique("pc-")
    assert move(north, first, "qa", 1).status_code == 200
    assert move(north, first, "allocate", 2, officer_in_charge=oic).status_code == 200

    def of(**query):
        return set(ids(listed(north, PATH, person_id=someone["id"], **query)))

    assert of() == {first["id"], second["id"], third["id"]}
    assert ids(listed(north, PATH, reference=first["reference"])) == [first["id"]]
    assert of(status="allocated") == {first["id"]} and of(status="recorded") == {second["id"], third["id"]}
    assert ids(listed(north, PATH, officer_in_charge=oic)) == [first["id"]]
    assert of(offence="49/2") == {second["id"], third["id"]} and of(offence="46/1") == {first["id"]}
    assert of(role="victim") == {second["id"]} and of(role="reporting_person") == set()
    assert of(kind="non_crime") == {third["id"]}
    one, two = (listed(north, PATH, person_id=someone["id"], page_size=2, page=p) for p in (1, 2))
    assert (one["total"], two["total"], len(one["items"]), len(two["items"])) == (3, 3, 2, 1)
    assert set(ids(one)) | set(ids(two)) == of()


def test_the_date_range_takes_its_start_and_leaves_out_its_end(north):
    someone = person(north)
    inv = record(north, [(someone, "suspect")])
    at = datetime.fromisoformat(inv["created_at"])
    just_after = (at + timedelta(microseconds=1)).isoformat()

    def of(**query):
        return ids(listed(north, PATH, person_id=someone["id"], **query))

    assert of(recorded_from=inv["created_at"]) == [inv["id"]] and of(recorded_from=just_after) == []
    assert of(recorded_to=inv["created_at"]) == [] and of(recorded_to=just_after) == [inv["id"]]


def test_bad_filters_are_refused_naming_the_field(north):
    for query, field in (({"role": "victim"}, "role"), ({"status": "closed"}, "status"), ({"offence": "theft"},
                         "offence"), ({"recorded_from": "2025-01-02T00:00:00Z", "recorded_to": "2025-01-01T00:00:00Z"},
                         "recorded_to"), ({"page_size": 101}, "page_size"), ({"tenant_id": "x"}, "tenant_id")):
        response = north.get(PATH, query_string=query)
        assert response.status_code == 422 and field in str(response.get_json()["errors"]), (query, response.json)


def test_another_forces_investigations_appear_only_with_an_agreement_masked_and_logged(north, south, north_admin,
                                                                                       as_user):
    theirs = record(north, [(person(north), "suspect")])
    oic = unique("pc-")
    assert move(north, theirs, "qa", 1).status_code == 200
    assert move(north, theirs, "allocate", 2, officer_in_charge=oic).status_code == 200
    assert shared_listing(south, PATH, reference=theirs["reference"])["items"] == []
    share(north_admin, record_types=["investigation"],
          field_profile={"investigation": {"masked": ["officer_in_charge"]}})
    page = shared_listing(south, PATH, reference=theirs["reference"])
    assert ids(page) == [theirs["id"]] and page["total"] == 1
    shown = page["items"][0]
    assert shown["force"] == "northshire" and shown["officer_in_charge"] is None
    assert shown["shared"] == {"read_only": True, "masked": ["officer_in_charge"]}
    auditor = as_user("northshire", "auditor", user="ns-aud")
    assert [row["force"] for row in logged_for_provider(auditor, theirs["id"])] == ["southshire"]
    # the masked officer in charge neither finds nor confirms their investigation
    assert shared_listing(south, PATH, officer_in_charge=oic)["items"] == []
    assert shared_listing(south, PATH, reference=theirs["reference"], officer_in_charge="nobody")["items"] == []


def test_a_filter_on_a_field_the_agreement_releases_finds_another_forces_investigation(north, south, north_admin):
    suspect = person(north)
    theirs = record(north, [(suspect, "suspect")])
    oic = unique("pc-")
    assert move(north, theirs, "qa", 1).status_code == 200
    assert move(north, theirs, "allocate", 2, officer_in_charge=oic).status_code == 200
    share(north_admin, record_types=["investigation", "link", "person", "event"])
    assert ids(shared_listing(south, PATH, officer_in_charge=oic)) == [theirs["id"]]
    assert ids(shared_listing(south, PATH, person_id=suspect["id"], role="suspect")) == [theirs["id"]]
    assert ids(shared_listing(south, PATH, offence="46/1", status="allocated")) == [theirs["id"]]
    assert shared_listing(south, PATH, person_id=suspect["id"], role="victim")["items"] == []


def test_a_masked_person_link_neither_finds_nor_confirms_another_forces_investigation(north, south, north_admin):
    suspect = person(north)
    theirs = record(north, [(suspect, "suspect")])
    share(north_admin, record_types=["investigation", "link", "person", "event"],
          field_profile={"investigation": {"masked": ["people"]}})
    assert ids(shared_listing(south, PATH, reference=theirs["reference"])) == [theirs["id"]]
    assert shared_listing(south, PATH, person_id=suspect["id"])["items"] == []
