"""`concord tenants onboard`, `move` and `offboard` (export and import: app/lifecycle/archive.py).

Each is idempotent (a second run finds everything done and changes nothing), resumable (its steps are logged in
`tenant_operation` as they are done; see operations.py), has a dry run that reads only, and refuses clearly
(operations.Refused) when a precondition fails.
"""
from __future__ import annotations

import hashlib
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import create_engine

from app import embedded, migrate
from app.audit import signing
from app.auth import dev_idp
from app.db import Databases
from app.documents import storage as storage_backends
from app.lifecycle import database
from app.lifecycle.operations import (
    Operation,
    Refused,
    Run,
    entry,
    last_done,
    live_entry,
    record_done,
    set_flags,
)
from app.sharing import agreements
from app.tenancy import service as tenancy_service
from app.tenancy.config import Tenant, tenant_id

# ---------------------------------------------------------------------------------------------------- onboard


def _registered(run: Run, tenant: Tenant) -> Any:
    """The force's registry row (None: not registered); Refused when it is registered under another deployment."""
    with run.pool() as conn:
        found: Any = conn.execute("SELECT settings, active FROM tenant WHERE slug = %s", (tenant.slug,)).fetchone()
    if found is not None and found.active and found.settings.get("deployment") != tenant.deployment:
        raise Refused(f"force {tenant.slug} is registered as {found.settings.get('deployment')} but its file says "
                      f"{tenant.deployment}: `concord tenants move {tenant.slug} --to {tenant.deployment}` moves its "
                      "records first")
    return found


def _register(run: Run, tenant: Tenant) -> str:
    found = _registered(run, tenant)
    if found is not None and found.active and found.settings == tenant.settings:
        return ""
    if run.dry_run:
        return "would register the force" if found is None else "would update its registry entry"
    engine = create_engine(database.pool_url(run.settings))
    try:
        with engine.begin() as conn:
            tenancy_service.register(conn, tenant)
    finally:
        engine.dispose()
    return "registered the force" if found is None else "updated its registry entry"


def _database(run: Run, tenant: Tenant) -> str:
    return ensure_database(run=run, slug=tenant.slug) if tenant.dedicated else ""


def ensure_database(*, run: Run, slug: str) -> str:
    """Create (embedded only: elsewhere provisioning creates it) and migrate the force's own database."""
    url = database.owner_url(run.settings, slug, "dedicated")
    what = []
    try:
        with database.connect(url) as conn:
            current = database.revision(conn)
    except psycopg.OperationalError as exc:
        if not run.settings.embedded:
            raise Refused(f"force {slug}: its database {url.database} cannot be reached ({str(exc).strip()}); create "
                          f"it, owned by {url.username}, with CONNECT granted to {run.settings.runtime_role} (your "
                          "platform's provisioning), then run this again") from None
        if run.dry_run:
            return f"would create database {url.database} and migrate it"
        embedded.bootstrap([url.database or ""])
        what.append(f"created database {url.database}")
        current = None
    head = migrate.head()
    if current != head:
        if run.dry_run:
            return f"would migrate database {url.database} from {current or 'nothing'} to {head}"
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                migrate.upgrade_connection(conn, run.settings.runtime_role)
        finally:
            engine.dispose()
        what.append(f"migrated database {url.database} to {head}")
    return "; ".join(what)


def _storage(run: Run, tenant: Tenant) -> str:
    store = storage_backends.for_tenant(tenant, run.settings.var_dir)
    if isinstance(store, storage_backends.FilesystemStorage):
        if store.root.is_dir():
            return ""
        if not run.dry_run:
            store.root.mkdir(parents=True)
        return f"{'would create' if run.dry_run else 'created'} its document folder {store.root}"
    assert isinstance(store, storage_backends.S3Storage)
    from botocore.exceptions import ClientError

    try:
        store.client.head_bucket(Bucket=store.bucket)
        return ""
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    if not tenant.dedicated:
        raise Refused(f"force {tenant.slug}: the pool's bucket {store.bucket} does not exist; a pooled force keeps "
                      "its documents under a prefix of the pool's bucket, which provisioning creates")
    if not run.dry_run:
        region = store.client.meta.region_name
        store.client.create_bucket(Bucket=store.bucket, CreateBucketConfiguration={"LocationConstraint": region})
    return f"{'would create' if run.dry_run else 'created'} its bucket {store.bucket}"


def _identity_keys(run: Run, tenant: Tenant) -> str:
    if not run.settings.dev_idp or not dev_idp.is_dev_issuer(tenant.identity.issuer):
        return ""
    keys = dev_idp.KeyStore(run.settings.var_dir / "dev-idp")
    if (keys.directory / f"{tenant.slug}.jwk.json").exists():
        return ""
    if not run.dry_run:
        keys.key(tenant.slug)
    return f"{'would make' if run.dry_run else 'made'} its development identity key"


def _audit_signing_key(run: Run, tenant: Tenant) -> str:
    if signing.key_store(tenant, run.settings.var_dir).load() is not None:
        return ""
    if not run.dry_run:
        signing.ensure_signing_key(tenant=tenant, var_dir=run.settings.var_dir)
    return f"{'would make' if run.dry_run else 'made'} its audit signing key (its checkpoints' Ed25519 key)"


# The onboarding steps, in order: each makes its part exist and says what it did ("" when it was there already),
# so a run stopped anywhere is finished by the next. The registration comes last: until everything it needs exists,
# no server routes a request to the force (its users are refused as unknown, never sent to a missing database).
ONBOARDING_STEPS: list[Callable[[Run, Tenant], str]] = [_database, _storage, _identity_keys, _audit_signing_key,
                                                        _register]


def onboard(*, run: Run, tenant: Tenant) -> list[str]:
    """Register a force from its file and set up everything it needs; what was done (nothing the second time)."""
    engine = create_engine(database.pool_url(run.settings))
    try:
        with engine.connect() as conn:
            tenancy_service.refuse_tombstoned(conn, [tenant])
    except tenancy_service.Tombstoned as exc:
        raise Refused(str(exc)) from None
    finally:
        engine.dispose()
    _registered(run, tenant)  # refuses before anything is made
    done = []
    for step in ONBOARDING_STEPS:
        what = step(run, tenant)
        if what:
            run.reporter.say(what)
            done.append(what)
    if done and not run.dry_run:
        record_done(run, tenant.slug, "onboard", {"done": done, "deployment": tenant.deployment})
    return done


# ------------------------------------------------------------------------------------------------------- move


@dataclass
class MoveReport:
    """What a move did, or (verified is False) what differed, in which case nothing was switched."""

    slug: str
    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    differences: list[str] = field(default_factory=list)
    # Wall-clock seconds of each phase this run went through: prepare (the target database made or checked, both
    # at the same migration), maintenance, copy, verify, switch, catch_up, remove.
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return not self.differences

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        """Count the time spent inside towards the phase."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started


class VerificationFailed(Refused):
    """The copy did not match its source: nothing was switched, the target's copy was removed."""

    def __init__(self, report: MoveReport):
        super().__init__(f"force {report.slug}: the copy to {report.target} did not verify, so nothing was switched "
                         f"and the copy was removed: " + "; ".join(report.differences))
        self.report = report


def _mirror_agreements(run: Run, tenant: Tenant) -> None:
    """The force's agreements as a provider, and their grants, written into its own database (their home stays the
    pool), so that its records are shared from there exactly as before."""
    databases = Databases(run.settings)
    try:
        mirrored = agreements.repair(databases=databases, tenant=tenant)
    finally:
        databases.dispose()
    run.reporter.say(f"{tenant.slug}'s agreements as a provider mirrored into its dedicated database ({mirrored})")


def move(*, run: Run, slug: str, to: str) -> MoveReport:
    """Move a force's rows and documents to the pooled or its dedicated database, verified before switching."""
    current = live_entry(run, slug)
    force = tenant_id(slug)
    running = _running_row(run, slug, "move")
    if running is not None and running.details["to"] != to:
        raise Refused(f"force {slug}: a move to {running.details['to']} is under way; run "
                      f"`concord tenants move {slug} --to {running.details['to']}` to finish it first")
    if running is not None and run.dry_run:
        run.reporter.say(f"would resume the move of {slug} to {to} (done: {', '.join(running.steps) or 'nothing'})")
        return MoveReport(slug, running.details["from"], to)
    if running is None and current.deployment == to:
        run.reporter.say(f"{slug} is {to} already: nothing to move")
        return MoveReport(slug, to, to)
    source = running.details["from"] if running else current.deployment
    report = MoveReport(slug, source, to)
    tenant = Tenant.from_settings(current.settings)
    target_tenant = Tenant.from_settings({**current.settings, "deployment": to})
    with report.timed("prepare"):
        if to == "dedicated":
            what = ensure_database(run=run, slug=slug)
            if what:
                run.reporter.say(what)
            if what and run.dry_run:
                return report
        source_url = database.owner_url(run.settings, slug, source)
        target_url = database.owner_url(run.settings, slug, to)
        _same_schema(source_url, target_url)
    if run.dry_run:
        with database.connect(source_url, force) as conn:
            tables = database.tenant_tables(conn)
            report.rows = {name: count for name, (count, _) in database.checksums(conn, tables, force).items()}
        run.reporter.say(f"would move {sum(report.rows.values())} row(s) of {slug} from {source} to {to}: "
                         + ", ".join(f"{name} {count}" for name, count in report.rows.items() if count))
        return report
    operation = Operation.begin(run, slug, "move", {"from": source, "to": to})
    if not operation.done("maintenance"):
        with report.timed("maintenance"):
            set_flags(run, slug, maintenance=True)
            run.reporter.say(f"{slug} is in maintenance: its writes answer 503, its reads go on")
            run.settle("the maintenance state")
        operation.mark("maintenance")
    source_store = storage_backends.for_tenant(tenant, run.settings.var_dir)
    target_store = storage_backends.for_tenant(target_tenant, run.settings.var_dir)
    if not operation.done("copied"):
        _copy_and_verify(run, operation, report, source_url, target_url, source_store, target_store)
    if to == "dedicated" and not operation.done("agreements_mirrored"):
        with report.timed("switch"):
            _mirror_agreements(run, target_tenant)  # before the switch: its consumers' next read finds the grants
        operation.mark("agreements_mirrored")
    if not operation.done("switched"):
        with report.timed("switch"):
            with run.pool() as conn:
                conn.execute("UPDATE tenant SET deployment = %s, settings = jsonb_set(settings, '{deployment}', "
                             "to_jsonb(%s::text)), updated_at = now() WHERE slug = %s", (to, to, slug))
            run.reporter.say(f"{slug}'s registry entry now names its {to} database")
            run.settle("the switch")
        operation.mark("switched")
    with database.connect(source_url, force) as src, database.connect(target_url, force) as dst:
        tables = database.tenant_tables(src)
        if not operation.done("caught_up"):
            with report.timed("catch_up"):
                caught = _catch_up(src, dst, tables, force, operation.details.get("checksums", {}))
            if caught:
                run.reporter.say(f"added {sum(caught.values())} row(s) the source gained during the move (reads are "
                                 "audited): " + ", ".join(f"{name} {count}" for name, count in caught.items()))
            operation.mark("caught_up", caught_up=caught)
        # The target holds everything now and is served: writes go on there while the source is emptied.
        set_flags(run, slug, maintenance=False)
        if not operation.done("source_removed"):
            with report.timed("remove"):
                with run.reporter.progress(f"removing {slug}'s rows from the {source} database", len(tables),
                                           "tables") as bar:
                    database.remove_rows(src, tables, force, lambda table, count: bar(1))
                if source == "dedicated":
                    database.remove_agreement_mirrors(src, force)
                if _where(source_store) != _where(target_store):
                    for key in operation.details.get("object_keys", []):
                        source_store.delete(key)
            operation.mark("source_removed")
    operation.finish("done", rows=report.rows or operation.details.get("rows", {}),
                     seconds={phase: round(value, 3) for phase, value in report.seconds.items()})
    report.rows = report.rows or operation.details.get("rows", {})
    report.objects = len(operation.details.get("object_keys", []))
    run.reporter.say(f"{slug} moved to {to}: {sum(report.rows.values())} row(s), {report.objects} document object(s) "
                     f"({', '.join(f'{phase} {value:.1f} s' for phase, value in report.seconds.items())}); set "
                     f"deployment = \"{to}\" in its file in tenants/ so that `apply` agrees")
    return report


def _running_row(run: Run, slug: str, kind: str) -> Any:
    """The force's unfinished operation of this kind, as logged (None: none)."""
    with run.pool() as conn:
        return conn.execute("SELECT * FROM tenant_operation WHERE slug = %s AND operation = %s AND status = 'running'",
                            (slug, kind)).fetchone()


def _same_schema(*urls: Any) -> None:
    revisions = set()
    for url in urls:
        with database.connect(url) as conn:
            revisions.add(database.revision(conn))
    if len(revisions) != 1 or migrate.head() not in revisions:
        raise Refused(f"the databases are at different migrations ({', '.join(map(str, revisions))}; head is "
                      f"{migrate.head()}): run `concord db upgrade` first")


def _copy_and_verify(run: Run, operation: Operation, report: MoveReport, source_url: Any, target_url: Any,
                     source_store: storage_backends.Storage, target_store: storage_backends.Storage) -> None:
    """Copy every row from one snapshot by COPY, parents first, then compare both sides; on a difference remove
    the copy, end the maintenance and raise VerificationFailed."""
    force = tenant_id(report.slug)
    with database.connect(source_url, force) as src, database.connect(target_url, force) as dst:
        tables = database.tenant_tables(src)
        with report.timed("copy"):
            database.remove_rows(dst, tables, force)  # what an interrupted attempt left
        with src.transaction():
            src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            with report.timed("verify"):
                expected = database.checksums(src, tables, force)
            with report.timed("copy"):
                for table in tables:
                    with run.reporter.progress(f"copying {table.name}", expected[table.name][0]) as bar:
                        def copy(t: database.TenantTable = table, b: Callable[[int], None] = bar) -> None:
                            _copy_table(src, dst, t, force, b)

                        database.bypassing(dst, table.name, copy)
                documents = src.execute(sql.SQL("SELECT storage_key, sha256, media_type FROM document "
                                                "WHERE tenant_id = {}").format(sql.Literal(str(force)))).fetchall()
        report.rows = {name: count for name, (count, _) in expected.items()}
        keys = sorted({key for key, _, _ in documents})
        if _where(source_store) != _where(target_store):
            with report.timed("copy"), run.reporter.progress("copying document objects", len(documents),
                                                             "objects") as bar:
                for key, _, media_type in documents:
                    if not target_store.exists(key):
                        target_store.put(key, source_store.get(key), media_type)
                    bar(1)
        with report.timed("verify"):
            found = database.checksums(dst, tables, force)
            for name, want in expected.items():
                if found[name] != want:
                    report.differences.append(f"{name}: {want[0]} row(s) with checksum {want[1]} in the source, "
                                              f"{found[name][0]} with checksum {found[name][1]} in the copy")
            for key, sha256, _ in documents:
                problem = _object_problem(target_store, key, sha256)
                if problem:
                    report.differences.append(f"document object {key}: {problem}")
        if report.differences:
            database.remove_rows(dst, tables, force)
            set_flags(run, report.slug, maintenance=False)
            operation.finish("failed", differences=report.differences)
            raise VerificationFailed(report)
    operation.mark("copied", rows=report.rows, checksums=expected, object_keys=keys)
    run.reporter.say(f"copied and verified {sum(report.rows.values())} row(s) in {len(tables)} table(s) and "
                     f"{len(keys)} document object(s)")


def _copy_table(src: psycopg.Connection, dst: psycopg.Connection, table: database.TenantTable, force: uuid.UUID,
                bar: Callable[[int], None]) -> None:
    out_sql = sql.SQL("COPY ({}) TO STDOUT").format(table.select(force))
    in_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), table.column_list)
    with src.cursor().copy(out_sql) as out, dst.cursor().copy(in_sql) as into:
        for chunk in out:
            into.write(chunk)
            bar(bytes(chunk).count(b"\n"))  # text format: one line a row (a newline in a value is written \n)


def _catch_up(src: psycopg.Connection, dst: psycopg.Connection, tables: list[database.TenantTable],
              force: uuid.UUID, copied: dict[str, list[Any]]) -> dict[str, int]:
    """Rows the source gained after the snapshot whose checksums were `copied` (reads go on in maintenance, and each
    is audited where the force is served: the source until the switch, the target after it), added to the target;
    the rows copied are left as they are. A table is compared with the snapshot, not with the target, which has
    rows of its own since the switch."""
    now = database.checksums(src, tables, force)
    caught = {}
    for table in tables:
        if now[table.name] == copied.get(table.name):
            continue
        staging = sql.Identifier(f"catch_up_{table.name}")

        def work(t: database.TenantTable = table, staging: sql.Identifier = staging) -> int:
            dst.execute(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                staging, t.column_list, sql.Identifier(t.name)))  # the carried columns only, without constraints
            with src.cursor().copy(sql.SQL("COPY ({}) TO STDOUT").format(t.select(force))) as out, \
                    dst.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(staging, t.column_list)) as into:
                for chunk in out:
                    into.write(chunk)
            return dst.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
                sql.Identifier(t.name), t.column_list, t.column_list, staging)).rowcount

        added = database.bypassing(dst, table.name, work)
        if added:
            caught[table.name] = added
    return caught


def _object_problem(store: storage_backends.Storage, key: str, sha256: str) -> str:
    if not store.exists(key):
        return "missing"
    found = hashlib.sha256(store.get(key)).hexdigest()
    return "" if found == sha256 else f"SHA-256 {found}, expected {sha256}"


def _where(store: storage_backends.Storage) -> tuple[str, ...]:
    if isinstance(store, storage_backends.S3Storage):
        return ("s3", store.bucket, store.prefix)
    assert isinstance(store, storage_backends.FilesystemStorage)
    return ("filesystem", str(store.root.resolve()))


# --------------------------------------------------------------------------------------------------- offboard

KEY_DELETION_WINDOW_DAYS = 30


@dataclass
class OffboardReport:
    """What an offboarding removed."""

    slug: str
    rows: dict[str, int] = field(default_factory=dict)
    objects: int = 0
    key_scheduled: str = ""
    dropped: list[str] = field(default_factory=list)  # its dedicated database, its storage


def offboard(*, run: Run, slug: str, shred_key: bool | None = None) -> OffboardReport:
    """Remove every row and object of a force after a verified export, shred its key (production) and leave a
    tombstone; `shred_key` None: in production only."""
    found = entry(run, slug)
    if found is not None and found.offboarded_at is not None:
        run.reporter.say(f"{slug} was offboarded on {found.offboarded_at:%Y-%m-%d %H:%M} UTC: nothing to do")
        return OffboardReport(slug)
    current = live_entry(run, slug)
    export = last_done(run, slug, "export")
    if export is None or not export.details.get("verified"):
        raise Refused(f"force {slug} has no verified export: run `concord tenants export {slug} --to ...` first "
                      "(offboarding removes every record for good)")
    tenant = Tenant.from_settings(current.settings)
    force = tenant.id
    url = database.owner_url(run.settings, slug, current.deployment)
    store = storage_backends.for_tenant(tenant, run.settings.var_dir)
    report = OffboardReport(slug)
    running = _running_row(run, slug, "offboard")
    if run.dry_run and running is not None:
        run.reporter.say(f"would resume the offboarding of {slug} (done: {', '.join(running.steps) or 'nothing'})")
        return report
    if run.dry_run:
        with database.connect(url, force) as conn:
            counts = database.checksums(conn, database.tenant_tables(conn), force)
        report.rows = {name: count for name, (count, _) in counts.items() if count}
        report.objects = sum(1 for _ in store.objects())
        run.reporter.say(f"would remove {sum(report.rows.values())} row(s) and {report.objects} object(s) of {slug} "
                         f"(exported to {export.details['location']} at {export.finished_at:%Y-%m-%d %H:%M} UTC)"
                         + (_drop_plan(run, slug) if tenant.dedicated else ""))
        return report
    operation = Operation.begin(run, slug, "offboard", {"export": str(export.id)})
    if not operation.done("deactivated"):
        set_flags(run, slug, active=False)
        run.settle("that the force is gone")
        operation.mark("deactivated")
    if not operation.done("rows_removed"):
        with database.connect(url, force) as conn:
            tables = database.tenant_tables(conn)
            if not operation.done("unchanged_since_export"):  # checked once: a removal stopped half-way differs
                now = database.checksums(conn, tables, force)
                changed = [name for name, value in now.items()
                           if value != export.details["checksums"].get(name, [0, "0"])]
                if changed:
                    operation.finish("failed", changed=changed)
                    raise Refused(f"force {slug} changed after its export (in {', '.join(changed)}): it is inactive "
                                  f"now, so run `concord tenants export {slug} --to ...` again, then offboard")
                operation.mark("unchanged_since_export",  # what there is to remove, counted before any is
                               rows={name: count for name, (count, _) in now.items() if count},
                               objects=sum(1 for _ in store.objects()))
            with run.reporter.progress(f"removing {slug}'s rows", len(tables), "tables") as bar:
                database.remove_rows(conn, tables, force, lambda table, count: bar(1))
        operation.mark("rows_removed")
    if not operation.done("objects_removed"):
        keys = [item.key for item in store.objects()]
        with run.reporter.progress(f"removing {slug}'s document objects", len(keys), "objects") as bar:
            for key in keys:
                store.delete(key)  # older versions kept by a versioned bucket are unreadable once its key is deleted
                bar(1)
        keys_file = run.settings.var_dir / "dev-idp" / f"{slug}.jwk.json"
        keys_file.unlink(missing_ok=True)
        operation.mark("objects_removed")
    if tenant.dedicated and not operation.done("database_dropped"):
        operation.mark("database_dropped", database=_drop_database(run, slug))
    if not operation.done("storage_dropped"):
        operation.mark("storage_dropped", storage=_drop_storage(run, tenant, store))
    if shred_key is None:
        shred_key = run.settings.environment == "production"
    if shred_key and not operation.done("key_scheduled"):
        operation.mark("key_scheduled", key=_schedule_key_deletion(tenant))
    with run.pool() as conn:
        conn.execute("UPDATE tenant SET active = false, maintenance = false, offboarded_at = now(), "
                     "updated_at = now() WHERE slug = %s", (slug,))
    operation.finish("done")
    report.rows = operation.details.get("rows", {})
    report.objects = operation.details.get("objects", 0)
    report.key_scheduled = operation.details.get("key", "")
    report.dropped = [what for what in (operation.details.get("database"), operation.details.get("storage")) if what]
    run.reporter.say(f"{slug} offboarded: {sum(report.rows.values())} row(s) and {report.objects} object(s) removed"
                     + "".join(f"; {what}" for what in report.dropped)
                     + (f"; its key {report.key_scheduled} is scheduled for deletion" if report.key_scheduled else "")
                     + "; its tombstone keeps the slug and issuer from being reused")
    return report


def _drop_database(run: Run, slug: str) -> str:
    """Drop a dedicated force's database, emptied, ending the sessions left on it; what was dropped ("" when it was
    gone already).

    Servers let go of its connections when they next read the registry (app/db.py `release_departed`); a server
    that has served no request since the force was deactivated still holds its idle ones. No server routes to the
    force now and CONNECT is revoked first, so ending them (`WITH (FORCE)`, PostgreSQL 13 or later) loses nothing.
    The owner may end only the sessions of roles whose privileges it has, or all with pg_signal_backend (an RDS
    master user has it through rds_superuser); otherwise this refuses, saying so, and a run once the servers have
    read the registry again finishes.
    """
    url = database.owner_url(run.settings, slug, "dedicated")
    name = url.database or ""
    if run.settings.embedded:  # the embedded server's superuser, which created it, ends its sessions and drops it
        embedded.drop_database(name)
        return f"dropped its database {name}"
    with database.connect(url.set(database="postgres")) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            return ""
        conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC, {}").format(
            sql.Identifier(name), sql.Identifier(run.settings.runtime_role)))  # no new session while it is dropped
        try:
            _drop_ending_sessions(conn, name)
        except (psycopg.errors.ObjectInUse, psycopg.errors.InsufficientPrivilege) as exc:
            sessions = _sessions(conn, name)
            raise Refused(f"force {slug}: its rows and objects are removed, but its database {name} is still in use "
                          f"by {sessions.open} session(s), {sessions.kept} of which {url.username} may not end "
                          f"({exc.diag.message_primary or exc}); a server lets go of its own on its first request once "
                          "CONCORD_REGISTRY_TTL has passed since the force left, so run `concord tenants offboard "
                          f"{slug}` again once the servers have served a request each, or grant pg_signal_backend to "
                          f"{url.username} (then offboarding ends them), or end them as an administrator") from None
    return f"dropped its database {name}"


def _drop_ending_sessions(conn: psycopg.Connection, name: str) -> None:
    """DROP DATABASE … WITH (FORCE); and if that is refused, a plain DROP DATABASE, which has autovacuum's workers
    stop (the rows just removed bring them) and waits for them: FORCE may not end them, since no role owns them."""
    try:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    except (psycopg.errors.ObjectInUse, psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))


@dataclass(frozen=True)
class OpenSessions:
    """The clients' sessions on a database other than the asking one (not autovacuum's workers, which DROP
    DATABASE stops itself), and how many of them its role may not end."""

    open: int
    kept: int


def _sessions(conn: psycopg.Connection, name: str) -> OpenSessions:
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT (pg_has_role(usesysid, 'USAGE') "
        "OR pg_has_role('pg_signal_backend', 'USAGE'))) FROM pg_stat_activity WHERE datname = %s "
        "AND pid <> pg_backend_pid() AND usesysid IS NOT NULL", (name,)).fetchone()  # no role: a worker
    assert row is not None
    return OpenSessions(*row)


def _drop_plan(run: Run, slug: str) -> str:
    """What dropping the force's database would do, as the dry run says it."""
    url = database.owner_url(run.settings, slug, "dedicated")
    if run.settings.embedded:
        return f", then drop its database {url.database} (ending any session left on it)"
    with database.connect(url.set(database="postgres")) as conn:
        sessions = _sessions(conn, url.database or "")
    if not sessions.open:
        return f", then drop its database {url.database} (no session on it now)"
    plan = (f", then drop its database {url.database} ({sessions.open} session(s) on it now: servers let go of theirs "
            "once the force is inactive and they read the registry again, and the drop ends any left")
    if sessions.kept:
        plan += (f", except the {sessions.kept} {url.username} may not end, which would make it stop before the "
                 "drop and say so")
    return plan + ")"


def _drop_storage(run: Run, tenant: Tenant, store: storage_backends.Storage) -> str:
    """Remove the force's own storage, emptied: its document folder, or the bucket a dedicated force has to itself
    (a pooled force's prefix in the pool's bucket is gone with its objects); what was removed ("" when nothing)."""
    if isinstance(store, storage_backends.FilesystemStorage):
        if not store.root.exists():
            return ""
        shutil.rmtree(store.root)
        return f"removed its document folder {store.root}"
    assert isinstance(store, storage_backends.S3Storage)
    if not tenant.dedicated or store.prefix:
        return ""
    from botocore.exceptions import ClientError

    try:
        store.client.delete_bucket(Bucket=store.bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "BucketNotEmpty":
            return (f"kept its bucket {store.bucket}: older versions of its objects are retained (versioning, Object "
                    "Lock) until their retention ends, unreadable once its key is deleted")
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
        return ""
    return f"deleted its bucket {store.bucket}"


def _schedule_key_deletion(tenant: Tenant) -> str:
    """Schedule deletion of the force's KMS key (its stored objects become unreadable for good); idempotent."""
    config = tenant.settings.get("storage") or {}
    key_id = config.get("kms_key_id")
    if not key_id:
        raise Refused(f"force {tenant.slug} names no KMS key ([storage] kms_key_id): nothing to shred; its objects "
                      "were removed")
    import boto3

    kms = boto3.client("kms", endpoint_url=config.get("endpoint_url"), region_name=config.get("region", "eu-west-2"))
    state = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
    if state != "PendingDeletion":
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=KEY_DELETION_WINDOW_DAYS)
    return key_id
