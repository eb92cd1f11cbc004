"""Names: refused when they hold control characters or no letter at all; accepted and searchable in any script."""
from __future__ import annotations

import pytest

from app.people.identifiers import check_name, name_key
from app.people.matching import EQUIVALENTS_FILE, forename_groups, name_keys, tokens
from tests.conftest import unique_name
from tests.people.test_search import find

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def body(**fields):
    return {"surname": unique_name("Nm"), "forenames": "Ann", "sex": "female", **fields}


def refused(response, field):
    assert response.status_code == 422, response.get_json()
    error = response.get_json()
    assert field in error["errors"], error
    return " ".join(map(str, error["errors"][field]))


def confirmed(api, **fields):
    response = api.post("/api/v1/people?confirm_new=true", json=body(**fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- refused --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["surname", "forenames"])
@pytest.mark.parametrize("value", [ZERO_WIDTH, "\u200b", "\x07\x08", " \u2060 ", "%", "--", "123", "   "])
def test_a_name_without_a_letter_is_422(north, field, value):
    reason = refused(north.post("/api/v1/people", json=body(**{field: value})), field)
    assert "letter" in reason or "control" in reason


@pytest.mark.parametrize("value", ["Smi\x07th", "Jo\nhn", "Ann\tMarie", "O\x1bBrien", "Ev\x7fans", "Ann\u0085",
                                   "Ali\u202ece", "Bob\u2066"])
def test_control_characters_anywhere_in_a_name_are_422(north, value):
    assert "control" in refused(north.post("/api/v1/people", json=body(surname=value)), "surname")
    assert "control" in refused(north.post("/api/v1/people", json=body(forenames=value)), "forenames")


def test_other_names_and_updates_are_held_to_the_same_rules(north):
    other = [{"kind": "alias", "surname": ZERO_WIDTH}]
    response = north.post("/api/v1/people", json=body(other_names=other))
    assert response.status_code == 422 and "other_names" in response.get_json()["errors"]
    forenames = [{"kind": "alias", "surname": "Smith", "forenames": "A\x00nn"}]
    assert north.post("/api/v1/people", json=body(other_names=forenames)).status_code == 422
    person = north.create_person()
    patched = north.patch(f"/api/v1/people/{person['id']}", json={"surname": "\u200b"},
                          headers={"If-Match": f'"{person["version"]}"'})
    assert "letter" in refused(patched, "surname")


def test_an_alias_without_forenames_is_still_fine(north):
    person = north.create_person(other_names=[{"kind": "maiden_name", "surname": unique_name("Maiden")}])
    assert person["other_names"][0]["forenames"] == ""


@pytest.mark.parametrize("value", ["%", "%25", "_", "\u200b", "%%"])
def test_listing_by_a_name_without_a_letter_is_422_not_everyone(north, value):
    north.create_person(surname="王秀英")
    response = north.get(f"/api/v1/people?surname={value}")
    assert response.status_code == 422, response.get_json()
    assert "surname" in response.get_json()["errors"]
    assert north.get(f"/api/v1/people/search?name={value}").status_code == 422


def test_joining_characters_inside_a_name_are_kept():
    assert check_name("Mehr\u200cnaz") is None  # ZWNJ: part of Persian spelling
    assert check_name("\u200c") is not None


# --- any script -----------------------------------------------------------------------------------------------

def test_latin_names_keep_their_keys():
    assert name_key("O'Brien") == name_key("OBRIEN") == "OBRIEN"
    assert name_key("  Zoë   Smith-Jones ") == "ZOE SMITH JONES"
    assert name_key("Müller") == "MULLER" and name_key("Straße") == "STRASSE"
    assert name_key("Søren Łukasz") == "SOREN LUKASZ"  # once two broken parts each ("S REN", " UKASZ")


def test_a_name_in_another_script_has_keys_of_its_own():
    assert name_key("王秀英") == "王秀英" and name_key("李娜") == "李娜"
    assert name_key("ОЛЬГА Петрова") == "ольга петрова"
    assert tokens("王秀英") == ("WANGXIUYING",)  # transliterated for search, beside the exact form
    assert "SX:王秀英" in name_keys("王秀英", "") and "SE:WANGXIUYING" in name_keys("王秀英", "")
    assert not set(name_keys("王秀英", "")) & set(name_keys("李娜", ""))


def test_listing_by_a_name_in_another_script_finds_exactly_that_name(north):
    wang = confirmed(north, surname="王秀英", forenames="秀英")
    confirmed(north, surname="李娜", forenames="娜")
    confirmed(north, surname="汪秀英", forenames="秀英")  # another name, the same transliteration
    listed = north.get("/api/v1/people", query_string={"surname": "王秀英"}).get_json()["items"]
    assert [p["id"] for p in listed] == [wang["id"]]


def test_searching_in_another_script_ranks_the_exact_name_above_its_transliteration(north):
    tag = unique_name("")  # keeps this test's names apart from other tests'
    wang = confirmed(north, surname="王秀英", forenames=f"Mei{tag}")
    other = confirmed(north, surname="汪秀英", forenames=f"Mei{tag}")
    li = confirmed(north, surname="李娜", forenames=f"Mei{tag}")
    results = {r["id"]: r for r in find(north, name=f"王秀英 Mei{tag}")}
    assert li["id"] not in results
    assert results[wang["id"]]["reasons"][:2] == ["exact surname", "exact forename"]
    assert results[other["id"]]["reasons"][0] == "transliterated surname"
    assert results[wang["id"]]["score"] > results[other["id"]]["score"]


def test_a_romanised_search_finds_a_name_written_in_its_own_script(north):
    olga = confirmed(north, surname=f"Петрова{unique_name('')}", forenames="Ольга")
    romanised = name_key(olga["surname"]).upper()
    results = find(north, name=f"Olga {tokens(olga['surname'])[0]}")
    assert results and results[0]["id"] == olga["id"], (romanised, results)
    assert find(north, name=f"Ольга {olga['surname']}")[0]["reasons"][:2] == ["exact surname", "exact forename"]


def test_rekey_rebuilds_the_keys_of_names_recorded_under_the_old_rules(services, north):
    from sqlalchemy import text

    from app.people.rekey import rekey

    person = confirmed(north, surname="王秀英", forenames="Lan")
    conn = services.databases.overrides["pool"]
    # as the old rules stored it: every non-Latin letter dropped, an empty key
    conn.execute(text("UPDATE person SET surname_key = '' WHERE id = :p"), {"p": person["id"]})
    conn.execute(text("DELETE FROM person_search_key WHERE person_id = :p"), {"p": person["id"]})
    rekey(services.databases, services.registry.by_slug("northshire"))
    listed = north.get("/api/v1/people", query_string={"surname": "王秀英", "forenames": "Lan"}).get_json()["items"]
    assert [p["id"] for p in listed] == [person["id"]]
    assert find(north, name="王秀英 Lan")[0]["id"] == person["id"]


# --- forename equivalents ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("nickname, formal", [
    ("Maggie", "Margaret"), ("Teague", "Tadhg"), ("Siobhan", "Shivaun"), ("Shivaun", "Siobhan"),
    ("Mohammed", "Muhammad"), ("Muhammad", "Mohamed"), ("Mohamed", "Mohammed"),
    ("Dewi", "David"), ("Sioned", "Janet"), ("Hamish", "James"), ("Iain", "John"), ("Seamus", "James"),
    ("Kasia", "Katarzyna"), ("Gosia", "Margaret"), ("Michał", "Michael"), ("Kuba", "Jacob"),
    ("Youssef", "Yusuf"), ("Hussein", "Hussain"), ("Gurprit", "Gurpreet"), ("Kuldip", "Kuldeep"),
    ("Kojo", "Kwadwo"), ("Kwesi", "Kwasi"), ("Seun", "Oluwaseun"), ("Emeka", "Chukwuemeka"),
])
def test_forename_equivalents_join_names_across_uk_communities(nickname, formal):
    assert set(forename_groups(tokens(nickname)[0])) & set(forename_groups(tokens(formal)[0]))


@pytest.mark.parametrize("first, second", [("Siobhan", "Joan"), ("Tadhg", "Timothy"), ("Mohammed", "Ahmed"),
                                           ("Kwasi", "Kwame"), ("Sean", "Shane")])
def test_names_that_only_look_alike_are_not_made_equivalent(first, second):
    assert not set(forename_groups(tokens(first)[0])) & set(forename_groups(tokens(second)[0]))


def test_every_equivalence_group_names_its_source_and_is_written_as_matching_normalises_it():
    source = None
    for number, line in enumerate(EQUIVALENTS_FILE.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# source:"):
            source = line
        names = line.split("#", 1)[0].split()
        if names:
            assert source, f"line {number} ({line}) has no '# source:' above it"
            assert all(tokens(name) == (name,) for name in names), f"line {number}: {line} is not normalised"
            assert len(set(names)) == len(names), f"line {number} repeats a name"


def test_a_search_by_one_spelling_finds_the_person_recorded_under_another(north):
    surname = unique_name("Eq")
    person = confirmed(north, surname=surname, forenames="Muhammad", sex="male")
    found = find(north, name=f"Mohammed {surname}")
    assert found[0]["id"] == person["id"] and "nickname" in found[0]["reasons"]
