"""Helpers for the list routes' tests: what a list returns, and what its provider's access log holds."""
from __future__ import annotations

from typing import Any

from tests.sharing.test_agreements import PURPOSE


def listed(api, path: str, *, headers: dict[str, str] | None = None, **query: Any) -> dict[str, Any]:
    """The page a list answers with (200 asserted)."""
    response = api.get(path, query_string=query, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def shared_listing(api, path: str, **query: Any) -> dict[str, Any]:
    """As another force, with a stated purpose."""
    return listed(api, path, headers=PURPOSE, **query)


def logged_for_provider(auditor, record_id: str) -> list[dict[str, Any]]:
    """The provider's access-log rows for one of its records."""
    response = auditor.get("/api/v1/sharing/access-log", query_string={"record_id": record_id})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]
