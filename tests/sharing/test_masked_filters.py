"""Guard: a search or filter by the value of a masked field returns, of the provider's records, exactly what
the same search without that value returns: a masked value can neither find, narrow, rank nor confirm."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import unique_name
from tests.factories import link, location
from tests.sharing.test_agreements import PURPOSE, share

PNC = "11/0000042M"


@pytest.fixture
def provider(north, services):
    """A northshire person (with an address and a PNC ID), a vehicle, a telephone, property and a location."""
    person = north.create_person(surname=unique_name("Masked"), forenames="Kim", sex="female",
                                 date_of_birth="1984-07-09", pnc_id=PNC)
    home = location(services, "northshire", postcode="NT9 9ZZ", uprn=990011223344)
    link(services, "northshire", ("person", uuid.UUID(person["id"])), ("location", home.id),
         "resides_at")
    for body in ({"kind": "vehicle", "vrm": "MA55KED", "make": "Audi"},
                 {"kind": "telephone", "phone_number": "07400 123456"},
                 {"kind": "property", "category": "bicycle", "description": "red", "serial_number": "SN-MASK-1"}):
        assert north.post("/api/v1/objects", json=body).status_code == 201
    return person


# (record type, masked field, route, params without the value, the masked value's params)
CASES = [
    ("person", "date_of_birth", "/api/v1/people/search", {"name": "Kim {surname}"}, {"date_of_birth": "1984-07-09"}),
    ("person", "date_of_birth", "/api/v1/people/search", {"name": "Kim {surname}"}, {"date_of_birth": "1984"}),
    ("person", "date_of_birth", "/api/v1/people", {"surname": "{surname}"}, {"date_of_birth": "1971-01-01"}),
    ("person", "sex", "/api/v1/people/search", {"name": "Kim {surname}"}, {"sex": "male"}),
    ("person", "pnc_id", "/api/v1/people/search", {"name": "Kim {surname}"}, {"identifier": PNC}),
    ("person", "identifiers", "/api/v1/people/search", {"name": "Kim {surname}"}, {"identifier": PNC}),
    ("location", "postcode", "/api/v1/people/search", {"name": "Kim {surname}"}, {"postcode": "ZZ1 1ZZ"}),
    ("object", "vrm", "/api/v1/objects", {}, {"vrm": "MA55KED"}),
    ("object", "vrm", "/api/v1/objects", {}, {"vrm": "MA5"}),
    ("object", "phone_number", "/api/v1/objects", {}, {"phone_number": "07400123456"}),
    ("object", "serial_number", "/api/v1/objects", {}, {"serial_number": "SN-MASK-1"}),
    ("location", "postcode", "/api/v1/locations", {}, {"postcode": "NT9 9ZZ"}),
    ("location", "uprn", "/api/v1/locations", {}, {"uprn": 990011223344}),
]


@pytest.mark.parametrize("record_type,field,route,without,value", CASES,
                         ids=[f"{c[2]}:{c[1]}={list(c[4].values())[0]}" for c in CASES])
def test_a_masked_value_changes_nothing_of_the_providers_records(provider, south, north_admin, record_type, field,
                                                                 route, without, value):
    base = {k: v.format(surname=provider["surname"]) for k, v in without.items()}

    def theirs(params):
        paged = {**params, "page_size": 100} if "search" not in route else params
        response = south.get(route, query_string=paged, headers=PURPOSE)
        assert response.status_code == 200, response.get_json()
        return [(r["id"], r.get("score"), tuple(r.get("reasons", ()))) for r in response.get_json()["items"]
                if r["force"] == "northshire"]

    share(north_admin, record_types=["person", "object", "location", "link"])
    unmasked = theirs({**base, **value})
    # unmasked, the value must make a difference (else this test proves nothing)
    assert unmasked != theirs(base) if base else unmasked
    share(north_admin, record_types=[record_type], field_profile={record_type: {"masked": [field]}})
    # where the route needs a filter, "without the value" finds nothing of theirs
    assert theirs({**base, **value}) == (theirs(base) if base else [])
