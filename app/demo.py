"""Demo data for the fictional forces: loaded once (fixed ids; a second load adds nothing)."""
from __future__ import annotations

import uuid
from datetime import date

from flask import Flask
from sqlalchemy import select

from app.auth.permissions import permissions_for
from app.auth.principal import Principal
from app.db import TenantContext, tenant_context, transaction
from app.people import service as people
from app.people.models import Person

DEMO_USER = "demo-loader"

PEOPLE = {
    "northshire": [
        {"surname": "Smith-Jones", "forenames": "Katherine Anne", "date_of_birth": date(1988, 3, 14), "sex": "female",
         "pnc_id": "88/0012345G", "other_names": [{"kind": "nickname", "surname": "Smith-Jones", "forenames": "Kate"}]},
        {"surname": "O'Brien", "forenames": "Siobhan", "date_of_birth": date(1992, 11, 2), "sex": "female"},
        {"surname": "Okafor", "forenames": "Daniel", "date_of_birth": date(1979, 6, 30), "sex": "male"},
    ],
    "southshire": [
        {"surname": "Smith", "forenames": "William", "date_of_birth": date(1985, 1, 20), "sex": "male"},
        {"surname": "Kowalski", "forenames": "Piotr", "date_of_birth": date(1990, 8, 8), "sex": "male"},
    ],
    "westshire": [
        {"surname": "MacDonald", "forenames": "Margaret", "date_of_birth": date(1960, 5, 5), "sex": "female"},
    ],
    "lakeshire": [
        {"surname": "Lake", "forenames": "Jonathan", "date_of_birth": date(1975, 12, 1), "sex": "male"},
    ],
}


def demo_id(slug: str, index: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"concord-demo/{slug}/person/{index}")


def load(app: Flask) -> int:
    """Create any demo person not yet present; returns how many were created."""
    services = app.extensions["concord"]
    created = 0
    with app.app_context():
        for tenant in services.registry.tenants():
            principal = Principal(tenant, DEMO_USER, frozenset({"officer"}), permissions_for({"officer"}))
            session = services.databases.session(tenant)
            try:
                with tenant_context(TenantContext(tenant.id, DEMO_USER, "demo data load")):
                    for index, data in enumerate(PEOPLE.get(tenant.slug, [])):
                        person_id = demo_id(tenant.slug, index)
                        with transaction(session):
                            exists = session.scalar(select(Person.id).where(Person.id == person_id))
                            if exists is None:
                                people.create(session, principal, dict(data), person_id=person_id)
                                created += 1
            finally:
                session.close()
    return created
