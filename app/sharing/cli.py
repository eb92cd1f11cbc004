"""`concord sharing repair`: check each dedicated provider's mirror of its agreements against their home."""
from __future__ import annotations

import click

from app import commands
from app.db import Databases
from app.sharing import agreements


@click.group()
def sharing() -> None:
    """Sharing between forces."""


@sharing.command("repair")
def sharing_repair() -> None:
    """Rewrite any dedicated force's agreement grants that differ from the pool's (the agreements' home)."""
    settings = commands.settings()
    platform = commands.platform(settings)
    databases = Databases(settings)
    try:
        for tenant in platform.dedicated():
            click.echo(f"{tenant.slug}: {agreements.repair(databases=databases, tenant=tenant)} agreement(s) repaired")
    finally:
        databases.dispose()
