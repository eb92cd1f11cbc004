"""A merge is reversible with its provenance kept (DOMAIN.md POLE): undoing merges returns each person what was
theirs, whatever order they are undone in, or refuses the undo that cannot."""
from __future__ import annotations

REASON = {"reason": "the same person recorded twice"}


def _passports(api, person):
    return sorted(i["value"] for i in api.get(f"/api/v1/people/{person['id']}").get_json()["identifiers"])


def test_undoing_an_earlier_merge_after_a_later_one_gives_each_person_back_their_own_identifier(north, as_user):
    supervisor = as_user("northshire", "supervisor")
    a, b, c = (north.create_person(identifiers=[{"kind": "passport", "value": v}])
               for v in ("111222333", "444555666", "777888999"))
    first = supervisor.post(f"/api/v1/people/{a['id']}/merge", json={"survivor_id": b["id"], **REASON})
    second = supervisor.post(f"/api/v1/people/{b['id']}/merge", json={"survivor_id": c["id"], **REASON})
    assert (first.status_code, second.status_code) == (201, 201)
    undo_first = supervisor.post(f"/api/v1/people/merges/{first.get_json()['id']}/undo", json=REASON)
    if undo_first.status_code == 409:
        return  # refused until the later merge is undone: nothing lost
    assert undo_first.status_code == 200
    assert _passports(north, a) == ["111222333"], "the undone merge gave A nothing back"
    undo_second = supervisor.post(f"/api/v1/people/merges/{second.get_json()['id']}/undo", json=REASON)
    assert undo_second.status_code == 200
    assert [_passports(north, p) for p in (a, b, c)] == [["111222333"], ["444555666"], ["777888999"]]
