"""The `concord` command: operations on databases, tenants, tokens, demo data and the server."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import OperationalError

from app import commands, embedded, migrate, observability, provision
from app.config import ConfigError, Settings
from app.lifecycle import cli as lifecycle_cli
from app.retention import cli as retention_cli
from app.tenancy import config as tenancy_config
from app.tenancy import service as tenancy_service


def _create_app():
    from app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """Concord operations."""


def main() -> None:
    try:
        observability.configure_logging(Settings.from_env())
        cli.main(prog_name="concord")
    except (ConfigError, tenancy_config.ConfigFileError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


cli.add_command(retention_cli.retention)


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to every database: the pool and each dedicated force's."""
    settings = commands.settings()
    for name in migrate.upgrade(settings, commands.platform(settings)):
        click.echo(f"{name}: at head ({migrate.head()})")


@db.command("check")
def db_check() -> None:
    """Report any database not at the migration head (exit 1 if one is behind)."""
    settings = commands.settings()
    urls = migrate.runtime_urls(settings, commands.platform(settings))
    engines = {name: create_engine(url) for name, url in urls.items()}
    behind = 0
    for status in migrate.status(engines):
        state = "at head" if status.at_head else f"at {status.current}, head is {status.head}"
        behind += not status.at_head
        click.echo(f"{status.name}: {state}")
    sys.exit(1 if behind else 0)


@cli.group()
def tenants() -> None:
    """Tenant (force) configuration from tenants/."""


def _owner_pool_engine(settings: Settings):
    return create_engine(settings.owner_url(settings.runtime_url()))


def _run_tenants(
    settings: Settings, platform: tenancy_config.PlatformConfig, apply: bool, allow_dangerous: bool = False
) -> list[tenancy_service.Change]:
    """Plan (a read-only transaction, rolled back) or apply (one transaction) the tenant config, as the owner role."""
    engine = _owner_pool_engine(settings)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            holdings = _holdings(settings, conn)
            if not apply:
                conn.execute(text("SET TRANSACTION READ ONLY"))
                changes = tenancy_service.plan(conn, platform, holdings)
                transaction.rollback()
                return changes
            try:
                changes = tenancy_service.apply(conn, platform, allow_dangerous=allow_dangerous, holdings=holdings)
            except (tenancy_service.DangerousChanges, tenancy_service.Tombstoned) as exc:
                raise click.ClickException(str(exc)) from None
        observability.event("tenants.applied", changes=len(changes), forces=sorted({c.slug for c in changes}),
                            dangerous=sum(1 for c in changes if c.danger))  # committed
        return changes
    finally:
        engine.dispose()


def _holdings(settings: Settings, pool: Connection) -> tenancy_service.Holdings:
    """A force's records by table: in the pooled database, or in its own for a dedicated force (None: unreachable)."""

    def held(slug: str, stored: dict) -> dict[str, int] | None:
        force = tenancy_config.tenant_id(slug)
        if stored.get("deployment") != "dedicated":
            return tenancy_service.records_held(pool, force)
        engine = create_engine(settings.owner_url(settings.dedicated_url(slug), database=slug))
        try:
            with engine.connect() as conn, conn.begin():
                conn.execute(text("SET TRANSACTION READ ONLY"))
                return tenancy_service.records_held(conn, force)
        except OperationalError:
            return None
        finally:
            engine.dispose()

    return held


def _echo_changes(changes: list[tenancy_service.Change], done: str) -> None:
    for change in changes:
        click.echo(str(change))
    click.echo(f"{done}{len(changes)} change(s)" if changes else "no changes")


@tenants.command("plan", with_appcontext=False)  # no app: creating one creates databases
def tenants_plan() -> None:
    """Print what `apply` would change, warning of dangerous changes; reads only and creates nothing."""
    settings = Settings.from_env()
    platform = commands.platform(settings)
    existing = provision.existing_database_settings(settings)
    if existing is None:
        click.echo("nothing applied yet (no pooled database): apply creates it and adds every force")
        changes = tenancy_service.plan(None, platform)
    else:
        changes = _run_tenants(existing, platform, apply=False)
    _echo_changes(changes, "")
    dangerous = [change for change in changes if change.danger]
    for change in dangerous:
        click.echo(f"DANGER: {change.entity} {change.slug} {change.danger}", err=True)
    if dangerous:
        click.echo(f"{len(dangerous)} dangerous change(s): apply refuses them without --allow-dangerous", err=True)


@tenants.command("apply", with_appcontext=False)
@click.option("--allow-dangerous", is_flag=True,
              help="Apply even a change that strands a force's records (a move between pooled and dedicated, or a "
                   "removal while it holds records); `plan` lists them")
def tenants_apply(allow_dangerous: bool) -> None:
    """Make the registry match the files, in one transaction; dangerous changes only with --allow-dangerous."""
    settings = commands.settings()
    _echo_changes(_run_tenants(settings, commands.platform(settings), apply=True, allow_dangerous=allow_dangerous),
                  "applied ")


lifecycle_cli.register(tenants)  # onboard, move, export, import-archive, offboard (app/lifecycle/cli.py)


@cli.command("token")
@click.option("--tenant", "slug", required=True, help="The force's slug, e.g. northshire")
@click.option("--user", required=True, help="The user id to put in the token, e.g. pc-101")
@click.option("--role", "roles", multiple=True, required=True, help="A Concord role (repeat for more)")
@click.option("--lifetime", default=3600, show_default=True, help="Seconds until the token expires")
def token(slug: str, user: str, roles: tuple[str, ...], lifetime: int) -> None:
    """Print an access token from the development identity provider."""
    from app.auth import dev_idp

    settings = Settings.from_env()
    if not settings.dev_idp:
        raise click.ClickException("the development identity provider is off (CONCORD_ENV=production)")
    if lifetime > settings.max_token_lifetime_seconds:
        raise click.ClickException(f"the API refuses tokens meant to live over {settings.max_token_lifetime_seconds} s "
                                   "(CONCORD_MAX_TOKEN_LIFETIME)")
    tenant = commands.forces(commands.platform(settings), [slug])[0]
    if not dev_idp.is_dev_issuer(tenant.identity.issuer):
        raise click.ClickException(f"{slug} uses an external identity provider ({tenant.identity.issuer})")
    try:
        value = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), tenant, user, list(roles),
                                    lifetime=lifetime)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(value)


@cli.group()
def demo() -> None:
    """Demo data."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo people (once: a second load adds nothing)."""
    from app import create_app
    from app import demo as demo_data

    created = demo_data.load(create_app(commands.settings()))
    click.echo(f"demo data: {created} record(s) created")


@cli.group()
def people() -> None:
    """People records."""


@people.command("rekey")
@click.option("--tenant", "slugs", multiple=True, help="A force's slug (repeat for more); every force if none")
def people_rekey(slugs: tuple[str, ...]) -> None:
    """Rebuild every person's search keys (after a change to the matching rules or the forename equivalents)."""
    from app.db import Databases
    from app.people.rekey import rekey

    settings = commands.settings()
    tenants = commands.forces(commands.platform(settings), slugs)
    databases = Databases(settings)
    try:
        for tenant in tenants:
            count = rekey(databases, tenant)
            click.echo(f"{tenant.slug}: search keys rebuilt for {count} people")
    finally:
        databases.dispose()


@cli.group()
def documents() -> None:
    """Documents in object storage."""


@documents.command("sweep")
@click.option("--older-than", "hours", default=24, show_default=True, help="Hours an unreferenced object is kept")
@click.option("--tenant", "slugs", multiple=True, help="A force's slug (repeat for more); every force if none")
def documents_sweep(hours: int, slugs: tuple[str, ...]) -> None:
    """Remove stored objects no document references (an upload whose row never committed)."""
    from datetime import timedelta

    from app.db import Databases
    from app.documents import service as documents_service
    from app.documents import storage

    settings = commands.settings()
    tenants = commands.forces(commands.platform(settings), slugs)
    databases = Databases(settings)
    try:
        for tenant in tenants:
            removed = documents_service.sweep(databases, tenant, storage.for_tenant(tenant, settings.var_dir),
                                              timedelta(hours=hours))
            click.echo(f"{tenant.slug}: {len(removed)} unreferenced object(s) removed")
    finally:
        databases.dispose()


@cli.command("import")
@click.argument("kind", type=click.Choice(["people", "objects", "locations"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", "slug", required=True, help="The force whose records these are, e.g. northshire")
@click.option("--user", default="legacy-import", show_default=True, help="Recorded as the records' creator")
@click.option("--dry-run", is_flag=True, help="Validate and report; load nothing")
def import_records(kind: str, path: Path, slug: str, user: str, dry_run: bool) -> None:
    """Load a legacy system's CSV export of people, objects or locations into one force.

    Bad rows are listed with their line numbers and reasons and not loaded; the rest load in one
    transaction. Re-running the same file loads nothing twice. Columns: see docs/import.md.
    """
    from app.db import Databases
    from app.pole import import_service

    settings = commands.settings()
    tenant = commands.forces(commands.platform(settings), [slug])[0]
    total = sum(1 for _ in path.open(encoding="utf-8-sig")) - 1
    with click.progressbar(length=max(total, 0), label=f"{kind} -> {slug}", file=sys.stderr) as bar:
        databases = Databases(settings)
        try:
            report = import_service.import_file(databases, tenant, kind, path, user, dry_run,
                                                bar.update)
        finally:
            databases.dispose()
    for line, reason in report.bad[:200]:
        click.echo(f"line {line}: {reason}", err=True)
    if len(report.bad) > 200:
        click.echo(f"... and {len(report.bad) - 200} more bad rows", err=True)
    loaded = "would load" if report.dry_run else "loaded"
    click.echo(f"{report.rows} rows: {report.inserted} {loaded}, {report.already_present} already present, "
               f"{len(report.bad)} bad (not loaded){' [dry run: nothing written]' if report.dry_run else ''}; "
               f"{report.seconds:.1f} s, {report.rate:,.0f} rows/s"
               f"{'; search keys indexed in one pass (the force had none)' if report.keys_in_bulk else ''}")
    sys.exit(1 if report.bad else 0)


def _audit_group() -> click.Group:
    from app.audit import cli as audit_cli
    from app.documents import storage

    return audit_cli.group(commands.settings, commands.platform, storage.for_tenant)


cli.add_command(_audit_group())


@cli.command("serve")
@click.option("--setup/--no-setup", default=False, help="Migrate, apply tenants and load demo data first")
@click.option("--port", envvar="PORT", default=5000, show_default=True)
@click.option("--host", envvar="CONCORD_BIND_HOST", default="127.0.0.1", show_default=True)
@click.option("--workers", envvar="WEB_CONCURRENCY", default=2, show_default=True)
def serve(setup: bool, port: int, host: str, workers: int) -> None:
    """Serve the API with gunicorn's gevent workers (starting the embedded PostgreSQL when no DATABASE_URL is set)."""
    settings = commands.settings()
    if setup:
        _setup(settings)
    click.echo(
        f"\nConcord on http://{host}:{port}  (API reference: http://{host}:{port}/docs)\n"
        "Get a token:\n"
        "  TOKEN=$(.venv/bin/concord token --tenant northshire --user pc-101 --role investigator)\n"
        f"  curl -H \"Authorization: Bearer $TOKEN\" http://{host}:{port}/api/v1/me\n"
        "Ctrl-C stops the server and the embedded database.\n"
    )
    child = subprocess.Popen(gunicorn_command(host, port, workers), env=os.environ.copy())
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    watchdog = embedded.watch()  # restarts the embedded server if it dies (None with DATABASE_URL)
    sealer = _sealer(settings)
    try:
        code = child.wait()
    except KeyboardInterrupt:  # from a terminal gunicorn got SIGINT too; from `kill -INT` only we did
        child.send_signal(signal.SIGINT)
        code = child.wait()
    finally:
        sealer.stop()
        if watchdog is not None:
            watchdog.stop()  # first, or it would restart the server being stopped
        embedded.stop()  # a no-op unless this process started the embedded server
    sys.exit(code if code and code > 0 else 0)


def _sealer(settings: Settings):
    """The audit sealer, a thread of this supervisor (not of the workers): every force's trail every 5 s."""
    from app.audit.seal import Sealer
    from app.db import Databases
    from app.documents import storage
    from app.tenancy.registry import Registry

    databases = Databases(settings)
    registry = Registry(lambda: databases.pool, settings.registry_ttl_seconds)
    sealer = Sealer(databases, registry.tenants, settings.var_dir, storage.for_tenant)
    sealer.start()
    return sealer


GUNICORN_CONFIG = Path(__file__).with_name("gunicorn_config.py")


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    """The command that serves Concord: gunicorn with its gevent workers and timeouts (app/gunicorn_config.py)."""
    return [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), "--bind", f"{host}:{port}",
            "--workers", str(workers), "app.wsgi:app"]


def _setup(settings: Settings) -> None:
    from app import create_app
    from app import demo as demo_data

    platform = commands.platform(settings)
    for name in migrate.upgrade(settings, platform):
        click.echo(f"migrated {name}")
    click.echo(f"tenants: {len(_run_tenants(settings, platform, apply=True))} change(s) applied")
    click.echo(f"demo data: {demo_data.load(create_app(settings))} record(s) created")


from app.sharing.cli import sharing  # noqa: E402  (each domain's commands live in its own package)

cli.add_command(sharing)
