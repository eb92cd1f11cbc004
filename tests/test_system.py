"""Health, readiness, the OpenAPI document and the API reference; PNC check letters; settings."""
from __future__ import annotations

import pytest

from app.config import ConfigError, Settings
from app.people.identifiers import name_key, normalise_pnc_id, pnc_check_letter


def test_healthz_and_readyz_need_no_token(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["databases"] == {"pool": "ok", "lakeshire": "ok", "moorshire": "ok"}


@pytest.mark.committing
def test_readyz_is_503_when_a_database_is_behind(app, superuser):
    head = superuser.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    superuser.execute("UPDATE alembic_version SET version_num = 'old'")
    try:
        response = app.test_client().get("/readyz")
    finally:
        superuser.execute("UPDATE alembic_version SET version_num = %s", (head,))
    assert response.status_code == 503
    assert response.get_json()["databases"]["pool"] == f"at old, head is {head}"


def test_openapi_document_and_docs_are_served_without_a_cdn(app):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/people", "/api/v1/people/{person_id}", "/api/v1/me", "/api/v1/audit"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/docs").get_data(as_text=True)
    assert "/docs/static/swagger-ui-bundle.js" in page and "//cdn" not in page and "unpkg" not in page
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_every_api_route_declares_a_permission_or_is_whoami(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json") or rule.rule == "/api/v1/me":
            continue
        view = app.view_functions[rule.endpoint]
        cls = getattr(view, "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            handler = getattr(cls, method.lower()) if cls else view
            if not getattr(handler, "_concord_permission", None):
                undeclared.append(f"{method} {rule.rule}")
    assert undeclared == []


@pytest.mark.parametrize("year, serial, letter", [(98, 12345, "J"), (88, 12345, "G"), (1, 1, "Q"), (0, 0, "Z")])
def test_pnc_check_letters(year, serial, letter):
    assert pnc_check_letter(year, serial) == letter


def test_pnc_ids_are_normalised_and_checked():
    assert normalise_pnc_id(" 98/12345j ") == "98/0012345J"
    with pytest.raises(ValueError, match="expected J"):
        normalise_pnc_id("98/0012345K")


def test_name_keys_fold_case_accents_and_punctuation():
    assert name_key("O'Brien") == name_key("OBRIEN") == "OBRIEN"
    assert name_key("  Zoë   Smith-Jones ") == "ZOE SMITH JONES"


def test_settings_refuse_bad_values():
    with pytest.raises(ConfigError, match="CONCORD_ENV"):
        Settings.from_env({"CONCORD_ENV": "staging"})
    with pytest.raises(ConfigError, match="CONCORD_DEV_IDP"):
        Settings.from_env({"CONCORD_ENV": "production", "CONCORD_DEV_IDP": "1"})
    with pytest.raises(ConfigError, match="PostgreSQL"):
        Settings.from_env({"DATABASE_URL": "mysql://x@y/z"})
    settings = Settings.from_env({"DATABASE_URL": "postgresql://app@db/concord",
                                  "CONCORD_DEDICATED_DATABASE_URL": "postgresql://app@db-{tenant}/concord"})
    assert settings.dedicated_url("lakeshire").host == "db-lakeshire"
    assert settings.owner_url(settings.runtime_url()).username == "concord_owner"
    assert not Settings.from_env({"CONCORD_ENV": "production"}).dev_idp


def test_passwords_given_apart_from_the_urls_reach_each_database():
    """A secrets manager injects each role's password on its own (infra/modules/service): pool and dedicated."""
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql://concord_app@pool/concord",
        "CONCORD_DATABASE_URL_LAKESHIRE": "postgresql://concord_app@lake/concord",
        "CONCORD_DATABASE_PASSWORD": "pool-runtime", "CONCORD_DATABASE_PASSWORD_LAKESHIRE": "lake-runtime",
        "CONCORD_OWNER_PASSWORD": "pool-owner", "CONCORD_OWNER_PASSWORD_LAKESHIRE": "lake-owner",
    })
    pool, lake = settings.runtime_url(), settings.dedicated_url("lakeshire")
    assert (pool.host, pool.password) == ("pool", "pool-runtime")
    assert (lake.host, lake.password) == ("lake", "lake-runtime")
    assert settings.owner_url(pool).password == "pool-owner"
    assert settings.owner_url(lake, database="lakeshire").password == "lake-owner"
    with_own = Settings.from_env({"DATABASE_URL": "postgresql://concord_app:inline@pool/concord",
                                  "CONCORD_DATABASE_PASSWORD": "other"})
    assert with_own.runtime_url().password == "inline"


def test_the_dev_identity_provider_is_absent_in_production(settings):
    from dataclasses import replace

    from app import create_app

    production = create_app(replace(settings, environment="production", dev_idp=False, console_secret="s" * 32))
    assert production.test_client().get("/dev-idp/northshire/jwks.json").status_code == 404
    production.extensions["concord"].databases.dispose()
