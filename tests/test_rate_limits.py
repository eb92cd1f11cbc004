"""Rate limits: per user and per force from the force's [rate_limits], bad tokens per client address; 429 in the
JSON error shape with Retry-After. The rest of the suite runs with limits off (tests/conftest.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask

from app.config import ROOT, ConfigError, Settings
from app.ratelimit import RateLimits, tenant_limits
from app.tenancy import config as tenancy_config
from tests.conftest import Api, make_token, unique


@pytest.fixture
def limits(app):
    """Rate limits on, every count forgotten before and after."""
    rate_limits: RateLimits = app.extensions["concord_rate_limits"]
    rate_limits.reset()
    rate_limits.enabled = True
    yield rate_limits
    rate_limits.enabled = False
    rate_limits.reset()


@pytest.fixture
def force_limits(services, monkeypatch):
    """force_limits('northshire', per_user='3/minute'): as if the force's [rate_limits] said so."""

    def set_limits(slug: str, **values: str) -> None:
        tenant = services.registry.by_slug(slug)
        monkeypatch.setitem(tenant.settings, "rate_limits", {**tenant_limits(tenant), **values})

    return set_limits


def user(app, services, slug: str, name: str | None = None, address: str = "127.0.0.1") -> Api:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Api(client, make_token(services, slug, ["investigator"], name or unique("rl-")), slug)


def assert_429(response) -> int:
    """The JSON error shape with Retry-After; the seconds it says."""
    assert response.status_code == 429, response.get_json()
    body = response.get_json()
    assert body["code"] == 429 and body["status"] == "Too Many Requests" and body["request_id"]
    assert response.headers["X-Request-Id"] == body["request_id"]
    assert response.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in response.headers
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert f"try again in {retry_after} s" in body["message"]
    return retry_after


def test_a_user_over_the_per_user_limit_gets_429_while_other_users_and_forces_go_on(app, services, limits,
                                                                                     force_limits):
    force_limits("northshire", per_user="3/minute")
    name = unique("rl-")
    officer = user(app, services, "northshire", name)
    assert [officer.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = officer.get("/api/v1/me")
    assert_429(refused)
    assert "Too many requests from your account (at most 3 per 1 minute)" in refused.get_json()["message"]
    assert officer.get("/api/v1/people?surname=x").status_code == 429  # every route counts, not one
    assert user(app, services, "northshire").get("/api/v1/me").status_code == 200  # a colleague
    assert user(app, services, "southshire", name).get("/api/v1/me").status_code == 200  # same user id, other force


def test_a_force_over_its_per_force_limit_gets_429_while_other_forces_go_on(app, services, limits, force_limits):
    force_limits("northshire", per_force="4/minute")
    statuses = [user(app, services, "northshire").get("/api/v1/me").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    refused = user(app, services, "northshire").get("/api/v1/me")
    assert_429(refused)
    assert "Too many requests from your force" in refused.get_json()["message"]
    assert user(app, services, "southshire").get("/api/v1/me").status_code == 200


def test_repeated_bad_tokens_from_one_address_get_429(app, services, limits, monkeypatch):
    monkeypatch.setattr(limits, "bad_tokens", "3/minute")
    flooding = app.test_client()
    flooding.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    good = user(app, services, "northshire", address="192.0.2.7")
    assert [good.get("/api/v1/me").status_code for _ in range(5)] == [200] * 5  # good tokens do not count
    bad = {"Authorization": "Bearer not-a-token"}
    assert [flooding.get("/api/v1/me", headers=bad).status_code for _ in range(3)] == [401, 401, 401]
    refused = flooding.get("/api/v1/me", headers=bad)
    assert_429(refused)
    assert "invalid token from your address" in refused.get_json()["message"]
    assert flooding.get("/api/v1/me").status_code == 429  # no token at all counts as a bad one
    assert good.get("/api/v1/me").status_code == 429  # the address is refused before any token is verified
    assert flooding.get("/healthz").status_code == 200  # public routes are not
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert elsewhere.get("/api/v1/me", headers=bad).status_code == 401
    assert user(app, services, "northshire", address="192.0.2.8").get("/api/v1/me").status_code == 200


def test_limits_off_count_nothing(app, services, limits, force_limits):
    force_limits("northshire", per_user="1/minute")
    limits.enabled = False
    officer = user(app, services, "northshire")
    assert {officer.get("/api/v1/me").status_code for _ in range(5)} == {200}


def test_a_force_without_rate_limits_gets_the_national_defaults(tmp_path: Path):
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    path = tmp_path / "tenants" / "southshire.toml"
    assert "[rate_limits]" not in path.read_text()
    southshire = tenancy_config.load(tmp_path / "tenants").tenants["southshire"]
    assert southshire.settings["rate_limits"] == {"per_user": "600/minute", "per_force": "6000/minute"}
    assert tenant_limits(southshire) == tenancy_config.NATIONAL_RATE_LIMITS
    path.write_text(path.read_text() + '\n[rate_limits]\nper_user = "20/second; 600/minute"\n')
    southshire = tenancy_config.load(tmp_path / "tenants").tenants["southshire"]
    assert tenant_limits(southshire) == {"per_user": "20/second; 600/minute", "per_force": "6000/minute"}


@pytest.mark.parametrize("value", ['"lots"', '"0/minute"', '""', "600"])
def test_a_bad_rate_limit_in_a_force_file_is_refused_with_the_field(tmp_path: Path, value: str):
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    path = tmp_path / "tenants" / "southshire.toml"
    path.write_text(path.read_text() + f"\n[rate_limits]\nper_force = {value}\n")
    with pytest.raises(tenancy_config.ConfigFileError) as caught:
        tenancy_config.load(tmp_path / "tenants")
    assert any(": rate_limits.per_force:" in p for p in caught.value.problems)


def test_rate_limit_settings_are_checked_at_start_up():
    settings = Settings.from_env({"CONCORD_RATE_LIMIT_STORAGE": "redis://cache:6379", "CONCORD_RATE_LIMITS": "0"})
    assert settings.rate_limit_storage == "redis://cache:6379" and not settings.rate_limits
    assert Settings.from_env({}).rate_limit_storage == "memory://" and Settings.from_env({}).rate_limits
    with pytest.raises(ConfigError, match="CONCORD_RATE_LIMIT_BAD_TOKENS"):
        Settings.from_env({"CONCORD_RATE_LIMIT_BAD_TOKENS": "many"})
    with pytest.raises(ConfigError, match="CONCORD_RATE_LIMIT_STORAGE"):
        RateLimits(Settings(rate_limit_storage="nosuch://x"), public=lambda: False).init_before_auth(Flask(__name__))


def test_behind_a_trusted_load_balancer_each_client_address_counts_apart(settings):
    from dataclasses import replace as with_values

    from app import create_app

    behind = create_app(with_values(settings, trusted_proxies=1))
    behind.config["TESTING"] = True
    try:
        limiter: RateLimits = behind.extensions["concord_rate_limits"]
        limiter.enabled, limiter.bad_tokens = True, "2/minute"
        client = behind.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the load balancer
        bad = {"Authorization": "Bearer not-a-token"}

        def from_client(address: str) -> int:
            return client.get("/api/v1/me", headers={**bad, "X-Forwarded-For": address}).status_code

        assert [from_client("198.51.100.1") for _ in range(3)] == [401, 401, 429]
        assert from_client("198.51.100.2") == 401  # another client behind the same balancer is not refused
    finally:
        behind.extensions["concord"].databases.dispose()
