"""Many requests at once on threads, and the dedicated force's separate database."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.conftest import POOL_DB, superuser_url, unique


@pytest.mark.committing
def test_50_concurrent_requests_alternating_forces_never_see_another_forces_ids(app, as_user, superuser):
    marker = unique("Concurrent")
    slugs = ("northshire", "southshire", "westshire", "lakeshire")
    apis = {slug: as_user(slug, "investigator", user="concurrency-test") for slug in slugs}
    try:
        own = {slug: {api.create_person(surname=marker, forenames=name)["id"] for name in ("Ann", "Bob", "Cyd")}
               for slug, api in apis.items()}

        def call(i: int):
            slug = slugs[i % len(slugs)]
            api = as_user(slug, "investigator", user="concurrency-test")  # a client per thread
            if i % 2:
                body = api.get(f"/api/v1/people?surname={marker}").get_json()
                return slug, {p["id"] for p in body["items"]}, {p["force"] for p in body["items"]}
            person_id = sorted(own[slug])[i % 3]
            body = api.get(f"/api/v1/people/{person_id}").get_json()
            return slug, {body["id"]}, {body["force"]}

        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(call, range(50)))
        assert len(results) == 50
        for slug, ids, forces in results:
            assert ids and ids <= own[slug], slug
            assert forces == {slug}
    finally:
        for database in (POOL_DB, f"{POOL_DB}_lakeshire"):
            with psycopg.connect(superuser_url(database), autocommit=True) as conn:
                conn.execute("DELETE FROM audit_event WHERE user_id = 'concurrency-test'")
                conn.execute("DELETE FROM person WHERE surname = %s", (marker,))


@pytest.mark.committing
def test_the_dedicated_forces_rows_live_only_in_its_own_database(lake, north):
    marker = unique("Dedicated")
    lake_person = lake.create_person(surname=marker)
    north_person = north.create_person(surname=marker)
    try:
        with psycopg.connect(superuser_url(POOL_DB)) as pool, \
                psycopg.connect(superuser_url(f"{POOL_DB}_lakeshire")) as dedicated:
            def ids(conn):
                return {str(r[0]) for r in conn.execute("SELECT id FROM person WHERE surname = %s", (marker,))}

            assert ids(pool) == {north_person["id"]}
            assert ids(dedicated) == {lake_person["id"]}
        assert lake.get(f"/api/v1/people/{lake_person['id']}").status_code == 200
        assert north.get(f"/api/v1/people/{lake_person['id']}").status_code == 404
        assert lake.get(f"/api/v1/people/{north_person['id']}").status_code == 404
    finally:
        for database in (POOL_DB, f"{POOL_DB}_lakeshire"):
            with psycopg.connect(superuser_url(database), autocommit=True) as conn:
                conn.execute("DELETE FROM audit_event WHERE record_id IN (%s, %s)",
                             (lake_person["id"], north_person["id"]))
                conn.execute("DELETE FROM person WHERE surname = %s", (marker,))


@pytest.mark.committing
def test_concurrent_retries_with_one_idempotency_key_create_one_record(as_user, superuser):
    surname = unique("Twin")
    headers = {"Idempotency-Key": unique("race")}
    body = {"surname": surname, "forenames": "Once", "sex": "male"}

    def post(_):
        response = as_user("northshire", "investigator", user="idem-race").post(
            "/api/v1/people", json=body, headers=headers)
        return response.status_code, response.get_json()["id"]

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(post, range(6)))
        assert {status for status, _ in results} == {201}
        assert len({person_id for _, person_id in results}) == 1
        stored = superuser.execute("SELECT count(*) FROM person WHERE surname = %s", (surname,)).fetchone()[0]
        assert stored == 1
    finally:
        superuser.execute("DELETE FROM audit_event WHERE user_id = 'idem-race'")
        superuser.execute("DELETE FROM idempotency_key WHERE user_id = 'idem-race'")
        superuser.execute("DELETE FROM person WHERE surname = %s", (surname,))


@pytest.mark.committing
def test_custody_numbers_booked_at_once_are_distinct_and_without_gaps(as_user):
    from datetime import datetime, timedelta, timezone

    marker = unique("Cn")
    arrived = datetime.now(timezone.utc) - timedelta(hours=1)

    def book(i: int) -> str:
        api = as_user("westshire", "custody_officer", user="concurrency-test")
        response = api.post("/api/v1/custody/records", json={
            "suite": "WST", "person": {"surname": f"{marker}{'abcdefghij'[i]}", "forenames": "Test", "sex": "male"},
            "confirm_new": True, "arrested_at": arrived.isoformat(), "arrest_place": "x", "arresting_officer": "x",
            "arrived_at": arrived.isoformat(), "offences": [{"code": "28/1", "wording": "x", "indictable": True}]})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["custody_number"]

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            numbers = list(pool.map(book, range(8)))
        serials = sorted(int(n.rsplit("/", 1)[1]) for n in numbers)
        assert len(set(numbers)) == 8 and serials == list(range(serials[0], serials[0] + 8))
    finally:
        with psycopg.connect(superuser_url(POOL_DB), autocommit=True) as conn:
            conn.execute("DELETE FROM audit_event WHERE user_id = 'concurrency-test'")
            conn.execute("DELETE FROM custody_record WHERE created_by = 'concurrency-test'")
            conn.execute("DELETE FROM person_search_key WHERE person_id IN "
                         "(SELECT id FROM person WHERE surname LIKE %s)", (f"{marker}%",))
            conn.execute("DELETE FROM person WHERE surname LIKE %s", (f"{marker}%",))
