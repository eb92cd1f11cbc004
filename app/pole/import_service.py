"""The import use case: one transaction as the runtime role, in the force's tenant context, audited."""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Callable

from app import observability
from app.audit import service as audit_service
from app.auth.permissions import permissions_for
from app.auth.principal import Principal
from app.db import Databases, tenant_context
from app.pole import importer
from app.tenancy.config import Tenant


class _DryRun(Exception):
    """Raised to roll the import back after validating and staging it."""


def import_file(databases: Databases, tenant: Tenant, kind: str, path: Path, user: str, dry_run: bool = False,
                progress: Callable[[int], None] = lambda n: None) -> importer.Report:
    session = databases.session(tenant)
    principal = Principal(tenant, user, frozenset({"officer"}), permissions_for({"officer"}),
                          purpose=f"bulk import of {kind} from {path.name}")
    started = time.perf_counter()
    try:
        with tenant_context(principal.context()):
            with session.begin():
                with path.open(encoding="utf-8-sig", newline="") as stream:
                    report = importer.run(session.connection(), kind, tenant.id, user, importer.read_rows(stream),
                                          progress)
                audit_service.record(session, principal, "collection", f"{kind}_import", uuid.uuid4(), {
                    "file": path.name, "rows": report.rows, "inserted": report.inserted,
                    "already_present": report.already_present, "bad": len(report.bad)})
                if dry_run:
                    raise _DryRun
    except _DryRun:
        report.dry_run = True  # the counts say what would have loaded; the transaction was rolled back
    finally:
        session.close()
    report.seconds = time.perf_counter() - started
    observability.event("import.finished", force=tenant.slug, kind=kind, rows=report.rows, inserted=report.inserted,
                        already_present=report.already_present, bad=len(report.bad), dry_run=report.dry_run,
                        seconds=round(report.seconds, 1))
    return report
