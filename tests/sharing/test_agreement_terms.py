"""An agreement's terms are checked when proposed, so that approving them cannot fail half-way."""
from __future__ import annotations

TERMS = {"consumer_force": "southshire", "max_classification": "OFFICIAL", "purpose": "Cross-border missing persons",
         "lawful_basis": "DPA 2018 s.35"}


def test_a_record_type_named_twice_is_422_when_proposed_not_500_when_approved(north_admin):
    proposed = north_admin.post("/api/v1/sharing/agreements", json={**TERMS, "record_types": ["person", "person"]})
    if proposed.status_code == 201:  # accepted: approving it must work, not break on the grant table's key
        approved = north_admin.post(f"/api/v1/sharing/agreements/{proposed.get_json()['id']}/approve",
                                    json={"reason": "as agreed at the tri-force board"})
        assert approved.status_code == 200, approved.get_json()
    else:
        assert proposed.status_code == 422 and "record_types" in proposed.get_json()["errors"]
