"""`concord audit`: seal the trail, verify it, print a force's public checkpoint key."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from app.audit import seal as sealing
from app.audit import signing
from app.audit.verify import external_from_directory, external_from_storage, verify
from app.commands import forces
from app.config import Settings
from app.db import Databases
from app.tenancy.config import PlatformConfig


def group(settings: Callable[[], Settings], platform: Callable[[Settings], PlatformConfig],
          store_for: sealing.StoreFor) -> click.Group:
    """The `audit` commands, given how the application finds its settings, forces and object storage."""

    @click.group("audit")
    def audit() -> None:
        """The sealed audit trail: signed checkpoints of each force's Merkle tree."""

    @audit.command("seal")
    @click.option("--tenant", "slugs", multiple=True, help="A force's slug (repeat for more); every force if none")
    def seal(slugs: tuple[str, ...]) -> None:
        """Seal the audit rows whose transactions have finished and sign a checkpoint per force."""
        current = settings()
        databases = Databases(current)
        try:
            for tenant in forces(platform(current), slugs):
                sealed = sealing.seal(databases, tenant, current.var_dir, store_for)
                size = f", tree size {sealed.checkpoint.tree_size}" if sealed.checkpoint else ""
                click.echo(f"{tenant.slug}: {sealed.rows} row(s) sealed{size}")
        finally:
            databases.dispose()

    @audit.command("verify")
    @click.option("--tenant", "slug", required=True, help="The force's slug")
    @click.option("--checkpoints-from", "source", default="s3", show_default=True,
                  help="Where the checkpoint copies held outside the database are: s3 (the force's object storage, "
                       "whichever its backend) or a directory of checkpoint JSON files")
    def verify_command(slug: str, source: str) -> None:
        """Recompute the force's tree from its rows and check every checkpoint; exit 1 on any finding."""
        current = settings()
        tenant = forces(platform(current), (slug,))[0]
        if source == "s3":
            external = external_from_storage(store_for(tenant, current.var_dir))
        elif Path(source).is_dir():
            external = external_from_directory(Path(source))
        else:
            raise click.BadParameter("is neither s3 nor a directory", param_hint="--checkpoints-from")
        databases = Databases(current)
        try:
            report = verify(databases, tenant, current.var_dir, external)
        finally:
            databases.dispose()
        for finding in report.findings:
            click.echo(finding, err=True)
        click.echo(f"{slug}: {report.tree_size} sealed row(s), {report.checkpoints} checkpoint(s) in the database, "
                   f"{report.external} outside it, {report.unsealed} row(s) awaiting their seal: "
                   f"{'verified' if report.ok else f'{len(report.findings)} problem(s)'}")
        sys.exit(0 if report.ok else 1)

    @audit.command("public-key")
    @click.option("--tenant", "slug", required=True, help="The force's slug")
    def public_key(slug: str) -> None:
        """Print the force's public checkpoint key (PEM), creating the key pair if it has none."""
        current = settings()
        tenant = forces(platform(current), (slug,))[0]
        click.echo(signing.ensure_signing_key(tenant=tenant, var_dir=current.var_dir).decode(), nl=False)

    return audit
