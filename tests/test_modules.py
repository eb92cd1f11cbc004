"""`modules` is enforced: every route of a module a force's file does not list answers 404 for that force."""
from __future__ import annotations

import dataclasses
import uuid

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

from app.tenancy.config import MODULES


@pytest.fixture
def without(services, monkeypatch):
    """without('northshire', 'custody'): the force as if its file left the module out."""

    def factory(slug: str, *omitted: str) -> None:
        registry = services.registry
        tenant = registry.by_slug(slug)
        changed = dataclasses.replace(tenant, modules=tuple(m for m in tenant.modules if m not in omitted))
        monkeypatch.setitem(registry._by_slug, slug, changed)
        monkeypatch.setitem(registry._by_issuer, tenant.identity.issuer, changed)

    return factory


def _sample(converter) -> object:
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, IntegerConverter):
        return 1
    return sorted(converter.items)[0] if isinstance(converter, AnyConverter) else "x"


def _requests(app, blueprint: str):
    """(method, url) for every route of the blueprint, its arguments filled in."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != blueprint:
            continue
        values = {name: _sample(conv) for name, conv in rule._converters.items()}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, adapter.build(rule.endpoint, values, method=method)


@pytest.mark.parametrize("module", MODULES)
def test_every_route_of_a_module_the_force_omits_answers_404_in_the_error_shape(app, as_user, without, module):
    without("northshire", module)
    user = as_user("northshire", "force_admin", "investigator", "custody_officer", "intelligence_analyst")
    requests = list(_requests(app, module))
    assert requests, f"no routes found for the {module} blueprint"
    for method, url in requests:
        response = user.client.open(url, method=method, json={}, headers=user._headers(None))
        body = response.get_json()
        assert response.status_code == 404, (method, url, body)
        assert set(body) == {"code", "status", "message", "request_id"}
        assert body["message"] == f"Not found: {module} is not one of Northshire Police's modules"


def test_the_modules_a_force_keeps_and_other_forces_are_untouched(as_user, without):
    without("northshire", "custody", "intelligence")
    north = as_user("northshire", "custody_officer", "investigator")
    assert north.get("/api/v1/custody/suites/NTH/board").status_code == 404
    assert north.get("/api/v1/people?surname=Smith").status_code == 200
    assert north.get("/api/v1/tasks").status_code == 200  # not a module: every force has its tasks
    south = as_user("southshire", "custody_officer")
    assert south.get("/api/v1/custody/suites/STH/board").status_code == 200


def test_the_demo_forces_list_every_module():
    from app.config import ROOT
    from app.tenancy import config as tenancy_config

    for tenant in tenancy_config.load(ROOT / "tenants").tenants.values():
        assert set(tenant.modules) == set(MODULES), tenant.slug
