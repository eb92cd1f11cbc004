"""Forces (tenants): their config, the registry of those applied, and routing to their databases."""
from __future__ import annotations

import uuid

from flask import current_app


def force_slug(tenant_id: uuid.UUID) -> str:
    """The slug of the force with this id, for showing which force owns a record."""
    for tenant in current_app.extensions["concord"].registry.tenants():
        if tenant.id == tenant_id:
            return tenant.slug
    return str(tenant_id)
