"""Production posture: https issuers only, no demo forces in the image, the API reference served only when
configured to be."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from app import create_app
from app.config import ROOT, Settings
from app.tenancy import config as tenancy_config

DOC_PATHS = ("/docs", "/api/v1/openapi.json", "/docs/static/swagger-ui.css")


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tenants", tmp_path / "tenants")
    return tmp_path / "tenants"


def test_production_refuses_issuers_that_are_not_https(config_dir):
    tenancy_config.load(config_dir)  # http:// is fine for the development IdP outside production
    with pytest.raises(tenancy_config.ConfigFileError) as caught:
        tenancy_config.load(config_dir, production=True)
    assert f"{config_dir / 'northshire.toml'}: identity.issuer: must be https:// in production" in caught.value.problems
    assert len(caught.value.problems) == len(list(config_dir.glob("*.toml")))  # every force of the demo


def test_production_accepts_https_issuers(config_dir):
    for path in config_dir.glob("*.toml"):
        path.write_text(path.read_text().replace('issuer = "http://127.0.0.1:5000', 'issuer = "https://idp.example.org'))
    platform = tenancy_config.load(config_dir, production=True)
    assert platform.tenants["northshire"].identity.issuer == "https://idp.example.org/dev-idp/northshire"


def test_an_absent_tenants_directory_is_refused_not_applied_as_empty(tmp_path):
    with pytest.raises(tenancy_config.ConfigFileError, match="no tenant configuration here"):
        tenancy_config.load(tmp_path / "nowhere")


def test_the_image_carries_no_demo_forces():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert "tenants" in ignored or "tenants/" in ignored
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [line.split() for line in dockerfile.splitlines() if line and not line.startswith("#")]
    copied = [words[1] for words in instructions if words[0] in ("COPY", "ADD")]
    assert not any(source.startswith("tenants") or source == "." for source in copied), copied
    assert "CONCORD_TENANTS_DIR=/etc/concord/tenants" in dockerfile
    assert "CONCORD_ENV=production" in dockerfile


def test_api_docs_are_on_by_default_outside_production_and_off_in_it():
    assert Settings.from_env({}).api_docs
    assert Settings.from_env({"CONCORD_ENV": "test"}).api_docs
    assert not Settings.from_env({"CONCORD_ENV": "production"}).api_docs
    assert Settings.from_env({"CONCORD_ENV": "production", "CONCORD_API_DOCS": "1"}).api_docs
    assert not Settings.from_env({"CONCORD_API_DOCS": "0"}).api_docs


def test_the_api_reference_is_served_only_when_configured(app, settings):
    client = app.test_client()
    for path in DOC_PATHS:
        assert client.get(path).status_code == 200, path

    production = create_app(replace(settings, environment="production", dev_idp=False, api_docs=False))
    try:
        client = production.test_client()
        for path in DOC_PATHS:
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.is_json  # the API's own error shape, not an HTML page
        assert client.get("/healthz").status_code == 200
    finally:
        production.extensions["concord"].databases.dispose()

    configured = create_app(replace(settings, environment="production", dev_idp=False, api_docs=True))
    try:
        assert configured.test_client().get("/api/v1/openapi.json").status_code == 200
    finally:
        configured.extensions["concord"].databases.dispose()
