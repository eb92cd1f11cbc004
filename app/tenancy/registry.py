"""The forces Concord serves, as applied to the pooled database by `concord tenants apply`.

Read by the runtime role, cached for a short time so an apply takes effect without a restart, and kept while the
pooled database is unreachable. Each read is told to whoever listens (the app: its databases let go of those no
active force is routed to any more).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from sqlalchemy import Connection, Engine, text

from app.errors import RETRY_AFTER_SECONDS, is_database_outage
from app.tenancy.config import Collaboration, Tenant, revalidated

log = logging.getLogger(__name__)


class Registry:
    """Active tenants by slug and by issuer, and collaborations, refreshed every `ttl` seconds."""

    def __init__(self, bind: Callable[[], Engine | Connection], ttl: float = 30.0):
        self._bind = bind
        self._ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._by_slug: dict[str, Tenant] = {}
        self._by_issuer: dict[str, Tenant] = {}
        self._collaborations: dict[str, Collaboration] = {}
        self._maintenance: frozenset[str] = frozenset()
        # Called with the active forces after every read (under the lock, so in the order the reads were made).
        self.read_hooks: list[Callable[[list[Tenant]], None]] = []

    def by_issuer(self, issuer: str) -> Tenant | None:
        self._refresh()
        return self._by_issuer.get(issuer)

    def by_slug(self, slug: str) -> Tenant | None:
        self._refresh()
        return self._by_slug.get(slug)

    def tenants(self) -> list[Tenant]:
        self._refresh()
        return list(self._by_slug.values())

    def collaborations(self) -> list[Collaboration]:
        self._refresh()
        return list(self._collaborations.values())

    def in_maintenance(self, slug: str) -> bool:
        """Whether the force is being moved (`concord tenants move`): its writes are refused, its reads go on."""
        self._refresh()
        return slug in self._maintenance

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self._ttl:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < self._ttl:
                return
            try:
                tenant_rows, collab_rows = self._read()
            except Exception as exc:
                if not self._by_slug or not is_database_outage(exc):
                    raise
                # The pool is down: keep the forces as last read (a dedicated force's own database may be up), and
                # look again shortly rather than on every request.
                log.warning("tenant registry: the pooled database is unavailable; using the forces as last read")
                self._loaded_at = time.monotonic() - self._ttl + min(self._ttl, RETRY_AFTER_SECONDS)
                return
            tenants = [Tenant.from_settings(_checked(row.settings)) for row in tenant_rows]
            self._by_slug = {t.slug: t for t in tenants}
            self._by_issuer = {t.identity.issuer: t for t in tenants}
            self._maintenance = frozenset(row.settings["slug"] for row in tenant_rows if row.maintenance)
            self._collaborations = {row.slug: Collaboration.from_settings(row.settings) for row in collab_rows}
            self._loaded_at = time.monotonic()
            for hook in self.read_hooks:
                hook(tenants)

    def _read(self):
        bind = self._bind()
        if isinstance(bind, Connection):
            return _select(bind)
        with bind.connect() as conn:
            return _select(conn)


def _checked(settings: dict) -> dict:
    """The stored settings as served: sections that no longer validate fall back to their national defaults."""
    served, problems = revalidated(settings)
    for problem in problems:
        log.error("force %s: stored setting %s (a section with a default is served with it; fix the file, apply it)",
                  settings.get("slug"), problem)
    return served


def _select(conn: Connection):
    tenants = conn.execute(text("SELECT settings, maintenance FROM tenant WHERE active ORDER BY slug")).all()
    collabs = conn.execute(text("SELECT slug, settings FROM collaboration WHERE active ORDER BY slug")).all()
    return tenants, collabs
