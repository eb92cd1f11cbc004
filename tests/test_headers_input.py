"""Headers are input too: a client's If-Match is refused with a clear 4xx, whatever its digits."""
from __future__ import annotations


def test_an_if_match_of_five_thousand_digits_is_412_not_500(north):
    person = north.create_person()
    answer = north.patch(f"/api/v1/people/{person['id']}", json={"forenames": "Ann"},
                         headers={"If-Match": '"' + "9" * 5000 + '"'})
    assert answer.status_code == 412, answer.get_json()
    assert "If-Match" in answer.get_json()["message"]


def _as_wsgi(text: str) -> str:
    """A header value as a client's UTF-8 bytes reach the app (WSGI gives them as Latin-1)."""
    return text.encode("utf-8").decode("latin-1")


def test_a_purpose_in_utf8_is_kept_as_written_and_one_with_a_direction_override_is_422(north, as_user):
    person = north.create_person()
    read = north.get(f"/api/v1/people/{person['id']}", headers={"X-Purpose": _as_wsgi("Opération Hébron, 12–13 May")})
    assert read.status_code == 200
    trail = as_user("northshire", "auditor").get(f"/api/v1/audit?record_id={person['id']}").get_json()["items"]
    assert [e["purpose"] for e in trail if e["action"] == "consultation"] == ["Opération Hébron, 12–13 May"]
    for purpose in ("Incident 9/25 \u202efdp", "Incident\x1b[2J 9/25"):
        refused = north.get(f"/api/v1/people/{person['id']}", headers={"X-Purpose": _as_wsgi(purpose)})
        assert refused.status_code == 422 and "X-Purpose" in refused.get_json()["errors"], refused.get_json()
