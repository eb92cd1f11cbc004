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
    from app import provision
    from app.config import Settings
    from app.db import Databases
    from app.retention.recompute import recompute
    from app.tenancy import config as tenancy_config

    settings = provision.database_settings(Settings.from_env())
    platform = tenancy_config.load(settings.tenants_dir, production=settings.environment == "production")
    unknown = sorted(set(slugs) - set(platform.tenants))
    if unknown:
        raise click.ClickException(f"no force {', '.join(unknown)}; known: {', '.join(sorted(platform.tenants))}")
    databases = Databases(settings)
    try:
        for slug in slugs or sorted(platform.tenants):
            changed = recompute(databases, platform.tenants[slug])
            click.echo(f"{slug}: reassessed; changed " + ", ".join(f"{n} {t}" for t, n in changed.items()))
    finally:
        databases.dispose()
