"""A force uses the modules its file lists (`modules`): the routes of any other module answer 404 for it."""
from __future__ import annotations

from app.errors import NotFound
from app.tenancy.config import MODULES, Tenant

# Each module's blueprint is named after it; blueprints not here (pole, tasks, audit, system) belong to every force.
BLUEPRINT_MODULES = {module: module for module in MODULES}


class ModuleNotEnabled(NotFound):
    """404 for a module the force does not use: no record was asked for, so no refusal is audited."""

    refused = False


def require(tenant: Tenant, blueprint: str | None) -> None:
    """Raise 404 when the blueprint belongs to a module the force's file does not list."""
    module = BLUEPRINT_MODULES.get(blueprint or "")
    if module is not None and module not in tenant.modules:
        raise ModuleNotEnabled(f"Not found: {module} is not one of {tenant.name}'s modules")
