"""Security headers on every response (API, errors, /docs), and no CORS by default."""
from __future__ import annotations

import re

import pytest

from app.headers import API_POLICY, DOCS_POLICY

OTHER_ORIGIN = "https://elsewhere.example"


def assert_secured(response, policy: str = API_POLICY) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"] == policy
    assert "frame-ancestors 'none'" in policy
    assert not any(name.startswith("Access-Control-") for name in response.headers.keys())


def test_an_api_answer_allows_nothing_to_render_frame_or_embed_it(north):
    response = north.get("/api/v1/me", headers={"Origin": OTHER_ORIGIN})
    assert response.status_code == 200
    assert_secured(response)
    assert "default-src 'none'" in API_POLICY


@pytest.mark.parametrize("path, headers, status", [
    ("/api/v1/me", {}, 401),
    ("/api/v1/me", {"Authorization": "Bearer not-a-token"}, 401),
    ("/api/v1/nothing-here", {}, 404),
    ("/healthz", {}, 200),
])
def test_errors_and_public_answers_carry_the_same_headers(client_for, path, headers, status):
    response = client_for().get(path, headers=headers)
    assert response.status_code == status
    assert_secured(response)


def test_an_invalid_request_and_a_permission_refusal_carry_them(north, as_user):
    assert_secured(north.post("/api/v1/people", json={"surname": 5}))
    refused = as_user("northshire", "officer").get("/api/v1/audit")
    assert refused.status_code == 403
    assert_secured(refused)


def test_a_server_error_carries_them(app, north, monkeypatch):
    def crash(**_):
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "system.Me", crash)
    response = north.get("/api/v1/me")
    assert response.status_code == 500 and response.get_json()["code"] == 500
    assert_secured(response)


def test_docs_may_run_concord_s_own_scripts_only_and_nothing_may_frame_it(client_for):
    response = client_for().get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert_secured(response, DOCS_POLICY)
    assert "unsafe-inline" not in DOCS_POLICY and "unsafe-eval" not in DOCS_POLICY
    assert "script-src 'self'" in DOCS_POLICY and "connect-src 'self'" in DOCS_POLICY
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts
    for attributes, body in scripts:  # no inline script: each loads a file, or is data that never runs
        assert ('src="' in attributes and not body.strip()) or 'type="application/json"' in attributes
    for src in re.findall(r'(?:src|href)="([^"]+)"', page):  # everything it loads is Concord's own
        assert src.startswith("/"), src
        asset = client_for().get(src)
        assert asset.status_code == 200, src
        assert_secured(asset)
    assert client_for().get("/docs/swagger-init.js").mimetype == "text/javascript"


def test_a_preflight_from_another_origin_gets_no_cors_grant(client_for):
    response = client_for().options("/api/v1/people", headers={
        "Origin": OTHER_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert not any(name.startswith("Access-Control-") for name in response.headers.keys())
    assert_secured(response)


@pytest.fixture
def client_for(app):
    return app.test_client
