"""PACE s.40(1)(b): before charge, a detainee's review is an inspector's who is not involved in the investigation."""
from __future__ import annotations

from tests.conftest import unique_name
from tests.custody.test_investigation_link import book_suspect, investigation
from tests.custody.test_records import NOW, H, entry
from tests.investigations.test_records import move


def test_the_inspector_in_charge_of_the_investigation_cannot_review_the_detention(as_user):
    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    involved = as_user("northshire", "investigator", "custody_inspector", user="insp-oic")
    suspect = involved.create_person(surname=unique_name("Sus"))
    inv = investigation(involved, [(suspect, "suspect")])
    assert move(involved, inv, "qa", 1).status_code == 200
    allocated = move(involved, inv, "allocate", 2, officer_in_charge="insp-oic")
    assert allocated.status_code == 200 and allocated.get_json()["officer_in_charge"] == "insp-oic"
    booked = book_suspect(sergeant, suspect, [inv["id"]], arrived=NOW - 5 * H)
    assert booked.status_code == 201, booked.get_json()
    review = entry(involved, booked.get_json(), "review", NOW - 1 * H, decision="continue")
    assert review.status_code in (403, 409), review.get_json()
    assert "not involved" in review.get_json()["message"]
