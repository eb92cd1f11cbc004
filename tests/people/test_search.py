"""Person search, duplicate control, research, merge and undo: what an officer sees."""
from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.types import SmallInteger

from app.people import search
from app.people.identifiers import PartialDate
from app.people.matching import query_keys, tokens
from tests.conftest import superuser_url, unique, unique_name


def names(results):
    return [(r["surname"], r["forenames"]) for r in results]


def confirmed(api, **fields):
    """Create a person even though they look like one already recorded (as an officer would, having checked)."""
    body = {"sex": "female", **fields}
    response = api.post("/api/v1/people?confirm_new=true", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def find(api, **params):
    response = api.get("/api/v1/people/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.mark.parametrize("written, typed", [("O'Brien", "OBrien"), ("O'Brien", "O Brien"), ("MacDonald", "McDonald"),
                                            ("Zoë", "zoe"), ("Smith-Jones", "smith jones")])
def test_names_normalise_alike(written, typed):
    assert "".join(tokens(written)) == "".join(tokens(typed))


def test_free_text_names_in_any_order_find_the_person_with_reasons(north):
    tag = unique("Q")[:6].upper()
    siobhan = north.create_person(surname=f"O'Brien{tag}", forenames="Siobhan", date_of_birth="1984-06-09")
    results = find(north, name=f"OBrien{tag} Siobhan")
    assert results[0]["id"] == siobhan["id"]
    assert {"exact surname", "exact forename"} <= set(results[0]["reasons"]) and results[0]["score"] == 70
    assert find(north, name=f"Siobhan O Brien{tag}")[0]["id"] == siobhan["id"]


def test_each_part_of_a_hyphenated_surname_and_a_nickname_match(north):
    tag = unique("H")[:6].upper()
    kate = north.create_person(surname=f"Smith-Jones{tag}", forenames="Katherine", sex="female")
    top = find(north, name=f"Kate Jones{tag}")[0]
    assert top["id"] == kate["id"] and {"surname part", "nickname"} <= set(top["reasons"])
    assert find(north, name=f"Smith-Jones{tag} Katherine")[0]["reasons"][:2] == ["exact surname", "exact forename"]


def test_a_nickname_finds_the_name_of_its_group_and_that_name_finds_the_nicknames(north):
    surname = unique_name("Grp")
    catherine = north.create_person(surname=surname, forenames="Catherine")  # names its group: no FG key stored
    kate = north.post("/api/v1/people?confirm_new=true", json={  # the same name to the duplicate check
        "surname": surname, "forenames": "Kate", "sex": "female", "date_of_birth": "1990-01-01"}).get_json()
    by_nickname = {p["id"]: p["reasons"] for p in find(north, name=f"Kate {surname}")}
    assert "nickname" in by_nickname[catherine["id"]] and "exact forename" in by_nickname[kate["id"]]
    by_name = {p["id"]: p["reasons"] for p in find(north, name=f"Catherine {surname}")}
    assert "nickname" in by_name[kate["id"]] and "exact forename" in by_name[catherine["id"]]


def test_a_typo_matches_phonetically_and_an_alias_like_a_primary_name(north):
    tag = uuid.uuid4().hex[:4].upper()
    person = north.create_person(surname="Thompson", forenames=f"Bartholomew{tag}", date_of_birth="1970-02-03",
                                 other_names=[{"kind": "alias", "surname": "Fairweather", "forenames": "Barry"}])
    typo = find(north, name=f"Bartholomew{tag} Tompson", date_of_birth="1970-02-03")
    assert typo[0]["id"] == person["id"] and "phonetic surname" in typo[0]["reasons"]
    alias = find(north, name="Barry Fairweather", date_of_birth="1970-02-03")
    assert alias[0]["id"] == person["id"] and "alias" in alias[0]["reasons"]


@pytest.mark.parametrize(
    "typed, points, reason",
    [("1990-05-04", 30, "date of birth exact"), ("1990-04-05", 20, "day and month transposed"),
     ("1991-05-04", 15, "date of birth ±1 year"), ("1990", 10, "year only"), ("1975-01-01", -10, None)],
)
def test_date_of_birth_scores(typed, points, reason):
    assert search.date_of_birth_points(PartialDate.parse(typed), PartialDate.parse("1990-05-04")) == (points, reason)


def test_date_of_birth_ranks_and_filters_narrow(north):
    surname = unique("Dob")
    exact = north.create_person(surname=surname, forenames="Ann", date_of_birth="1990-05-04", sex="female")
    swapped = confirmed(north, surname=surname, forenames="Ann", date_of_birth="1990-04-05")
    other = confirmed(north, surname=surname, forenames="Ann", date_of_birth="1960-01-01")
    unknown = confirmed(north, surname=surname, forenames="Ann", date_of_birth=None)
    results = find(north, name=f"Ann {surname}", date_of_birth="1990-05-04")
    # with a date of birth, name matches are people born within a year of it, or whose birth is unknown
    assert [r["id"] for r in results] == [exact["id"], swapped["id"], unknown["id"]]
    assert "day and month transposed" in results[1]["reasons"]
    assert {r["id"] for r in find(north, name=f"Ann {surname}")} == {exact["id"], swapped["id"], other["id"],
                                                                     unknown["id"]}
    young = find(north, name=f"Ann {surname}", age_from=20, age_to=45)
    assert {r["id"] for r in young} == {exact["id"], swapped["id"]}  # an unknown age is outside any range
    assert find(north, name=f"Ann {surname}", sex="male") == []


def test_year_only_and_approximate_dates_of_birth(north):
    surname = unique("Yr")
    person = north.create_person(surname=surname, forenames="Li", date_of_birth="1979")
    assert person["date_of_birth"] == "1979"
    top = find(north, name=f"Li {surname}", date_of_birth="1979-07-14")[0]
    assert top["id"] == person["id"] and "year only" in top["reasons"]


def test_a_strong_identifier_matches_directly(north):
    person = north.create_person(surname=unique(), pnc_id="05/0123456R",
                                 identifiers=[{"kind": "ni_number", "value": "ab 12 34 56 c"}])
    assert person["identifiers"] == [{"kind": "ni_number", "value": "AB123456C"}]
    for value in ("05/123456R", "AB123456C"):
        results = find(north, identifier=value)
        assert [r["id"] for r in results] == [person["id"]] and results[0]["reasons"] == ["identifier"]


def test_postcode_narrows_to_people_linked_to_an_address_there(north):
    surname = unique("Pc")
    here = north.create_person(surname=surname, forenames="Al")
    confirmed(north, surname=surname, forenames="Al", date_of_birth="1991-01-01")
    place = north.post("/api/v1/locations", json={"address_lines": ["3 Mill Lane"], "postcode": "MK1 2AB"}).get_json()
    north.post("/api/v1/links", json={"from": {"type": "person", "id": here["id"]},
                                      "to": {"type": "location", "id": place["id"]}, "link_type": "resides_at"})
    assert [r["id"] for r in find(north, name=f"Al {surname}", postcode="mk12ab")] == [here["id"]]


def test_search_needs_a_criterion_and_refuses_bad_values(north):
    assert "name" in north.get("/api/v1/people/search?sex=male").get_json()["errors"]
    assert north.get("/api/v1/people/search?name=x&date_of_birth=1990-13-01").status_code == 422
    assert "age_to" in north.get("/api/v1/people/search?name=x&age_from=40&age_to=20").get_json()["errors"]


def test_search_never_returns_another_forces_people(north, south):
    surname = unique("Iso")
    theirs = south.create_person(surname=surname, forenames="Sam", pnc_id="07/0000042B")
    assert find(north, name=f"Sam {surname}") == []
    assert find(north, identifier="07/0000042B") == []
    assert [r["id"] for r in find(south, name=f"Sam {surname}")] == [theirs["id"]]


def test_creating_a_probable_duplicate_is_409_with_candidates_unless_confirmed(north):
    surname = unique("Dup")
    first = north.create_person(surname=surname, forenames="William", date_of_birth="1988-03-02", sex="male")
    body = {"surname": surname, "forenames": "Bill", "date_of_birth": "1988-03-02", "sex": "male"}
    clash = north.post("/api/v1/people", json=body)
    assert clash.status_code == 409
    candidates = clash.get_json()["candidates"]
    assert candidates[0]["id"] == first["id"] and candidates[0]["score"] >= 85
    assert {"exact surname", "nickname", "date of birth exact"} <= set(candidates[0]["reasons"])
    assert north.post("/api/v1/people?confirm_new=true", json=body).status_code == 201
    # someone merely sharing a common name (no date of birth) is not stopped
    assert north.post("/api/v1/people", json={**body, "date_of_birth": None}).status_code == 201


def test_researching_adds_new_details_to_the_existing_person(north):
    surname = unique("Res")
    person = north.create_person(surname=surname, forenames="Margaret", date_of_birth="1950-10-10")
    response = north.post(f"/api/v1/people/{person['id']}/research", json={
        "surname": surname, "forenames": "Peggy", "sex": "female", "date_of_birth": "1950-10-10",
        "place_of_birth": "Leeds", "identifiers": [{"kind": "passport", "value": "123456789"}]})
    assert response.status_code == 200, response.get_json()
    after = response.get_json()
    assert after["place_of_birth"] == "Leeds" and after["version"] == 2
    assert {"kind": "alias", "surname": surname, "forenames": "Peggy"} in after["other_names"]
    assert after["identifiers"] == [{"kind": "passport", "value": "123456789"}]
    assert after["forenames"] == "Margaret"  # nothing recorded is overwritten


def test_warning_markers_come_from_the_forces_list(north, lake):
    ok = north.create_person(surname=unique(), warning_markers=[{"code": "VI", "from_date": "2024-02-29"}])
    assert ok["warning_markers"] == [{"code": "VI", "from_date": "2024-02-29", "review_date": "2025-02-28",
                                      "source": None}]
    bad = north.post("/api/v1/people", json={"surname": unique(), "forenames": "A", "sex": "male",
                                             "warning_markers": [{"code": "WATER", "from_date": "2024-01-01"}]})
    assert bad.status_code == 422 and "warning_markers.0.code" in bad.get_json()["errors"]
    assert lake.create_person(surname=unique(), warning_markers=[{"code": "WATER", "from_date": "2024-01-01"}])


def test_merge_moves_everything_blanks_nothing_and_can_be_undone(as_user):
    clerk = as_user("northshire", "investigator", "supervisor")
    surname = unique("Mrg")
    survivor = clerk.create_person(surname=surname, forenames="John", date_of_birth="1970-01-01", height_cm=180)
    duplicate = clerk.post("/api/v1/people?confirm_new=true", json={
        "surname": surname, "forenames": "Jon", "sex": "male", "date_of_birth": "1970-01-01", "height_cm": 175,
        "pnc_id": "99/0000007N", "place_of_birth": "York",
        "identifiers": [{"kind": "cro", "value": "12345/70X"}]}).get_json()
    place = clerk.post("/api/v1/locations", json={"address_lines": ["9 Back Lane"]}).get_json()
    lnk = clerk.post("/api/v1/links", json={"from": {"type": "person", "id": duplicate["id"]},
                                            "to": {"type": "location", "id": place["id"]},
                                            "link_type": "resides_at"}).get_json()

    merged = clerk.post(f"/api/v1/people/{duplicate['id']}/merge",
                        json={"survivor_id": survivor["id"], "reason": "same man, booked twice"})
    assert merged.status_code == 201, merged.get_json()
    after = clerk.get(f"/api/v1/people/{survivor['id']}").get_json()
    assert after["height_cm"] == 180 and after["place_of_birth"] == "York" and after["pnc_id"] == "99/0000007N"
    assert after["identifiers"] == [{"kind": "cro", "value": "12345/70X"}]
    assert {"kind": "alias", "surname": surname, "forenames": "Jon"} in after["other_names"]
    assert clerk.get(f"/api/v1/links/{lnk['id']}").get_json()["from"]["id"] == survivor["id"]
    assert clerk.get(f"/api/v1/people/{duplicate['id']}").get_json()["merged_into"] == survivor["id"]
    assert [r["id"] for r in find(clerk, name=f"Jon {surname}")] == [survivor["id"]]
    again = clerk.post(f"/api/v1/people/{duplicate['id']}/merge",
                       json={"survivor_id": survivor["id"], "reason": "again"})
    assert again.status_code == 409

    merge_id = merged.get_json()["id"]
    undone = clerk.post(f"/api/v1/people/merges/{merge_id}/undo", json={"reason": "twins, not one man"})
    assert undone.status_code == 200 and undone.get_json()["undone_by"] == "pc-101"
    back = clerk.get(f"/api/v1/people/{duplicate['id']}").get_json()
    assert back["merged_into"] is None and back["pnc_id"] == "99/0000007N"
    assert back["identifiers"] == [{"kind": "cro", "value": "12345/70X"}]
    survivor_after = clerk.get(f"/api/v1/people/{survivor['id']}").get_json()
    assert survivor_after["place_of_birth"] is None and survivor_after["pnc_id"] is None
    assert survivor_after["other_names"] == []
    assert clerk.get(f"/api/v1/links/{lnk['id']}").get_json()["from"]["id"] == duplicate["id"]
    assert {r["id"] for r in find(clerk, name=f"Jon {surname}")} == {survivor["id"], duplicate["id"]}
    assert clerk.post(f"/api/v1/people/merges/{merge_id}/undo", json={"reason": "again"}).status_code == 409


def test_merging_needs_the_permission_and_a_survivor_of_the_same_force(as_user, north, south):
    mine, theirs = north.create_person(surname=unique()), south.create_person(surname=unique())
    body = {"survivor_id": mine["id"], "reason": "dup"}
    assert north.post(f"/api/v1/people/{mine['id']}/merge", json=body).status_code == 403
    clerk = as_user("northshire", "supervisor")
    other = clerk.post(f"/api/v1/people/{mine['id']}/merge", json={"survivor_id": theirs["id"], "reason": "dup"})
    assert other.status_code == 422 and "survivor_id" in other.get_json()["errors"]
    assert clerk.post(f"/api/v1/people/{theirs['id']}/merge", json=body).status_code == 404


def test_duplicates_lists_likely_pairs_ranked(as_user):
    clerk = as_user("northshire", "supervisor")
    surname = unique_name("Pair")
    a = clerk.create_person(surname=surname, forenames="Elizabeth", date_of_birth="1966-06-06")
    b = clerk.post("/api/v1/people?confirm_new=true", json={"surname": surname, "forenames": "Liz", "sex": "female",
                                                            "date_of_birth": "1966-06-06"}).get_json()
    pairs = clerk.get("/api/v1/people/duplicates?page_size=100").get_json()["items"]
    ours = [p for p in pairs if {p["first"]["id"], p["second"]["id"]} == {a["id"], b["id"]}]
    assert ours and ours[0]["score"] >= 85 and "nickname" in ours[0]["reasons"]


# Search keys as a force has them (many people, thousands of distinct keys, decades of birth years), for each
# force the plans read: planned over the handful of test rows instead, the plan depended on whether autovacuum
# had analysed them yet (near-empty, the planner takes the smaller (tenant_id, person_id) index and leaves the
# key to a filter), so the guard passed or failed by the suite's timing.
KEYS_AT_SCALE = """
INSERT INTO person_search_key (tenant_id, key, birth_year, person_id)
SELECT t, 'SE:SYNTHETIC' || (i %% 5000), 1940 + i %% 70, gen_random_uuid()
FROM unnest(%s::uuid[]) AS t, generate_series(1, 20000) AS i
"""


def _plan(services, sql: Any, params: dict[str, Any]) -> str:
    """EXPLAIN as the runtime role under RLS, for northshire with a purpose stated, sequential scans off, with
    the key table's statistics those of keys at a force's scale (all rolled back)."""
    tenant = services.registry.by_slug("northshire")
    explain = text("EXPLAIN " + sql.text).bindparams(*sql._bindparams.values())
    forces = [t.id for t in services.registry.tenants() if not t.dedicated]
    with create_engine(superuser_url().replace("postgresql://", "postgresql+psycopg://")).connect() as conn:
        conn.exec_driver_sql(KEYS_AT_SCALE, (forces,))
        conn.exec_driver_sql("ANALYZE person_search_key")
        conn.exec_driver_sql(f"SET LOCAL ROLE {services.settings.runtime_role}")  # RLS as the app has it
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql(f"SELECT set_config('app.tenant_id', '{tenant.id}', true)")
        conn.exec_driver_sql("SELECT set_config('app.purpose', 'an investigation', true)")
        assert conn.exec_driver_sql("SELECT current_user").scalar() == "concord_app"
        plan = "\n".join(r[0] for r in conn.execute(explain, params))
        conn.rollback()
    return plan


@pytest.mark.parametrize("count", [False, True], ids=["ranked", "counted"])
@pytest.mark.parametrize("forces", [("northshire",), ("northshire", "southshire", "westshire")])
def test_the_search_uses_its_indexes_as_the_runtime_role_under_rls(services, forces, count):
    """Fails if a search predicate stops being usable by an index under RLS (e.g. a non-leakproof operator),
    or if the key table is read for several forces at once (`tenant_id = ANY(...)`: at scale that left the
    birth years to a filter over every year's keys)."""
    criteria = search.Criteria(name="Kate Smith-Jones", date_of_birth=PartialDate.parse("1980-02-03"),
                               identifier="AB123456C")
    tenants = [services.registry.by_slug(slug).id for slug in forces]
    plan = _plan(services, *search.statement(criteria, query_keys(criteria.name), tenants, count=count))
    for table in ("person_search_key", "person_identifier", "person"):
        assert f"Seq Scan on {table}" not in plan, plan
    lines = plan.splitlines()
    key_scans = [lines[i + 1] for i, line in enumerate(lines) if "Index" in line and "on person_search_key" in line]
    assert len(key_scans) >= len(forces), plan
    assert all("Index Cond:" in cond and "(tenant_id = '" in cond for cond in key_scans), plan  # one force each
    assert "person_identifier_unique" in plan, plan

    # Which join a handful of test rows favour is the planner's choice (and whether the birth years are
    # worth index descents); that a key read can be an index condition on force and key is not.
    read = text("SELECT 1 FROM person_search_key k WHERE " + search.KEY_CONDITION.format(
        i=0, key=":key", year_filter=search.YEAR_FILTER)).bindparams(
        bindparam("tenant_0", type_=PG_UUID(as_uuid=True)), bindparam("years", type_=ARRAY(SmallInteger)))
    plan = _plan(services, read, {"tenant_0": tenants[-1], "key": "SE:SMITHJONES", "years": [0, 1979, 1980, 1981]})
    condition = plan.splitlines()[1]
    assert "Index Cond:" in condition and "(tenant_id = '" in condition and "(key = " in condition, plan


def test_the_runtime_role_cannot_bypass_rls_for_search_keys():
    with psycopg.connect(superuser_url()) as conn:
        forced = conn.execute("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'person_search_key'").fetchone()
    assert forced == (True,)


def test_changing_names_or_date_of_birth_rewrites_the_search_keys(north):
    surname = unique("Chg")
    person = north.create_person(surname=surname, forenames="Robert", date_of_birth="1970-03-03",
                                 other_names=[{"kind": "alias", "surname": f"Old{surname}", "forenames": "Bob"}])
    changed = north.patch(f"/api/v1/people/{person['id']}", headers={"If-Match": '"1"'}, json={
        "date_of_birth": "1985-03-03",
        "other_names": [{"kind": "maiden_name", "surname": f"New{surname}", "forenames": "Robert"}]})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["other_names"] == [{"kind": "maiden_name", "surname": f"New{surname}",
                                                  "forenames": "Robert"}]
    assert find(north, name=f"Robert New{surname}")[0]["id"] == person["id"]
    assert find(north, name=f"Bob Old{surname}") == []
    assert find(north, name=f"Robert {surname}", date_of_birth="1985-03-03")[0]["id"] == person["id"]
    assert find(north, name=f"Robert {surname}", date_of_birth="1970-03-03") == []


def test_an_identifier_held_by_another_person_is_409_naming_it(north):
    north.create_person(surname=unique(), identifiers=[{"kind": "passport", "value": "P1234567"}])
    other = north.create_person(surname=unique())
    clash = north.patch(f"/api/v1/people/{other['id']}", headers={"If-Match": '"1"'},
                        json={"identifiers": [{"kind": "passport", "value": "p 1234567"}]})
    assert clash.status_code == 409 and "identifiers.0.value" in clash.get_json()["errors"]
    bad = north.post("/api/v1/people", json={"surname": "X", "forenames": "Y", "sex": "male",
                                             "identifiers": [{"kind": "ni_number", "value": "12345"}]})
    assert bad.status_code == 422 and "identifiers" in bad.get_json()["errors"]


def test_duplicate_pairs_are_the_forces_own(as_user):
    surname = unique_name("Own")
    south = as_user("southshire", "supervisor")
    for forenames in ("Elizabeth", "Liz"):
        south.post("/api/v1/people?confirm_new=true", json={"surname": surname, "forenames": forenames,
                                                            "sex": "female", "date_of_birth": "1966-06-06"})
    north_pairs = as_user("northshire", "supervisor").get("/api/v1/people/duplicates?page_size=100").get_json()
    assert all(surname not in (p["first"]["surname"], p["second"]["surname"]) for p in north_pairs["items"])
    south_pairs = south.get("/api/v1/people/duplicates?page_size=100").get_json()["items"]
    assert any(p["first"]["surname"] == surname for p in south_pairs)


def test_a_merge_keeps_a_restriction_and_its_undo_lifts_it(as_user):
    clerk = as_user("northshire", "supervisor")
    survivor = clerk.create_person(surname=unique_name("Rst"))
    duplicate = clerk.create_person(surname=unique_name("Rst"), do_not_share=True)
    merged = clerk.post(f"/api/v1/people/{duplicate['id']}/merge",
                        json={"survivor_id": survivor["id"], "reason": "same person"}).get_json()
    assert clerk.get(f"/api/v1/people/{survivor['id']}").get_json()["do_not_share"] is True
    clerk.post(f"/api/v1/people/merges/{merged['id']}/undo", json={"reason": "not the same"})
    assert clerk.get(f"/api/v1/people/{survivor['id']}").get_json()["do_not_share"] is False


def test_rekeying_rebuilds_keys_that_were_lost_or_outdated(services, north):
    from app.people.rekey import rekey

    surname = unique_name("Rekey")
    person = north.create_person(surname=surname, forenames="Margaret",
                                 other_names=[{"kind": "maiden_name", "surname": f"Old{surname}", "forenames": ""}])
    conn = services.databases.overrides["pool"]
    # keys lost, or made by older rules: the test connection still acts for northshire
    conn.execute(text("DELETE FROM person_search_key WHERE person_id = :p"), {"p": person["id"]})
    assert find(north, name=f"Peggy {surname}") == []
    rebuilt = rekey(services.databases, services.registry.by_slug("northshire"))
    assert rebuilt >= 1
    assert find(north, name=f"Peggy {surname}")[0]["id"] == person["id"]
    assert find(north, name=f"Old{surname}")[0]["reasons"][:2] == ["exact surname", "alias"]


def test_a_name_of_many_parts_is_searched_by_its_best_keys(north):
    surname = unique_name("Many")
    person = north.create_person(surname=surname, forenames="Siobhan")
    long_name = f"Mary Anne Louise Kate Jane Rose Grace Ellen Beth Siobhan {surname}"
    assert len(search.query_keys(long_name)) > search.MAX_KEYS
    top = find(north, name=long_name)[0]
    assert top["id"] == person["id"] and {"exact surname", "exact forename"} <= set(top["reasons"])


def test_a_merge_moves_links_through_the_link_service_each_a_new_version_audited(as_user):
    clerk = as_user("northshire", "investigator", "supervisor", user="pc-merger")
    surname = unique("Lnk")
    survivor = clerk.create_person(surname=surname, forenames="Ann")
    duplicate = clerk.post("/api/v1/people?confirm_new=true", json={
        "surname": surname, "forenames": "Anne", "sex": "female"}).get_json()
    place = clerk.post("/api/v1/locations", json={"address_lines": ["3 Mill Row"]}).get_json()
    lnk = clerk.post("/api/v1/links", json={"to": {"type": "person", "id": duplicate["id"]},
                                            "from": {"type": "location", "id": place["id"]},
                                            "link_type": "resides_at"}).get_json()
    auditor = as_user("northshire", "auditor")

    def link_alterations():
        events = auditor.get(f"/api/v1/audit?record_id={lnk['id']}").get_json()["items"]
        return [e["details"] for e in events if e["action"] == "alteration" and e["record_type"] == "link"]

    merged = clerk.post(f"/api/v1/people/{duplicate['id']}/merge",
                        json={"survivor_id": survivor["id"], "reason": "dup"})
    assert merged.status_code == 201, merged.get_json()
    moved = clerk.get(f"/api/v1/links/{lnk['id']}")
    assert moved.get_json()["to"]["id"] == survivor["id"]
    assert moved.get_json()["version"] == 2 and moved.headers["ETag"] == '"2"'
    assert moved.get_json()["updated_by"] == "pc-merger"
    assert link_alterations() == [{"fields": ["to_id"]}]
    assert clerk.post(f"/api/v1/people/merges/{merged.get_json()['id']}/undo",
                      json={"reason": "two women"}).status_code == 200
    back = clerk.get(f"/api/v1/links/{lnk['id']}").get_json()
    assert back["to"]["id"] == duplicate["id"] and back["version"] == 3
    assert len(link_alterations()) == 2


@pytest.mark.parametrize("first, second, reason", [
    ("1971-03-05", "1971-05-03", "day and month transposed"),
    ("1971-12-01", "1971-01-12", "day and month transposed"),  # December: its month is still a day
    ("1971-03-05", "1972-03-05", "date of birth ±1 year"),
    ("1972-03-05", "1971-03-05", "date of birth ±1 year"),
])
def test_duplicates_pair_dates_of_birth_a_typing_slip_apart(as_user, first, second, reason):
    clerk = as_user("northshire", "supervisor")
    surname = unique_name("Slip")
    a = clerk.create_person(surname=surname, forenames="Gareth", date_of_birth=first)
    b = clerk.post("/api/v1/people?confirm_new=true", json={"surname": surname, "forenames": "Gareth", "sex": "male",
                                                            "date_of_birth": second}).get_json()
    ours = [p for p in _all_pairs(clerk) if {p["first"]["id"], p["second"]["id"]} == {a["id"], b["id"]}]
    assert ours and reason in ours[0]["reasons"] and ours[0]["score"] >= 85


@pytest.mark.parametrize("first, second", [
    ("1971-03-05", "1973-03-05"),  # two years apart
    ("1971-03-05", "1972-03-06"),  # a year and a day
    ("1971-03-05", "1971-06-03"),  # the day moved, not swapped
    ("1971-03-13", "1971-03-31"),  # a day that cannot be a month has no transposition
])
def test_duplicates_do_not_pair_dates_of_birth_further_apart(as_user, first, second):
    clerk = as_user("northshire", "supervisor")
    surname = unique_name("Far")
    a = clerk.create_person(surname=surname, forenames="Gareth", date_of_birth=first)
    clerk.post("/api/v1/people?confirm_new=true", json={"surname": surname, "forenames": "Gareth", "sex": "male",
                                                        "date_of_birth": second})
    assert not [p for p in _all_pairs(clerk) if a["id"] in (p["first"]["id"], p["second"]["id"])]


def _all_pairs(clerk):
    pairs, page = [], 1
    while True:
        body = clerk.get(f"/api/v1/people/duplicates?page={page}&page_size=100").get_json()
        pairs += body["items"]
        if page * 100 >= body["total"]:
            return pairs
        page += 1


def test_duplicates_are_paged_with_their_total(as_user):
    clerk = as_user("northshire", "supervisor")
    surname = unique_name("Pg")
    for forenames in ("Bethan", "Bethan", "Bethan"):
        clerk.post("/api/v1/people?confirm_new=true", json={"surname": surname, "forenames": forenames,
                                                            "sex": "female", "date_of_birth": "1980-04-04"})
    whole = clerk.get("/api/v1/people/duplicates?page_size=100").get_json()
    assert whole["total"] >= 3 and (whole["page"], whole["page_size"]) == (1, 100)
    pages = [clerk.get(f"/api/v1/people/duplicates?page={n}&page_size=2").get_json() for n in (1, 2)]
    assert [len(p["items"]) for p in pages] == [2, min(2, whole["total"] - 2)]
    assert pages[0]["items"] + pages[1]["items"] == whole["items"][:4]
    beyond = clerk.get(f"/api/v1/people/duplicates?page={whole['total'] + 1}&page_size=1").get_json()
    assert beyond["items"] == [] and beyond["total"] == whole["total"]


def test_a_bare_surname_ranks_the_people_of_that_surname_above_those_who_only_use_it_as_an_alias(north):
    surname = unique_name("Bare")
    alias_only = north.create_person(surname=unique_name("Other"), forenames="Aaron",
                                     other_names=[{"kind": "alias", "surname": surname, "forenames": "Aaron"}])
    own = north.create_person(surname=surname, forenames="Zachary")
    response = north.get("/api/v1/people/search", query_string={"name": surname}).get_json()
    assert [r["id"] for r in response["items"]] == [own["id"], alias_only["id"]]
    assert response["items"][0]["score"] > response["items"][1]["score"]
    assert response["items"][0]["reasons"] == ["exact surname"] and "alias" in response["items"][1]["reasons"]
    assert (response["total"], response["page"], response["page_size"]) == (2, 1, 20)


def test_a_search_is_paged_with_its_total_and_limit_still_sets_the_page_size(north):
    surname = unique_name("Many")
    ids = {north.post("/api/v1/people?confirm_new=true", json={"surname": surname, "forenames": f"P{chr(65 + i)}x",
                                                                "sex": "male"}).get_json()["id"] for i in range(5)}
    pages = [find_page(north, name=surname, page=n, page_size=2) for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0] and {p["total"] for p in pages} == {5}
    assert {r["id"] for p in pages for r in p["items"]} == ids
    assert [r["id"] for r in find_page(north, name=surname, limit=2)["items"]] == [r["id"] for r in pages[0]["items"]]
    both = north.get("/api/v1/people/search", query_string={"name": surname, "limit": 2, "page_size": 2})
    assert both.status_code == 422 and "limit" in both.get_json()["errors"]
    deep = north.get("/api/v1/people/search", query_string={"name": surname, "page": 11, "page_size": 100})
    assert deep.status_code == 422 and "page" in deep.get_json()["errors"]
    assert find_page(north, name=surname, page=10, page_size=100)["total"] == 5  # the deepest page allowed


def test_the_total_counts_every_match_beyond_the_candidates_a_page_scores(north):
    surname = unique_name("Crowd")
    for i in range(search.MIN_CANDIDATES + 10):
        forenames = f"N{chr(65 + i // 26)}{chr(65 + i % 26)}x"
        north.post("/api/v1/people?confirm_new=true", json={"surname": surname, "forenames": forenames, "sex": "male"})
    first = find_page(north, name=surname, page_size=5)  # 50 candidates scored: the rest counted
    assert first["total"] == search.MIN_CANDIDATES + 10 and len(first["items"]) == 5
    last = find_page(north, name=surname, page=12, page_size=5)
    assert len(last["items"]) == 5 and last["total"] == first["total"]
    whole = [find_page(north, name=surname, page=n, page_size=30) for n in (1, 2)]
    assert len({r["id"] for p in whole for r in p["items"]}) == search.MIN_CANDIDATES + 10


def find_page(api, **params):
    response = api.get("/api/v1/people/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()
