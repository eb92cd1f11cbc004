"""Who is acting: the verified user, their force and roles, the purpose they stated, the request, and what other
forces share with their force. One explicit object, passed to every service; the tenant contextvar
(app.context) is only what feeds each transaction's settings, built from it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.auth.permissions import RETENTION_RESTRICTED
from app.context import SharedSource, TenantContext
from app.tenancy.config import Tenant


@dataclass(frozen=True)
class Principal:
    """A user of one force with the Concord roles their identity provider's roles map to, acting for a purpose.

    `shared` lists what other forces share with the force now; it is filled only when a purpose is stated,
    and the database's sharing policies decide row by row whatever it says."""

    tenant: Tenant
    user_id: str
    roles: frozenset[str]
    permissions: frozenset[str]
    purpose: str = ""
    request_id: str = ""
    shared: tuple[SharedSource, ...] = ()

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def source(self, provider_id: uuid.UUID, grant_type: str) -> SharedSource | None:
        """What one provider shares with this force under one grant type, if anything."""
        return next((s for s in self.shared if s.provider_id == provider_id and s.record_type == grant_type), None)

    def context(self) -> TenantContext:
        """The tenant context that feeds each transaction's settings (and the ORM's second layer of scoping)."""
        return TenantContext(self.tenant.id, self.user_id, self.purpose, self.request_id, self.shared,
                             restricted_access=self.can(RETENTION_RESTRICTED))
