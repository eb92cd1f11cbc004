"""Identical people posted at once: the duplicate check is serialised per force and candidate key."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from app.db import lock_keys
from app.people import search
from app.people.identifiers import PartialDate, pnc_check_letter
from app.people.matching import FORENAME_WEIGHTS, SURNAME_WEIGHTS
from tests.conftest import unique_name

THREADS = 10
ROUNDS = 3
USER = "duplicate-race"


def _race(as_user, body: dict) -> list[int]:
    """POST the same person from THREADS clients released together by a barrier; their status codes."""
    barrier = threading.Barrier(THREADS)

    def post(_):
        api = as_user("northshire", "investigator", user=USER)
        barrier.wait(timeout=30)
        return api.post("/api/v1/people", json=body).status_code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(post, range(THREADS)))


def _cleanup(superuser, surnames: list[str]) -> None:
    superuser.execute("DELETE FROM audit_event WHERE user_id = %s", (USER,))
    superuser.execute("DELETE FROM person_search_key WHERE person_id IN "
                      "(SELECT id FROM person WHERE surname = ANY(%s))", (surnames,))
    superuser.execute("DELETE FROM person WHERE surname = ANY(%s)", (surnames,))


@pytest.mark.committing
def test_ten_identical_posts_at_once_create_one_person_and_nine_conflicts(as_user, superuser):
    surnames: list[str] = []
    try:
        for _ in range(ROUNDS):
            surnames.append(surname := unique_name("Racer"))
            body = {"surname": surname, "forenames": "Alex", "sex": "male", "date_of_birth": "1988-03-14"}
            statuses = _race(as_user, body)
            assert sorted(statuses) == [201] + [409] * (THREADS - 1), statuses
            stored = superuser.execute("SELECT count(*) FROM person WHERE surname = %s", (surname,)).fetchone()[0]
            assert stored == 1
    finally:
        _cleanup(superuser, surnames)


@pytest.mark.committing
def test_ten_posts_sharing_only_an_identifier_create_one_person(as_user, superuser):
    """Matched by identifier alone (names and dates of birth differ): still one person, nine 409s."""
    surnames: list[str] = []
    try:
        for _ in range(ROUNDS):
            value = unique_name("P").upper()[:9]
            statuses: list[int] = []
            barrier = threading.Barrier(THREADS)

            def post(i: int, value=value, barrier=barrier):
                api = as_user("northshire", "investigator", user=USER)
                body = {"surname": unique_name("Ident"), "forenames": "Sam", "sex": "female",
                        "identifiers": [{"kind": "passport", "value": value}]}
                surnames.append(body["surname"])
                barrier.wait(timeout=30)
                return api.post("/api/v1/people", json=body).status_code

            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                statuses = list(pool.map(post, range(THREADS)))
            assert sorted(statuses) == [201] + [409] * (THREADS - 1), statuses
            stored = superuser.execute(
                "SELECT count(*) FROM person_identifier WHERE value = %s", (value,)).fetchone()[0]
            assert stored == 1
    finally:
        _cleanup(superuser, surnames)


def _keys(body: dict) -> set[str]:
    """The lock keys the service takes for this request body."""
    dob = body.get("date_of_birth")
    identifiers = tuple(i["value"] for i in body.get("identifiers", []))
    identifiers += (body["pnc_id"],) if "pnc_id" in body else ()
    return search.collision_keys(body["surname"], body.get("forenames", ""),
                                 [(o["surname"], o.get("forenames", "")) for o in body.get("other_names", [])],
                                 PartialDate(date.fromisoformat(dob), "day") if dob else None, identifiers)


def _pairs() -> list[tuple[str, dict, dict]]:
    t = unique_name("")
    pnc = f"98/{12345:07d}{pnc_check_letter(98, 12345)}"
    same = {"forenames": "Alex", "date_of_birth": "1988-03-14"}
    return [
        ("phonetic surname", {"surname": f"Smith{t}", **same}, {"surname": f"Smyth{t}", **same}),
        ("names swapped", {"surname": f"Jane{t}", "forenames": f"Ward{t}", "date_of_birth": "1971-05-02"},
         {"surname": f"Ward{t}", "forenames": f"Jane{t}", "date_of_birth": "1971-05-02"}),
        ("alias, nickname",
         {"surname": f"Other{t}", "forenames": "Katherine", "date_of_birth": "1988-03-14",
          "other_names": [{"kind": "alias", "surname": f"Known{t}", "forenames": "Katherine"}]},
         {"surname": f"Known{t}", "forenames": "Kate", "date_of_birth": "1988-03-14"}),
        ("a year apart", {"surname": f"Year{t}", **same},
         {"surname": f"Year{t}", **same, "date_of_birth": "1989-03-14"}),
        ("day and month transposed", {"surname": f"Day{t}", "forenames": "Alex", "date_of_birth": "1988-03-09"},
         {"surname": f"Day{t}", "forenames": "Alex", "date_of_birth": "1988-09-03"}),
        ("three-part surname", {"surname": f"De La Cruz{t}", **same}, {"surname": f"De La Cruz{t}", **same}),
        ("PNC ID written differently", {"surname": f"Pnc{t}", "forenames": "Alex", "pnc_id": pnc},
         {"surname": f"Else{t}", "forenames": "Bo", "pnc_id": pnc.replace("/00", "/").lower()}),
    ]


@pytest.mark.parametrize("case", range(len(_pairs())), ids=[p[0] for p in _pairs()])
def test_every_probable_duplicate_shares_a_lock_key_with_the_person_it_matches(north, case):
    """The lock keys are derived from the scoring rules: a pair the search calls a probable duplicate must share
    one, or the two could be created at once. Each pair here is one way of matching."""
    _, first, second = _pairs()[case]
    existing = north.post("/api/v1/people?confirm_new=true", json={"sex": "male", **first})
    assert existing.status_code == 201, existing.get_json()
    response = north.post("/api/v1/people", json={"sex": "male", **second})
    assert response.status_code == 409, response.get_json()
    assert existing.get_json()["id"] in {c["id"] for c in response.get_json()["candidates"]}
    assert _keys(first) & _keys(second)


def test_a_name_without_a_full_date_of_birth_is_never_a_probable_duplicate_so_it_takes_no_name_lock():
    """Why collision_keys leaves names out without a date of birth to the day: they cannot reach the threshold."""
    best_name = max(w for w, _ in SURNAME_WEIGHTS.values()) + max(w for w, _ in FORENAME_WEIGHTS.values())
    best_partial = max(search.date_of_birth_points(PartialDate(date(1988, 1, 1), "year"),
                                                   PartialDate(date(1988, 3, 14), "day"))[0], 0)
    assert best_name + best_partial < search.DUPLICATE_THRESHOLD
    assert _keys({"surname": "Smith", "forenames": "Alex"}) == set()
    assert _keys({"surname": "Smith", "forenames": "Alex", "identifiers": [{"value": "AB123456C"}]}) == {"ID:AB123456C"}


@pytest.mark.committing
def test_a_held_candidate_lock_delays_only_that_candidate_not_other_people(as_user, services, superuser):
    held = {"surname": unique_name("Held"), "forenames": "Alex", "sex": "male", "date_of_birth": "1988-03-14"}
    other = {"surname": unique_name("Free"), "forenames": "Robin", "sex": "male", "date_of_birth": "1960-07-01"}
    assert not _keys(held) & _keys(other)
    tenant = services.registry.by_slug("northshire")
    api = as_user("northshire", "investigator", user=USER)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            with services.databases.session(tenant) as session, session.begin():
                lock_keys(session, "person.create", tenant.id, _keys(held))
                waiting = pool.submit(lambda: api.post("/api/v1/people", json=held).status_code)
                free = pool.submit(lambda: api.post("/api/v1/people", json=other).status_code)
                assert free.result(timeout=10) == 201  # another person is not held up
                with pytest.raises(TimeoutError):
                    waiting.result(timeout=0.5)  # the same candidate waits for the held keys
            assert waiting.result(timeout=10) == 201  # and goes on once they are released
    finally:
        _cleanup(superuser, [held["surname"], other["surname"]])
