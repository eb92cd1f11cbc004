"""Each outcome rule at its edges: the status, and the rule named in the refusal (app.investigations.outcomes)."""
from __future__ import annotations

import pytest

from tests.conftest import unique
from tests.investigations.test_records import move, record, to_investigation

OFFENCE = "2025-06-15T12:00:00+00:00"  # the offence date the suspects' ages are taken at


def finalise(north, as_user, outcome, *, dob="1980-01-01", suspect=True, charged=False, kind="crime"):
    """An investigation with (or without) a suspect (dob None: born on a date not known), finalised with one
    outcome: the answer."""
    people = []
    if suspect:
        people = [(_suspect(north, dob), "suspect")]
    inv = record(north, people, occurred_at=OFFENCE, kind=kind)
    version = to_investigation(north, as_user, inv)
    if charged:
        entry = north.post(f"/api/v1/investigations/{inv['id']}/entries",
                           json={"kind": "charge", "text": "theft", "person_id": people[0][0]["id"]})
        assert entry.status_code == 201, entry.get_json()
        version += 1
    return move(north, inv, "finalise", version, outcome_type=outcome)


def _suspect(north, dob):
    if dob is not None:
        return north.create_person(date_of_birth=dob)
    body = {"surname": unique("Doe"), "forenames": "Jane", "sex": "female"}
    response = north.post("/api/v1/people", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def refused_by(answer, rule):
    body = answer.get_json()
    assert answer.status_code == 409, body
    assert f"rule: {rule}" in body["message"] and body["errors"] == {"outcome_type": [rule]}, body
    return body["message"]


@pytest.mark.parametrize("dob, status", [("2015-06-16", 200), ("2015-06-15", 409)])
def test_outcome_11_needs_a_suspect_below_the_age_of_criminal_responsibility(north, as_user, dob, status):
    answer = finalise(north, as_user, 11, dob=dob)  # 9 the day before the 10th birthday; 10 on it
    if status == 409:
        assert "under 10" in refused_by(answer, "below the age of criminal responsibility")
    else:
        assert answer.status_code == 200, answer.get_json()


def test_outcome_11_needs_a_named_suspect_and_their_age(north, as_user):
    refused_by(finalise(north, as_user, 11, suspect=False), "named suspect required")
    refused_by(finalise(north, as_user, 11, dob=None), "suspect's age known")


@pytest.mark.parametrize("dob, status", [("2015-06-15", 200), ("2015-06-16", 409)])
def test_a_sanction_cannot_stand_against_a_child_below_the_age_of_criminal_responsibility(north, as_user, dob,
                                                                                          status):
    answer = finalise(north, as_user, 8, dob=dob)  # community resolution: 10 on the day, 9 the day before
    if status == 409:
        assert "outcome 11 applies" in refused_by(answer, "criminally responsible suspect")
    else:
        assert answer.status_code == 200, answer.get_json()


@pytest.mark.parametrize("outcome", [13, 17])
def test_outcomes_13_and_17_need_a_named_suspect(north, as_user, outcome):
    refused_by(finalise(north, as_user, outcome, suspect=False), "named suspect required")
    assert finalise(north, as_user, outcome, dob="1980-01-01").status_code == 200


def test_outcome_14_is_refused_when_a_suspect_is_named_and_16_then_applies(north, as_user):
    assert "outcome 16 applies" in refused_by(finalise(north, as_user, 14, dob="1980-01-01"), "no suspect identified")
    assert finalise(north, as_user, 14, suspect=False).status_code == 200
    assert finalise(north, as_user, 16, dob="1980-01-01").status_code == 200


def test_outcome_1_is_refused_on_a_non_crime_incident(north, as_user):
    message = refused_by(finalise(north, as_user, 1, dob="1980-01-01", charged=True, kind="non_crime"),
                         "a crime, not a non-crime incident")
    assert "non-crime incident" in message
    assert finalise(north, as_user, 1, dob="1980-01-01", charged=True).status_code == 200


def test_the_youth_caution_names_its_rule_at_18(north, as_user):
    refused_by(finalise(north, as_user, 2, dob="2007-06-15"), "youth caution: suspect under 18")  # 18 on the day
    assert finalise(north, as_user, 2, dob="2007-06-16").status_code == 200  # 17 the day before
    refused_by(finalise(north, as_user, 3, dob="2007-06-16"), "adult caution: suspect 18 or over")
