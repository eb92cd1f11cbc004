"""The default role catalogue: which permissions each Concord role holds.

A force maps its identity provider's role names onto these roles in its tenant config.
"""
from __future__ import annotations

PEOPLE_READ = "people:read"
PEOPLE_WRITE = "people:write"
AUDIT_READ = "audit:read"
SHARING_ADMIN = "sharing:admin"
TENANTS_OPERATE = "tenants:operate"

ALL_PERMISSIONS = frozenset({PEOPLE_READ, PEOPLE_WRITE, AUDIT_READ, SHARING_ADMIN, TENANTS_OPERATE})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "officer": frozenset({PEOPLE_READ, PEOPLE_WRITE}),
    "investigator": frozenset({PEOPLE_READ, PEOPLE_WRITE}),
    "intelligence_analyst": frozenset({PEOPLE_READ, PEOPLE_WRITE}),
    "custody_officer": frozenset({PEOPLE_READ, PEOPLE_WRITE}),
    "custody_inspector": frozenset({PEOPLE_READ}),
    "superintendent": frozenset({PEOPLE_READ}),
    "supervisor": frozenset({PEOPLE_READ, PEOPLE_WRITE}),
    "force_admin": frozenset({PEOPLE_READ, AUDIT_READ, SHARING_ADMIN}),
    "collaboration_admin": frozenset({SHARING_ADMIN}),
    "auditor": frozenset({PEOPLE_READ, AUDIT_READ}),
    "platform_operator": frozenset({TENANTS_OPERATE}),
}

ROLES = frozenset(ROLE_PERMISSIONS)


def permissions_for(roles: frozenset[str] | set[str]) -> frozenset[str]:
    """The union of the permissions of the given Concord roles (unknown roles grant nothing)."""
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)
