"""Bulk import: bad rows reported by line and not loaded, re-runs load nothing twice, records searchable."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.pole import import_service, importer
from tests.conftest import unique, unique_name

PEOPLE = """source_ref,surname,forenames,date_of_birth,sex,pnc_id,place_of_birth,alias_surname,alias_forenames
{tag}-1,{tag},Siobhan,1975,F,,Cork,Byrne{tag},Siobhan
{tag}-2,{tag},John,1980-01-02,m,12/0000001H,,,
{tag}-3,,Nobody,1980-01-01,M,,,,
{tag}-4,{tag},Bad Date,1980-13-01,M,,,,
{tag}-5,{tag},Bad Sex,1980-01-01,X,,,,
{tag}-6,{tag},Same Pnc,1981-01-01,M,12/0000001H,,,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run(services, slug, kind, path, **kw):
    return import_service.import_file(services.databases, services.registry.by_slug(slug), kind, path, "migrator", **kw)


def test_bad_rows_are_reported_by_line_and_the_rest_load_once(services, tmp_path, north, south):
    tag = unique("Imp")
    path = write(tmp_path, "people.csv", PEOPLE.format(tag=tag))
    report = run(services, "northshire", "people", path)
    assert (report.rows, report.inserted, report.already_present) == (6, 2, 0)
    assert [line for line, _ in report.bad] == [4, 5, 6, 7]
    reasons = dict(report.bad)
    assert reasons[4].startswith("surname:") and reasons[5].startswith("date_of_birth:")
    assert reasons[6].startswith("sex:") and reasons[7] == "pnc_id: the same PNC ID is on line 3"

    again = run(services, "northshire", "people", path)
    assert (again.inserted, again.already_present) == (0, 2)

    found = north.get("/api/v1/people/search", query_string={"name": f"Siobhan Byrne{tag}"}).get_json()["items"]
    assert len(found) == 1 and found[0]["date_of_birth"] == "1975" and "alias" in found[0]["reasons"]
    assert north.get("/api/v1/people/search", query_string={"identifier": "12/1H"}).get_json()["items"]
    assert south.get("/api/v1/people/search", query_string={"name": f"John {tag}"}).get_json()["items"] == []


def _as_if_new(services, slug):
    """The force with no search keys, as on its first load (in the test's transaction, rolled back after)."""
    conn = services.databases.overrides["pool"]
    tenant_id = services.registry.by_slug(slug).id
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
    conn.execute(text("DELETE FROM person_search_key"))
    return conn, tenant_id


def test_a_forces_first_load_indexes_its_search_keys_in_one_pass_into_its_own_partition(services, tmp_path, north,
                                                                                      south):
    conn, north_id = _as_if_new(services, "northshire")
    tag = unique("Bulk")
    path = write(tmp_path, "people.csv", PEOPLE.format(tag=tag) + f"{tag}-1,{tag},Repeated,1975,F,,,,\n")
    report = run(services, "northshire", "people", path)
    assert report.keys_in_bulk and (report.rows, report.inserted) == (7, 2)
    assert report.bad[-1] == (8, f"source_ref: {tag}-1 is also on line 2")
    found = north.get("/api/v1/people/search", query_string={"name": f"Siobhan Byrne{tag}"}).get_json()["items"]
    assert len(found) == 1 and "alias" in found[0]["reasons"]
    everyone = north.get("/api/v1/people/search", query_string={"name": tag}).get_json()["items"]
    assert sorted(p["forenames"] for p in everyone) == ["John", "Siobhan"]  # the PNC clash's keys were taken out
    assert south.get("/api/v1/people/search", query_string={"name": f"John {tag}"}).get_json()["items"] == []
    partition = f"person_search_key_{north_id.hex}"
    bound, check = conn.execute(text(
        "SELECT pg_get_expr(c.relpartbound, c.oid), pg_get_constraintdef(k.oid) FROM pg_class c "
        "JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'c' AND k.conname LIKE '%_force' "
        "WHERE c.oid = to_regclass(:p)"), {"p": partition}).one()
    assert str(north_id) in bound and str(north_id) in check
    sealed = conn.execute(text("SELECT relrowsecurity, relforcerowsecurity, has_table_privilege(current_user, oid, "
                               "'SELECT,INSERT,UPDATE,DELETE') FROM pg_class WHERE oid = to_regclass(:p)"),
                          {"p": partition}).one()
    assert tuple(sealed) == (True, True, False)  # reached only through person_search_key and its policies

    again = run(services, "northshire", "people", path)
    assert not again.keys_in_bulk and (again.inserted, again.already_present) == (0, 2)

    # emptied again (every key deleted), a force's next load replaces its old partition with a new one
    _as_if_new(services, "northshire")
    later = unique("Later")
    report = run(services, "northshire", "people", write(tmp_path, "later.csv", PEOPLE.format(tag=later)))
    assert report.keys_in_bulk and report.inserted == 1  # John's PNC ID is the first file's John's
    assert report.bad[0] == (3, "pnc_id: already recorded for another person in this force")
    found = north.get("/api/v1/people/search", query_string={"name": later}).get_json()["items"]
    assert [p["forenames"] for p in found] == ["Siobhan"]  # John was refused, and his keys taken out
    john = importer.row_id(north_id, "person", {"source_ref": f"{later}-2"})
    assert conn.execute(text("SELECT count(*) FROM person_search_key WHERE person_id = :p"), {"p": john}).scalar() == 0
    assert conn.execute(text("SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass(:p)"),
                        {"p": partition}).scalar() == 1


def test_a_bulk_key_table_takes_no_other_forces_keys_and_yields_to_keys_that_arrive_meanwhile(services, north):
    conn, north_id = _as_if_new(services, "northshire")
    load = conn.execute(text("SELECT app_search_keys_bulk_begin()")).scalar()
    south_id = services.registry.by_slug("southshire").id
    with pytest.raises(IntegrityError, match="_force"):
        with conn.begin_nested():
            conn.execute(text(f"INSERT INTO {load} (tenant_id, key, person_id) VALUES (:t, 'SE:X', :t)"),
                         {"t": south_id})
    meanwhile = unique_name("Meanwhile")
    north.create_person(surname=meanwhile)
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(north_id)})
    assert conn.execute(text("SELECT app_search_keys_bulk_finish()")).scalar() is False
    assert north.get("/api/v1/people/search", query_string={"name": meanwhile}).get_json()["items"]
    assert conn.execute(text("SELECT to_regclass(:p)"), {"p": load}).scalar() is None


def test_a_dry_run_validates_and_writes_nothing(services, tmp_path, north):
    tag = unique("Dry")
    report = run(services, "northshire", "people", write(tmp_path, "p.csv", PEOPLE.format(tag=tag)), dry_run=True)
    assert report.dry_run and report.inserted == 2 and len(report.bad) == 4
    assert north.get("/api/v1/people/search", query_string={"name": f"John {tag}"}).get_json()["items"] == []


def test_objects_and_locations_import_in_normal_form(services, tmp_path, north):
    objects = write(tmp_path, "objects.csv", "source_ref,kind,vrm,make,phone_number,category,description\n"
                    "o1,vehicle,ab12 cde,Ford,,,\no2,telephone,,,07400 123999,,\no3,property,,,,bicycle,\n")
    report = run(services, "northshire", "objects", objects)
    assert report.inserted == 2 and report.bad == [(4, "description: is required for a property")]
    assert north.get("/api/v1/objects?vrm=AB12CDE").get_json()["items"][0]["make"] == "Ford"
    uprn = 100000000 + int(unique("")[1:7], 16)
    locations = write(tmp_path, "loc.csv",
                      "source_ref,address_line_1,address_line_2,town,postcode,uprn,latitude,longitude\n"
                      f"l1,1 Mill Lane,\"Flat 2, \"\"The Mill\"\"\",Northtown,nt11aa,{uprn},53.4,-2.25\n"
                      f"l2,2 Mill Lane,,Northtown,NT1 1AA,{uprn},,\nl3,3 Mill Lane,,,NOPE,,,\n")
    report = run(services, "northshire", "locations", locations)
    assert report.inserted == 1
    assert report.bad == [(3, "uprn: the same UPRN is on line 2"),
                          (4, "postcode: is not a UK postcode (e.g. SW1A 1AA)")]
    mill = north.get(f"/api/v1/locations?uprn={uprn}").get_json()["items"][0]
    assert (mill["postcode"], mill["address_lines"]) == ("NT1 1AA", ["1 Mill Lane", 'Flat 2, "The Mill"'])
    assert (mill["latitude"], mill["longitude"]) == (53.4, -2.25)


@pytest.mark.parametrize("slug", ["lakeshire"])
def test_a_dedicated_force_imports_into_its_own_database(services, tmp_path, as_user, slug):
    tag = unique("Ded")
    report = run(services, slug, "people", write(tmp_path, "p.csv", PEOPLE.format(tag=tag)))
    assert report.inserted == 2
    lake, north = as_user(slug), as_user("northshire")
    assert lake.get("/api/v1/people/search", query_string={"name": f"John {tag}"}).get_json()["items"]
    assert north.get("/api/v1/people/search", query_string={"name": f"John {tag}"}).get_json()["items"] == []


def test_a_rows_id_never_changes_so_re_runs_and_earlier_loads_match():
    """Ids computed by earlier versions of the importer (uuid.uuid5 of force, kind and reference or content)."""
    force = uuid.UUID(int=1)
    assert str(importer.row_id(force, "person", {"source_ref": " R-17 "})) == "db05a2a5-4387-5149-a497-a42df395f7d5"
    row = {"source_ref": "", "address_line_1": "1 Mill Lane", "postcode": "NT1 1AA"}
    assert str(importer.row_id(force, "location", row)) == "4caa1903-eb90-585f-b65f-6d40b11800d9"


def test_a_date_of_birth_outside_the_plausible_range_is_a_bad_row(services, tmp_path):
    tag = unique("Old")
    rows = f"source_ref,surname,forenames,date_of_birth,sex\n{tag}-1,{tag},Ada,1850-01-01,F\n{tag}-2,{tag},Bea,1900,F\n"
    report = run(services, "northshire", "people", write(tmp_path, "old.csv", rows))
    assert report.inserted == 1
    assert report.bad == [(2, "date_of_birth: must be between 1900-01-01 and 2100-12-31")]


def test_names_the_api_would_refuse_are_bad_rows_and_any_script_loads(services, tmp_path, north):
    tag = unique("Nm")
    rows = (f"source_ref,surname,forenames,sex\n{tag}-1,\u200b\u200b,Ada,F\n{tag}-2,Ev\x07ans,Bea,F\n"
            f"{tag}-3,王秀英{tag},秀英,F\n")
    report = run(services, "northshire", "people", write(tmp_path, "names.csv", rows))
    assert report.bad == [(2, "surname: must contain a letter"),
                          (3, "surname: must not contain control characters (tabs, new lines, escapes, "
                              "direction overrides)")]
    listed = north.get("/api/v1/people", query_string={"surname": f"王秀英{tag}"}).get_json()["items"]
    assert [p["forenames"] for p in listed] == ["秀英"]
