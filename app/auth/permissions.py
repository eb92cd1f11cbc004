"""The default role catalogue: which permissions each Concord role holds.

A force maps its identity provider's role names onto these roles in its tenant config.
"""
from __future__ import annotations

PEOPLE_READ = "people:read"
PEOPLE_WRITE = "people:write"
PEOPLE_MERGE = "people:merge"
POLE_READ = "pole:read"
POLE_WRITE = "pole:write"
TASKS_READ = "tasks:read"
INTELLIGENCE_READ = "intelligence:read"
INTELLIGENCE_WRITE = "intelligence:write"
INTELLIGENCE_UNSANITISED = "intelligence:unsanitised"
INVESTIGATIONS_READ = "investigations:read"
INVESTIGATIONS_WRITE = "investigations:write"
CUSTODY_READ = "custody:read"
CUSTODY_WRITE = "custody:write"
AUDIT_READ = "audit:read"
SHARING_ADMIN = "sharing:admin"
TENANTS_OPERATE = "tenants:operate"
RETENTION_REVIEW = "retention:review"  # the review queue, review decisions, proposing and executing disposal lists
RETENTION_APPROVE = "retention:approve"  # approving another user's disposal list (the second person)
RETENTION_RESTRICTED = "retention:restricted"  # seeing restricted records (RLS), restricting and lifting it

ALL_PERMISSIONS = frozenset({PEOPLE_READ, PEOPLE_WRITE, PEOPLE_MERGE, POLE_READ, POLE_WRITE, CUSTODY_READ,
                             CUSTODY_WRITE, INVESTIGATIONS_READ, INVESTIGATIONS_WRITE, INTELLIGENCE_READ,
                             INTELLIGENCE_WRITE, INTELLIGENCE_UNSANITISED, TASKS_READ, AUDIT_READ, SHARING_ADMIN,
                             TENANTS_OPERATE, RETENTION_REVIEW, RETENTION_APPROVE, RETENTION_RESTRICTED})
READ = frozenset({PEOPLE_READ, POLE_READ})
WRITE = READ | {PEOPLE_WRITE, POLE_WRITE}
INVESTIGATE = frozenset({"investigations:read", "investigations:write"})
SUBMIT_INTELLIGENCE = frozenset({"intelligence:read", "intelligence:write"})
ANALYSE = SUBMIT_INTELLIGENCE | {"intelligence:unsanitised"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "officer": WRITE | INVESTIGATE | SUBMIT_INTELLIGENCE | {CUSTODY_READ},
    "investigator": WRITE | INVESTIGATE | SUBMIT_INTELLIGENCE | {CUSTODY_READ},
    "intelligence_analyst": WRITE | ANALYSE,
    "custody_officer": WRITE | {CUSTODY_READ, CUSTODY_WRITE},
    "custody_inspector": READ | {CUSTODY_READ, CUSTODY_WRITE},
    "superintendent": READ | ANALYSE | {CUSTODY_READ, CUSTODY_WRITE},
    "supervisor": WRITE | INVESTIGATE | SUBMIT_INTELLIGENCE | {PEOPLE_MERGE, CUSTODY_READ},
    "force_admin": READ | {PEOPLE_MERGE, AUDIT_READ, SHARING_ADMIN},
    "collaboration_admin": frozenset({SHARING_ADMIN}),
    "auditor": READ | {AUDIT_READ},
    "platform_operator": frozenset({TENANTS_OPERATE}),
    "retention_reviewer": READ | {INVESTIGATIONS_READ, RETENTION_REVIEW},
    "disposal_approver": READ | {INVESTIGATIONS_READ, RETENTION_REVIEW, RETENTION_APPROVE},
    "restricted_access": READ | {INVESTIGATIONS_READ, RETENTION_RESTRICTED},
}

# Everyone can see their own tasks.
ROLE_PERMISSIONS = {role: permissions | {TASKS_READ} for role, permissions in ROLE_PERMISSIONS.items()}
ROLES = frozenset(ROLE_PERMISSIONS)


def permissions_for(roles: frozenset[str] | set[str]) -> frozenset[str]:
    """The union of the permissions of the given Concord roles (unknown roles grant nothing)."""
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)
