"""Whole-object examples of the main resources, put on their schemas in the OpenAPI document (a client author
sees a real request and a real answer). tests/test_api_contract.py checks each against its own schema, so an
example cannot drift from what the API takes and gives.

Keyed by schema component name (the class name without "Schema").
"""
from __future__ import annotations

from typing import Any

PERSON_ID = "b1f7bdfa-5cde-4467-9aa4-f449692adc3f"
LOCATION_ID = "7d7915fa-db03-42ac-a102-f10856f75f84"
EVENT_ID = "318c96d5-fb6a-4b47-b289-047bcc533112"
INVESTIGATION_ID = "f7610968-e5d1-40e5-8d15-b5277da9f67a"
CREATED = {"created_at": "2026-03-02T09:14:00+00:00", "created_by": "pc-101", "updated_at": "2026-03-02T09:14:00+00:00",
           "updated_by": "pc-101"}

EXAMPLES: dict[str, dict[str, Any]] = {
    "PersonCreate": {
        "surname": "O'Brien", "forenames": "Siobhan Mary", "sex": "female", "date_of_birth": "1985-03-12",
        "pnc_id": "98/0012345J", "place_of_birth": "Cork", "build": "slim", "height_cm": 165,
        "other_names": [{"kind": "maiden_name", "surname": "Walsh", "forenames": "Siobhan"}],
        "identifiers": [{"kind": "ni_number", "value": "QQ123456C"}],
        "warning_markers": [{"code": "WE", "from_date": "2025-11-04"}],
    },
    "Person": {
        "force": "northshire", "id": PERSON_ID, "version": 1, "surname": "O'Brien", "forenames": "Siobhan Mary",
        "date_of_birth": "1985-03-12", "sex": "female", "pnc_id": "98/0012345J", "place_of_birth": "Cork",
        "ethnicity_code": None, "height_cm": 165, "build": "slim", "marks": None, "tattoos": None,
        "classification": "OFFICIAL", "do_not_share": False,
        "other_names": [{"kind": "maiden_name", "surname": "Walsh", "forenames": "Siobhan"}],
        "identifiers": [{"kind": "ni_number", "value": "QQ123456C"}],
        "warning_markers": [{"code": "WE", "from_date": "2025-11-04", "review_date": None, "source": None}],
        "merged_into": None, **CREATED,
    },
    "ObjectCreate": {"kind": "vehicle", "vrm": "NT21ABC", "make": "Ford", "model": "Fiesta", "colour": "blue"},
    "Object": {
        "force": "northshire", "id": "daf7fedf-9e73-4575-8210-1bc60e738ab5", "version": 1, "kind": "vehicle",
        "vrm": "NT21ABC", "make": "Ford", "model": "Fiesta", "colour": "blue", "vin": None, "phone_number": None,
        "category": None, "description": None, "serial_number": None, "classification": "OFFICIAL",
        "do_not_share": False, **CREATED,
    },
    "LocationCreate": {"address_lines": ["3 Mill Lane"], "town": "Northtown", "postcode": "NT1 4MX"},
    "Location": {
        "force": "northshire", "id": LOCATION_ID, "version": 1, "address_lines": ["3 Mill Lane"], "town": "Northtown",
        "postcode": "NT1 4MX", "uprn": None, "latitude": None, "longitude": None, "classification": "OFFICIAL",
        "do_not_share": False, **CREATED,
    },
    "EventCreate": {"event_type": "incident", "occurred_at": "2026-03-01T22:40:00+00:00", "location_id": LOCATION_ID,
                    "summary": "Report of a disturbance outside the flats"},
    "Event": {
        "force": "northshire", "id": EVENT_ID, "version": 1, "event_type": "incident",
        "occurred_at": "2026-03-01T22:40:00+00:00", "location_id": LOCATION_ID,
        "summary": "Report of a disturbance outside the flats", "classification": "OFFICIAL", "do_not_share": False,
        **CREATED,
    },
    "LinkCreate": {"from": {"type": "person", "id": PERSON_ID}, "to": {"type": "location", "id": LOCATION_ID},
                   "link_type": "resides_at", "valid_from": "2024-06-01"},
    "Link": {
        "force": "northshire", "id": "929916e2-a822-4092-a224-7def1f23061c", "version": 1,
        "from": {"type": "person", "id": PERSON_ID}, "to": {"type": "location", "id": LOCATION_ID},
        "link_type": "resides_at", "valid_from": "2024-06-01", "valid_to": None, "do_not_share": False,
        "source": None, **CREATED,
    },
    "CustodyRecord": {
        "force": "northshire", "id": "3ebe2144-d9fd-4c87-a497-3eb075502e99", "version": 1,
        "custody_number": "NTH/26/00001", "suite": "NTH", "person_id": PERSON_ID,
        "arrested_at": "2026-03-01T23:05:00+00:00", "arrest_place": "High Street, Northtown",
        "arresting_officer": "PC 101", "offences": [{"code": "28/1", "wording": "Burglary of a dwelling",
                                                     "indictable": True}],
        "arrived_at": "2026-03-01T23:40:00+00:00", "authorised_at": "2026-03-01T23:52:00+00:00",
        "authorised_by": "PS 12", "grounds": "to secure and preserve evidence", "vulnerable": False,
        "released_at": None, "outcome": None, "classification": "OFFICIAL",
    },
    "InvestigationRecord": {
        "kind": "crime", "primary_classification": "46/1", "occurred_at": "2026-03-01T16:20:00+00:00",
        "summary": "Two bottles of gin taken from the Co-op", "people": [{"person_id": PERSON_ID, "role": "suspect"}],
    },
    "Investigation": {
        "force": "northshire", "id": INVESTIGATION_ID, "version": 2, "reference": "91/000001/26", "kind": "crime",
        "event_id": EVENT_ID, "primary_classification": "46/1", "included_classifications": [],
        "summary": "Two bottles of gin taken from the Co-op", "status": "recorded", "officer_in_charge": None,
        "allocated_at": None, "acknowledged_at": None, "outcome_type": None, "outcome_reason": None,
        "finalised_at": None, "classification": "OFFICIAL",
    },
    "ReportSubmit": {
        "unsanitised_text": "Source says J. Doe deals from 3 Mill Lane at night", "source_evaluation": 2,
        "intelligence_assessment": "B", "handling_code": "P",
    },
    "Report": {
        "force": "northshire", "id": "5b73e32d-6ce5-4810-9d67-d9525d7a1dcc", "version": 3, "status": "live",
        "sensitive": False, "sanitised_text": "A named male is dealing drugs from a flat on Mill Lane",
        "sanitised_source_evaluation": 2, "sanitised_assessment": "B", "sanitised_handling_code": "P",
        "mopi_group": 3, "action_codes": [], "sanitisation_codes": [], "legacy_grading": None, "next_review_on": None,
        "review_overdue": False, "deletion_requested_by": None, "classification": "OFFICIAL",
        "created_by": "pc-author", "created_at": "2026-03-02T09:14:00+00:00", "unsanitised": "withheld",
    },
    "Document": {
        "force": "northshire", "id": "24f7adfd-99b5-4bd4-a4f0-53c05d373c5b", "record_type": "person",
        "record_id": PERSON_ID, "filename": "statement.pdf", "media_type": "application/pdf", "size": 48213,
        "sha256": "c40d97dd9ff25e84457270eff8d6744271e4669dc695d57f07354d40ffc97a82", "classification": "OFFICIAL",
        "created_at": "2026-03-02T09:14:00+00:00", "created_by": "pc-101",
    },
    "CaseCreate": {"investigation_id": INVESTIGATION_ID},
    "InvestigationRoleEnd": {"role": "suspect", "reason": "eliminated: alibi confirmed by the shop's CCTV"},
    "AgreementCreate": {
        "consumer_collaboration": "tri-shire", "record_types": ["person", "location"],
        "max_classification": "OFFICIAL", "handling_codes": ["P"],
        "field_profile": {"person": {"masked": ["date_of_birth"]}},
        "purpose": "Safeguarding and the prevention and detection of crime across the three forces",
        "lawful_basis": "DPA 2018 s.35: law enforcement purposes", "valid_from": "2026-04-01",
        "reason": "Agreed at the tri-shire board of 12 March",
    },
}
