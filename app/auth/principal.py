"""The acting user, as the verified token describes them."""
from __future__ import annotations

from dataclasses import dataclass

from app.tenancy.config import Tenant


@dataclass(frozen=True)
class Principal:
    """A user of one force with the Concord roles their identity provider's roles map to."""

    tenant: Tenant
    user_id: str
    roles: frozenset[str]
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions
