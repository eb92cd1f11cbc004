"""A detainee's release outcome agrees with the timeline: 'charged' only with a charge on it, and never 'without
charge' after one (the charge entry is what tells the investigation and the case file)."""
from __future__ import annotations

from tests.custody.test_records import NOW, H, book, iso

PURPOSE = {"X-Purpose": "Custody review"}


def _release(api, record, outcome):
    shown = api.get(f"/api/v1/custody/records/{record['id']}", headers=PURPOSE)
    return api.post(f"/api/v1/custody/records/{record['id']}/release",
                    json={"released_at": iso(NOW), "outcome": outcome}, headers={"If-Match": shown.headers["ETag"]})


def test_a_detainee_with_no_charge_recorded_cannot_be_released_as_charged(as_user):
    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(sergeant)
    answer = _release(sergeant, record, "charged_bailed")
    assert answer.status_code in (409, 422), answer.get_json()


def test_a_charged_detainee_cannot_be_released_as_bailed_without_charge(as_user):
    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(sergeant)
    charged = sergeant.post(f"/api/v1/custody/records/{record['id']}/entries", json={
        "kind": "charge", "occurred_at": iso(NOW - H), "data": {"offences": ["Burglary of a dwelling"]}})
    assert charged.status_code == 201, charged.get_json()
    answer = _release(sergeant, record, "bailed_without_charge")
    assert answer.status_code in (409, 422), answer.get_json()
