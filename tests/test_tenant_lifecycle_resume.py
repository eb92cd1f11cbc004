"""Lifecycle commands stopped after every step they log (and part-way through their long steps), then run again:
each finishes from where it stopped, nothing is lost or duplicated, the source answers until the switch. A copy
that does not verify switches nothing and says what differed; a second run changes nothing; offboarding a dedicated
force drops its database and its storage; the CLI's progress counts the rows as they are copied.

A crash is an exception raised from one of our own functions (Operation.mark once a step is logged, or a step's
work part-way through), leaving what a process killed there would leave: the database is never mocked. These
tests commit, on forces of their own, and offboard them at the end."""
from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import psycopg
import pytest

from app import embedded, migrate
from app.documents import storage as storage_backends
from app.lifecycle import archive, database, service
from app.lifecycle.cli import ClickReporter
from app.lifecycle.operations import Operation, Refused, Run, entry
from app.tenancy import config as tenancy_config
from tests.conftest import POOL_DB, superuser_url
from tests.factories import attach, every_record
from tests.sharing.test_agreements import share
from tests.test_tenant_lifecycle import force_file, moto, reads, rows_in  # noqa: F401  (moto: the fixture)

pytestmark = pytest.mark.committing


class Crash(Exception):
    """The command's process dying at this point."""


Install = Callable[[pytest.MonkeyPatch], str]


def after_step(step: str) -> Install:
    """Die just after the step is logged as done."""
    def install(patch: pytest.MonkeyPatch) -> str:
        real = Operation.mark

        def mark(self: Operation, name: str, **details: Any) -> None:
            real(self, name, **details)
            if name == step:
                raise Crash(f"after {step}")

        patch.setattr(Operation, "mark", mark)
        return step
    return install


def during(owner: Any, name: str, call: int, label: str) -> Install:
    """Die at the `call`-th call of one of our functions, the calls before it done."""
    def install(patch: pytest.MonkeyPatch) -> str:
        real, calls = getattr(owner, name), itertools.count(1)

        def crashing(*args: Any, **kwargs: Any) -> Any:
            if next(calls) == call:
                raise Crash(label)
            return real(*args, **kwargs)

        patch.setattr(owner, name, crashing)
        return label
    return install


def crashing(monkeypatch: pytest.MonkeyPatch, command: Callable[[], Any], crashes: list[Install],
             between: Callable[[str], None]) -> Any:
    """Run the command once per crash point, dying there, with `between(label)` after each; then once to the end."""
    for install in crashes:
        with monkeypatch.context() as patch:
            label = install(patch)
            with pytest.raises(Crash):
                command()
        between(label)
    return command()


def state(database_name: str, force: uuid.UUID, leave_out: frozenset[str] = frozenset({"audit_event"})
          ) -> dict[str, list[Any]]:
    """Per table, the force's row count and row checksum in that database (its audit trail left out: every read
    adds to it; audit_ids follows it)."""
    with psycopg.connect(superuser_url(database_name), autocommit=True) as conn:
        conn.execute(database.SESSION_SETUP)
        tables = [t for t in database.tenant_tables(conn) if t.name not in leave_out]
        return database.checksums(conn, tables, force)


def audit_ids(database_name: str, force: uuid.UUID) -> set[uuid.UUID]:
    with psycopg.connect(superuser_url(database_name)) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM audit_event WHERE tenant_id = %s", (force,))}


def operation_status(settings: Any, slug: str, kind: str) -> list[str]:
    with database.connect(database.pool_url(settings)) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM tenant_operation WHERE slug = %s AND operation = %s "
                                               "ORDER BY started_at", (slug, kind))]


def lose_an_audit_event(real: Callable[..., None]) -> Callable[..., None]:
    """_copy_table, but the copy of `audit_event` loses a row (as a faulty copy would)."""
    def copy(src: psycopg.Connection, dst: psycopg.Connection, table: database.TenantTable, force: uuid.UUID,
             bar: Callable[[int], None]) -> None:
        real(src, dst, table, force, bar)
        if table.name == "audit_event":
            dst.execute("DELETE FROM audit_event WHERE tenant_id = %s AND id = (SELECT min(id::text)::uuid FROM "
                        "audit_event WHERE tenant_id = %s)", (force, force))
    return copy


@pytest.fixture
def own_database(settings):
    """A force's dedicated database made by provisioning (Concord's roles cannot create databases)."""
    def make(slug: str) -> str:
        name = f"{POOL_DB}_{slug}"
        embedded.drop_database(name)
        embedded.bootstrap([name])
        return name
    return make


def test_a_move_stopped_after_any_step_resumes_both_ways_and_loses_or_duplicates_nothing(
        settings, services, as_user, own_database, tmp_path, monkeypatch, capsys):
    slug = "crashshire"
    dedicated_db = own_database(slug)
    tenant = force_file(tmp_path, slug, "98")
    run = Run(settings, operator="lifecycle-test", settle_seconds=0)
    service.onboard(run=run, tenant=tenant)
    services.registry.invalidate()
    force = tenant.id
    made = every_record(services, as_user, slug)
    admin = as_user(slug, "force_admin", user="cs-admin")
    share(admin, consumer_force="southshire")  # so that a move to dedicated mirrors its agreements
    api = as_user(slug, "investigator")
    before = reads(api, admin, made)
    database_of = {"pooled": POOL_DB, "dedicated": dedicated_db}

    # A copy that does not verify: nothing switched, the copy removed, writes open again, what differed said.
    pooled_state = state(POOL_DB, force, leave_out=frozenset())
    with monkeypatch.context() as patch:
        patch.setattr(service, "_copy_table", lose_an_audit_event(service._copy_table))
        with pytest.raises(service.VerificationFailed) as failed:
            service.move(run=run, slug=slug, to="dedicated")
    (difference,) = failed.value.report.differences
    events = pooled_state["audit_event"][0]
    assert re.fullmatch(rf"audit_event: {events} row\(s\) with checksum -?\d+ in the source, {events - 1} with "
                        r"checksum -?\d+ in the copy", difference), difference
    services.registry.invalidate()
    assert services.registry.by_slug(slug).deployment == "pooled" and not services.registry.in_maintenance(slug)
    assert rows_in(dedicated_db, force) == 0 and state(POOL_DB, force, leave_out=frozenset()) == pooled_state
    assert operation_status(settings, slug, "move") == ["failed"]
    assert reads(api, admin, made) == before

    # Each way, the move dies after each step it logs and part-way through the copy and the removal.
    crash_points = {
        "dedicated": [after_step("maintenance"), during(service, "_copy_table", 5, "copying"), after_step("copied"),
                      after_step("agreements_mirrored"), after_step("switched"), after_step("caught_up"),
                      during(database, "_delete_force_rows", 3, "removing"), after_step("source_removed")],
        "pooled": [after_step("maintenance"), during(service, "_copy_table", 9, "copying"), after_step("copied"),
                   after_step("switched"), after_step("caught_up"),
                   during(database, "_delete_force_rows", 4, "removing"), after_step("source_removed")],
    }
    switched_by, caught_up_by = {"switched", "caught_up", "removing", "source_removed"}, {"removing", "source_removed"}
    for source, target in (("pooled", "dedicated"), ("dedicated", "pooled")):
        rows_before = state(database_of[source], force)
        seen: list[str] = []
        audited: set[uuid.UUID] = set()

        def between(label: str, source: str = source, target: str = target, seen: list[str] = seen,
                    audited: set[uuid.UUID] = audited) -> None:
            seen.append(label)
            services.registry.invalidate()
            serving = target if switched_by & set(seen) else source
            assert services.registry.by_slug(slug).deployment == serving, label  # the source answers until the switch
            if caught_up_by & set(seen):  # the target has it all: writes open again while the source is emptied
                assert not services.registry.in_maintenance(slug), label
            else:
                write = api.post("/api/v1/people", json={"surname": "Blocked", "forenames": "W", "sex": "male"})
                assert (write.status_code, write.headers.get("Retry-After")) == (503, "60"), label  # writes wait
            assert reads(api, admin, made) == before, label  # reads go on, and each is audited where it is served
            audited.update(audit_ids(POOL_DB, force) | audit_ids(dedicated_db, force))

        report = crashing(monkeypatch, lambda t=target: service.move(run=run, slug=slug, to=t), crash_points[target],
                          between)
        assert report.verified and report.rows
        services.registry.invalidate()
        assert services.registry.by_slug(slug).deployment == target and not services.registry.in_maintenance(slug)
        assert rows_in(database_of[source], force) == 0
        assert state(database_of[target], force) == rows_before  # every row once: none lost, none twice
        assert audit_ids(database_of[target], force) == audited  # every read during the move kept, wherever made
        assert operation_status(settings, slug, "move")[-1] == "done"
        assert reads(api, admin, made) == before
        again = service.move(run=run, slug=slug, to=target)  # a second run changes nothing
        assert (again.source, again.rows) == (target, {}) and state(database_of[target], force) == rows_before

    # The CLI's progress: per table, the rows copied of its total, counted as they were copied.
    capsys.readouterr()
    report = service.move(run=Run(settings, settle_seconds=0, reporter=ClickReporter()), slug=slug, to="dedicated")
    services.registry.invalidate()
    shown = dict(re.findall(r"^copying (\w+): (\d+/\d+) rows \(", capsys.readouterr().err, re.MULTILINE))
    assert shown == {name: f"{count}/{count}" for name, count in report.rows.items()}
    assert report.rows["person"] > 1 and set(report.seconds) == {"prepare", "maintenance", "copy", "verify",
                                                                 "switch", "catch_up", "remove"}

    # An export and an import stopped part-way: run again into the same place, each finishes; a second import
    # changes nothing.
    exported = tmp_path / "export"
    manifest = crashing(monkeypatch, lambda: archive.export(run=run, slug=slug, to=str(exported)),
                        [during(archive, "_rows_as_json", 3, "exporting")], lambda label: None)
    assert archive.verify(run=run, location=str(exported)) == [] and manifest["tables"]
    with database.connect(database.owner_url(settings, slug, "dedicated"), force) as conn:
        database.remove_rows(conn, database.tenant_tables(conn), force)
    store = storage_backends.for_tenant(tenant, settings.var_dir)
    for item in manifest["objects"]:
        store.delete(item["key"])
    loaded = crashing(monkeypatch, lambda: archive.import_archive(run=run, slug=slug, source=str(exported)),
                      [during(archive, "_load", 4, "importing"), after_step("rows_loaded")], lambda label: None)
    assert loaded == {t["name"]: t["rows"] for t in manifest["tables"]}
    assert archive.import_archive(run=run, slug=slug, source=str(exported)) == {}  # a second run: nothing to do
    assert reads(api, admin, made) == before  # documents' contents included
    assert operation_status(settings, slug, "import") == ["done"]

    archive.export(run=run, slug=slug, to=str(tmp_path / "final"))  # clean-up: the force goes
    services.databases.dispose()  # the servers let go of their connections to its database (see below)
    service.offboard(run=run, slug=slug)
    services.registry.invalidate()


def test_a_dedicated_force_onboarded_and_offboarded_with_stops_after_every_step(
        settings, services, as_user, own_database, tmp_path, monkeypatch):
    slug = "mereshire"
    name = own_database(slug)
    tenant = force_file(tmp_path, slug, "99")
    text = (tmp_path / f"{slug}.toml").read_text().replace('deployment = "pooled"', 'deployment = "dedicated"')
    (tmp_path / f"{slug}.toml").write_text(text)
    tenant = tenancy_config.load(tmp_path).tenants[slug]
    run = Run(settings, operator="lifecycle-test", settle_seconds=0)
    force = tenant.id
    folder = settings.var_dir / "documents" / slug

    # Onboarding: each step does its part; until the last (the registration) no server routes to the force.
    def step_then_die(step: Callable[[Run, tenancy_config.Tenant], str]) -> Install:
        def install(patch: pytest.MonkeyPatch) -> str:
            def dying(run: Run, tenant: tenancy_config.Tenant) -> str:
                step(run, tenant)
                raise Crash(step.__name__)
            patch.setattr(service, "ONBOARDING_STEPS",
                          [dying if each is step else each for each in service.ONBOARDING_STEPS])
            return step.__name__
        return install

    def not_yet_registered(label: str) -> None:
        assert entry(run, slug) is None, label
        with database.connect(database.owner_url(settings, slug, "dedicated")) as conn:
            assert database.revision(conn) == migrate.head()  # the first step's work stays done

    crashing(monkeypatch, lambda: service.onboard(run=run, tenant=tenant),
             [step_then_die(step) for step in service.ONBOARDING_STEPS[:-1]], not_yet_registered)
    assert folder.is_dir() and entry(run, slug).deployment == "dedicated"
    assert service.onboard(run=run, tenant=tenant) == []  # a third run: nothing to do
    services.registry.invalidate()
    api = as_user(slug, "investigator")
    person = api.create_person()
    for content in (b"first", b"second", b"third"):
        attach(api, "person", person["id"], content)
    assert rows_in(name, force) > 0 and rows_in(POOL_DB, force) == 0
    archive.export(run=run, slug=slug, to=str(tmp_path / "export"))

    # Offboarding: its database is dropped last. The test's server lets go of its connections to it when it reads
    # the registry after the force is deactivated (gone_for_its_users); `held` is the session of a server that has
    # not, which the owner may not end.
    held = psycopg.connect(superuser_url(name).replace("postgres@", f"{settings.runtime_role}@"))

    def offboarding() -> Any:
        return service.offboard(run=run, slug=slug)

    def gone_for_its_users(label: str) -> None:
        services.registry.invalidate()
        assert api.get(f"/api/v1/people/{person['id']}").status_code == 401, label
        assert entry(run, slug).offboarded_at is None, label  # no tombstone until every step is done

    with pytest.raises(Refused, match=f"its database {name} is still in use"):  # the run after the last stop
        crashing(monkeypatch, offboarding,
                 [after_step("deactivated"), after_step("unchanged_since_export"),
                  during(database, "_delete_force_rows", 6, "removing rows"), after_step("rows_removed"),
                  during(storage_backends.FilesystemStorage, "delete", 2, "removing objects"),
                  after_step("objects_removed")], gone_for_its_users)
    assert rows_in(name, force) == 0 and entry(run, slug).offboarded_at is None
    held.close()
    report = crashing(monkeypatch, offboarding, [after_step("database_dropped"), after_step("storage_dropped")],
                      gone_for_its_users)
    services.registry.invalidate()
    assert report.dropped == [f"dropped its database {name}", f"removed its document folder {folder}"]
    assert (report.rows["person"], report.rows["document"], report.objects) == (1, 3, 3)  # all, over every run
    with psycopg.connect(superuser_url()) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
    assert not folder.exists() and entry(run, slug).offboarded_at is not None  # the tombstone
    assert operation_status(settings, slug, "offboard") == ["done"]  # one operation, resumed to its end
    assert service.offboard(run=run, slug=slug).rows == {}  # a second run changes nothing
    with pytest.raises(Refused, match=f"belonged to force {slug}, offboarded"):
        service.onboard(run=run, tenant=tenant)


def test_offboarding_a_dedicated_s3_force_deletes_its_bucket_and_schedules_its_key_for_deletion(
        settings, services, as_user, own_database, tmp_path, moto):  # noqa: F811
    slug = "bucketshire"
    name = own_database(slug)
    kms = boto3.client("kms", endpoint_url=moto, region_name="eu-west-2")
    key_id = kms.create_key(Description=f"{slug} documents")["KeyMetadata"]["KeyId"]
    bucket = f"concord-{slug}-{uuid.uuid4().hex[:8]}"  # moto's state is one per process: a bucket of its own
    force_file(tmp_path, slug, "88", storage=(f'\n[storage]\nbackend = "s3"\nbucket = "{bucket}"\n'
                                              f'kms_key_id = "{key_id}"\nendpoint_url = "{moto}"\n'))
    text = (tmp_path / f"{slug}.toml").read_text().replace('deployment = "pooled"', 'deployment = "dedicated"')
    (tmp_path / f"{slug}.toml").write_text(text)
    tenant = tenancy_config.load(tmp_path).tenants[slug]
    run = Run(settings, operator="lifecycle-test", settle_seconds=0)
    assert f"created its bucket {bucket}" in service.onboard(run=run, tenant=tenant)
    services.registry.invalidate()
    api = as_user(slug, "investigator")
    attach(api, "person", api.create_person()["id"], b"bucketshire evidence")
    s3 = boto3.client("s3", endpoint_url=moto, region_name="eu-west-2")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    archive.export(run=run, slug=slug, to=str(tmp_path / "export"))
    services.databases.dispose()  # the servers let go of their connections to its database
    report = service.offboard(run=run, slug=slug, shred_key=True)
    services.registry.invalidate()  # as every server has within its TTL: the force is gone
    assert report.dropped == [f"dropped its database {name}", f"deleted its bucket {bucket}"]
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert entry(run, slug).offboarded_at is not None
