"""A merge is reversible with its provenance kept (DOMAIN.md POLE): undoing merges returns each person what was
theirs: a merge whose survivor was merged since is refused until that later merge is undone."""
from __future__ import annotations

REASON = {"reason": "the same person recorded twice"}


def _passports(api, person):
    return sorted(i["value"] for i in api.get(f"/api/v1/people/{person['id']}").get_json()["identifiers"])


def test_an_earlier_merge_is_undone_after_the_later_one_and_each_person_gets_back_their_own_identifier(north, as_user):
    supervisor = as_user("northshire", "supervisor")
    a, b, c = (north.create_person(identifiers=[{"kind": "passport", "value": v}])
               for v in ("111222333", "444555666", "777888999"))
    first = supervisor.post(f"/api/v1/people/{a['id']}/merge", json={"survivor_id": b["id"], **REASON})
    second = supervisor.post(f"/api/v1/people/{b['id']}/merge", json={"survivor_id": c["id"], **REASON})
    assert (first.status_code, second.status_code) == (201, 201)
    undo_first = supervisor.post(f"/api/v1/people/merges/{first.get_json()['id']}/undo", json=REASON)
    assert undo_first.status_code == 409  # B's rows (A's passport with them) went on to C: that merge is undone first
    assert second.get_json()["id"] in undo_first.get_json()["message"]
    assert _passports(north, c) == ["111222333", "444555666", "777888999"]  # nothing moved by the refusal
    for merge in (second, first):
        undone = supervisor.post(f"/api/v1/people/merges/{merge.get_json()['id']}/undo", json=REASON)
        assert undone.status_code == 200, undone.get_json()
    assert [_passports(north, p) for p in (a, b, c)] == [["111222333"], ["444555666"], ["777888999"]]
