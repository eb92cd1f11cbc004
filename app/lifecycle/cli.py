"""`concord tenants onboard | move | export | import-archive | offboard`: a force's life, one verified command each."""
from __future__ import annotations

import getpass
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from app import commands
from app.lifecycle import archive, service
from app.lifecycle.operations import Refused, Reporter, Run
from app.tenancy import config as tenancy_config


class ClickReporter(Reporter):
    """Lines on stdout. Progress on stderr: on a terminal a bar of units done / total as they are done, then (on a
    terminal or not) one line of what was done, counted as it was done: `copying person: 1200/1200 rows (0.8 s)`."""

    def say(self, message: str) -> None:
        click.echo(message)

    @contextmanager
    def progress(self, label: str, total: int, unit: str = "rows") -> Iterator[Callable[[int], None]]:
        done = 0
        started = time.perf_counter()
        live = sys.stderr.isatty() and total > 0
        with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True,
                               hidden=not live) as bar:
            def advance(units: int) -> None:
                nonlocal done
                done += units
                bar.update(units)

            yield advance
        click.echo(f"{label}: {done}/{total} {unit} ({time.perf_counter() - started:.1f} s)", err=True)


def _run(dry_run: bool, settle: float | None) -> Run:
    return Run(commands.settings(), operator=f"{getpass.getuser()} (concord CLI)", dry_run=dry_run,
               reporter=ClickReporter(), settle_seconds=settle)


def _refusing(work: Callable[[], Any]) -> Any:
    try:
        return work()
    except Refused as exc:
        raise click.ClickException(str(exc)) from None


DRY_RUN = click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing")
SETTLE = click.option("--settle-seconds", "settle", type=float, default=None,
                      help="Seconds every server takes to see a registry change (default: CONCORD_REGISTRY_TTL)")


@click.command("onboard")
@click.argument("slug")
@DRY_RUN
def onboard(slug: str, dry_run: bool) -> None:
    """Register a force from tenants/SLUG.toml, create and migrate its database (dedicated), its storage and its
    development identity key; a second run changes nothing."""
    run = _run(dry_run, 0)
    platform = tenancy_config.load(run.settings.tenants_dir, production=run.settings.environment == "production")
    if slug not in platform.tenants:
        raise click.ClickException(f"no file for force {slug!r} in {run.settings.tenants_dir}")
    done = _refusing(lambda: service.onboard(run=run, tenant=platform.tenants[slug]))
    click.echo(f"{slug}: {'nothing to do (onboarded already)' if not done else f'{len(done)} step(s) done'}")


@click.command("move")
@click.argument("slug")
@click.option("--to", "to", required=True, type=click.Choice(["dedicated", "pooled"]))
@DRY_RUN
@SETTLE
def move(slug: str, to: str, dry_run: bool, settle: float | None) -> None:
    """Move a force's records between the pooled database and its own: writes paused (503), every row copied from
    one snapshot, counts, checksums and documents verified, then the switch; rerun to resume after a crash."""
    run = _run(dry_run, settle)
    report = _refusing(lambda: service.move(run=run, slug=slug, to=to))
    if not dry_run and report.source != report.target:
        rows, copy = sum(report.rows.values()), report.seconds.get("copy", 0.0)
        click.echo(f"{slug}: {len(report.rows)} table(s) verified, switched to {to}; "
                   + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in report.seconds.items())
                   + (f"; {rows / copy:,.0f} rows/s copied" if copy else ""))


@click.command("export")
@click.argument("slug")
@click.option("--to", "to", required=True, help="A new directory, or s3://bucket/prefix")
@DRY_RUN
def export(slug: str, to: str, dry_run: bool) -> None:
    """Write everything the force holds as a verified archive (docs/tenant-export.md)."""
    run = _run(dry_run, 0)
    _refusing(lambda: archive.export(run=run, slug=slug, to=to))


@click.command("import-archive")
@click.argument("slug")
@click.option("--from", "source", required=True, help="An archive's directory, or s3://bucket/prefix")
@DRY_RUN
def import_archive(slug: str, source: str, dry_run: bool) -> None:
    """Load an export back into its force, which must hold no records."""
    run = _run(dry_run, 0)
    _refusing(lambda: archive.import_archive(run=run, slug=slug, source=source))


@click.command("offboard")
@click.argument("slug")
@DRY_RUN
@SETTLE
def offboard(slug: str, dry_run: bool, settle: float | None) -> None:
    """After a verified export: remove every row and object of the force, schedule deletion of its KMS key
    (production), and keep a tombstone so its slug and issuer are not reused."""
    run = _run(dry_run, settle)
    _refusing(lambda: service.offboard(run=run, slug=slug))


def register(group: click.Group) -> None:
    """Add the lifecycle commands to `concord tenants`."""
    for command in (onboard, move, export, import_archive, offboard):
        group.add_command(command)
