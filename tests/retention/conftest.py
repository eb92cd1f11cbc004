"""The retention staff of each force, and helpers that walk a record through review to disposal."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text


@pytest.fixture
def reviewer(as_user):
    return as_user("northshire", "retention_reviewer", user="rr-1")


@pytest.fixture
def approver(as_user):
    return as_user("northshire", "disposal_approver", user="da-1")


def dispose_decision(reviewer, record_type: str, record_id: str) -> dict[str, Any]:
    response = reviewer.post("/api/v1/retention/reviews", json={
        "record_type": record_type, "record_id": record_id, "decision": "dispose",
        "rationale": "No policing purpose remains after the clear period"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def propose(reviewer, *items: tuple[str, str]):
    return reviewer.post("/api/v1/retention/disposal-lists",
                         json={"items": [{"record_type": t, "record_id": i} for t, i in items]})


def approve(approver, listed: dict[str, Any]):
    """Approve a proposed list as it was read."""
    response = approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                             json={"items_hash": listed["items_hash"]})
    assert response.status_code == 200, response.get_json()
    return response


def as_force(services, slug: str):
    """The test's own pool connection (the runtime role, RLS on) acting for one force with restricted access,
    to look at what is stored inside the test's transaction."""
    conn = services.databases.overrides["pool"]
    tenant = services.registry.by_slug(slug)
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.restricted_access', 'on', true)"),
                 {"t": str(tenant.id)})
    return conn
