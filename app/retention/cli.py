"""`concord retention ...`: reassessing records under the force's retention policy."""
from __future__ import annotations

import click


@click.group()
def retention() -> None:
    """Retention review and disposal."""


@retention.command("recompute")
@click.option("--tenant", "slugs", multiple=True, help="A force's slug (repeat for more); every force if none")
def retention_recompute(slugs: tuple[str, ...]) -> None:
    """Reassess every record's retention group and review date under its force's current policy."""
    from app import commands
    from app.db import Databases
    from app.retention.recompute import recompute

    settings = commands.settings()
    tenants = commands.forces(commands.platform(settings), slugs)
    databases = Databases(settings)
    try:
        for tenant in tenants:
            changed = recompute(databases, tenant)
            click.echo(f"{tenant.slug}: reassessed; changed " + ", ".join(f"{n} {t}" for t, n in changed.items()))
    finally:
        databases.dispose()
