"""Headers are input too: a client's If-Match is refused with a clear 4xx, whatever its digits."""
from __future__ import annotations


def test_an_if_match_of_five_thousand_digits_is_412_not_500(north):
    person = north.create_person()
    answer = north.patch(f"/api/v1/people/{person['id']}", json={"forenames": "Ann"},
                         headers={"If-Match": '"' + "9" * 5000 + '"'})
    assert answer.status_code == 412, answer.get_json()
    assert "If-Match" in answer.get_json()["message"]
