"""The custody clock's calendar facts are the force's (Europe/London), not UTC's nor the client's offset."""
from __future__ import annotations

from datetime import datetime, timezone

from tests.custody.test_records import book

PURPOSE = {"X-Purpose": "Custody review"}


def test_a_detainee_arriving_just_after_local_midnight_on_their_18th_birthday_is_an_adult(as_user):
    """Arrival 00:30 BST on 18 June 2026 (23:30 UTC on the 17th); born 18 June 2008: 18 that day, no appropriate
    adult needed (Code C 1.5). The clock takes the UTC date and calls them 17."""
    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    record = book(sergeant, arrived=datetime(2026, 6, 17, 23, 30, tzinfo=timezone.utc), dob="2008-06-18")
    clock = sergeant.get(f"/api/v1/custody/records/{record['id']}", headers=PURPOSE).get_json()["clock"]
    assert clock["appropriate_adult_outstanding"] is False
    assert "appropriate adult" not in [o["what"] for o in clock["overdue"]]


def test_the_custody_numbers_year_is_the_forces_local_year_whatever_offset_the_client_sent(as_user):
    """The same moment, 23:30 on 31 December 2025 in London, sent with two offsets, gets the same year: 25."""
    sergeant = as_user("northshire", "custody_officer", user="ps-custody-1")
    as_utc = book(sergeant, arrived=datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc))
    sent = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc).astimezone(
        datetime.fromisoformat("2026-01-01T00:30:00+01:00").tzinfo)
    as_cet = book(sergeant, arrived=sent)
    assert as_utc["custody_number"].split("/")[1] == "25"
    assert as_cet["custody_number"].split("/")[1] == "25"
