"""A force's life: onboarded from its file, moved pooled -> dedicated -> pooled with every read answering the same,
exported and re-imported, offboarded behind a tombstone (and, on S3, its key scheduled for deletion).

These tests commit (a move copies between databases on connections of its own); a force of their own, ridgeshire,
keeps them apart from the others, and offboarding it at the end is their clean-up."""
from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import psycopg
import pytest
from sqlalchemy import create_engine

from app import embedded
from app.audit import signing
from app.config import ROOT
from app.documents import storage as storage_backends
from app.lifecycle import archive, database, service
from app.lifecycle.operations import Refused, Reporter, Run
from app.tenancy import config as tenancy_config
from app.tenancy import service as tenancy_service
from tests.conftest import POOL_DB, moto_server, superuser_url, unique_name
from tests.factories import attach, every_record
from tests.sharing.test_agreements import share
from tests.test_cases import shoplifting

pytestmark = pytest.mark.committing


def force_file(directory: Path, slug: str, force_code: str, storage: str = "") -> tenancy_config.Tenant:
    """A force like Northshire (its custody suite too, which the factories use) under another slug and issuer."""
    text = (ROOT / "tenants" / "northshire.toml").read_text()
    text = (text.replace('slug = "northshire"', f'slug = "{slug}"').replace("Northshire Police", f"{slug} Police")
            .replace('force_code = "91"', f'force_code = "{force_code}"').replace("/dev-idp/northshire",
                                                                               f"/dev-idp/{slug}"))
    (directory / f"{slug}.toml").write_text(text + storage)
    return tenancy_config.load(directory).tenants[slug]


class Watching(Reporter):
    """The test's view of a move: the app's registry read again at every step (servers do so within their TTL),
    and what the force's users saw while it was in maintenance."""

    def __init__(self, services: Any, api: Any, person_id: str):
        self.services, self.api, self.person_id = services, api, person_id
        self.in_maintenance: list[tuple[int, str | None, int]] = []

    def say(self, message: str) -> None:
        self.services.registry.invalidate()
        if "is in maintenance" in message:
            write = self.api.post("/api/v1/people", json={"surname": "Blocked", "forenames": "W", "sex": "male"})
            read = self.api.get(f"/api/v1/people/{self.person_id}")
            self.in_maintenance.append((write.status_code, write.headers.get("Retry-After"), read.status_code))


def reads(api: Any, admin: Any, made: dict[str, Any]) -> dict[str, Any]:
    """What the force's users read of every record made, and its admin of its agreements, by path."""
    paths = [f"/api/v1/people/{made['person']['id']}", f"/api/v1/locations/{made['location']['id']}",
             f"/api/v1/objects/{made['object']['id']}", f"/api/v1/events/{made['event']['id']}",
             f"/api/v1/links/{made['link']['id']}", f"/api/v1/custody/records/{made['custody']['id']}",
             f"/api/v1/investigations/{made['investigation']['id']}", f"/api/v1/cases/{made['case']['id']}",
             f"/api/v1/intelligence/reports/{made['intelligence']['id']}",
             f"/api/v1/people?surname={made['person']['surname']}", "/api/v1/investigations", "/api/v1/cases",
             f"/api/v1/documents?record_type=person&record_id={made['person']['id']}"]
    paths += [f"/api/v1/documents/{doc['id']}/content" for key, doc in sorted(made.items())
              if key.startswith("document:")]
    out = {"/api/v1/sharing/agreements": admin.get("/api/v1/sharing/agreements").get_json()}
    for path in paths:
        response = api.get(path)
        assert response.status_code == 200, (path, response.get_json())
        out[path] = response.get_json() if response.is_json else response.data
    # The PACE clock counts from now (minutes in custody, what is overdue): the rest of the custody answer is stored.
    custody = out[f"/api/v1/custody/records/{made['custody']['id']}"]
    for moving in ("minutes_in_custody", "overdue"):
        custody["clock"].pop(moving)
    return out


def neighbour(north: Any, stop: threading.Event, statuses: list[int]) -> None:
    """Another force at work (writing and reading) until told to stop."""
    while not stop.is_set():
        body = {"surname": unique_name("Neighbour"), "forenames": "Ann", "sex": "female"}
        statuses.append(north.post("/api/v1/people", json=body).status_code)
        statuses.append(north.get("/api/v1/people?surname=Neighbour").status_code)


def rows_in(database_name: str, force: uuid.UUID) -> int:
    with psycopg.connect(superuser_url(database_name)) as conn:
        return sum(conn.execute(f"SELECT count(*) FROM {t.name} WHERE {t.force_column} = %s", (force,)).fetchone()[0]
                   for t in database.tenant_tables(conn))


def reference_serial(investigation: dict[str, Any]) -> int:
    return int(investigation["reference"].split("/")[1])  # force/serial/year


@pytest.fixture
def neighbours_cleaned():
    """Northshire's people made while ridgeshire moved, removed afterwards."""
    yield
    with psycopg.connect(superuser_url(POOL_DB), autocommit=True) as conn:
        conn.execute("DELETE FROM audit_event WHERE user_id = 'lifecycle-neighbour'")
        conn.execute("DELETE FROM person_search_key WHERE person_id IN (SELECT id FROM person WHERE created_by = "
                     "'lifecycle-neighbour')")
        conn.execute("DELETE FROM person WHERE created_by = 'lifecycle-neighbour'")


@pytest.fixture
def ridgeshire(settings, tmp_path):
    embedded.drop_database(f"{POOL_DB}_ridgeshire")
    embedded.bootstrap([f"{POOL_DB}_ridgeshire"])  # provisioning: Concord's roles cannot create databases
    return force_file(tmp_path, "ridgeshire", "95")


def test_a_force_is_onboarded_moved_both_ways_exported_reimported_and_offboarded(
        settings, services, as_user, ridgeshire, tmp_path, neighbours_cleaned):
    run = Run(settings, operator="lifecycle-test", settle_seconds=0)
    done = service.onboard(run=run, tenant=ridgeshire)
    assert [what.split(" its ")[1].split(" ")[0] for what in done[:-1]] == ["document", "development", "audit"], done
    assert done[-1] == "registered the force"  # last: until then no server routes a request to it
    assert signing.key_store(ridgeshire, settings.var_dir).load() is not None  # its checkpoints can be signed
    assert service.onboard(run=run, tenant=ridgeshire) == []  # running it twice changes nothing
    services.registry.invalidate()
    force = ridgeshire.id

    made = every_record(services, as_user, "ridgeshire")
    admin = as_user("ridgeshire", "force_admin", user="es-admin")
    share(admin, consumer_force="southshire")
    api = as_user("ridgeshire", "investigator")
    before = reads(api, admin, made)
    north = as_user("northshire", "investigator", user="lifecycle-neighbour")
    last_reference = reference_serial(made["investigation"])

    for target, holder, emptied in (("dedicated", f"{POOL_DB}_ridgeshire", POOL_DB),
                                    ("pooled", POOL_DB, f"{POOL_DB}_ridgeshire")):
        neighbours: list[int] = []
        stop = threading.Event()

        watching = Watching(services, api, made["person"]["id"])
        thread = threading.Thread(target=neighbour, args=(north, stop, neighbours))
        thread.start()
        try:
            report = service.move(run=Run(settings, settle_seconds=0, reporter=watching), slug="ridgeshire", to=target)
        finally:
            stop.set()
            thread.join()
        services.registry.invalidate()
        assert report.verified and report.rows["person_search_key"] > 0 and report.rows["audit_event"] > 0
        assert watching.in_maintenance == [(503, "60", 200)]
        assert neighbours and set(neighbours) == {200, 201}  # the other forces saw no interruption
        assert services.registry.by_slug("ridgeshire").deployment == target
        after = reads(api, admin, made)
        assert after == before  # agreements included: their home is the pool, a dedicated provider holds a mirror
        assert rows_in(emptied, force) == 0 and rows_in(holder, force) > 0
        inv, _, _ = shoplifting(api)  # the next crime reference follows on: no gap, no repeat
        assert reference_serial(inv) == last_reference + 1
        last_reference = reference_serial(inv)
        agreements = before["/api/v1/sharing/agreements"]
        before = {**reads(api, admin, made), "/api/v1/sharing/agreements": agreements}  # with the new investigation
        again = service.move(run=run, slug="ridgeshire", to=target)  # a second run changes nothing
        assert (again.source, again.rows, rows_in(emptied, force)) == (target, {}, 0)

    # Export, empty the force, import the archive: every read as before.
    archive_dir = tmp_path / "export"
    manifest = archive.export(run=run, slug="ridgeshire", to=str(archive_dir))
    schema = json.loads((ROOT / "docs" / "tenant-export.schema.json").read_text())
    jsonschema.validate(json.loads((archive_dir / "manifest.json").read_text()), schema)
    assert {t["name"] for t in manifest["tables"]} >= {"person", "person_search_key", "pole_link", "custody_record",
                                                       "custody_entry", "investigation", "intelligence_report",
                                                       "document", "audit_event", "case_file"}
    before = reads(api, admin, made)
    store = storage_backends.for_tenant(ridgeshire, settings.var_dir)
    with database.connect(database.pool_url(settings), force) as conn:
        database.remove_rows(conn, database.tenant_tables(conn), force)
    for item in manifest["objects"]:
        store.delete(item["key"])
    assert rows_in(POOL_DB, force) == 0
    loaded = archive.import_archive(run=run, slug="ridgeshire", source=str(archive_dir))
    assert loaded == {t["name"]: t["rows"] for t in manifest["tables"]}
    assert reads(api, admin, made) == before
    with pytest.raises(Refused, match="holds records already"):
        archive.import_archive(run=run, slug="ridgeshire", source=str(archive_dir))

    # Offboarding: only after a verified export of the force as it is now.
    with pytest.raises(Refused, match="changed after its export"):
        service.offboard(run=run, slug="ridgeshire")  # the reads above were audited since the export
    archive.export(run=run, slug="ridgeshire", to=str(tmp_path / "final"))
    service.offboard(run=run, slug="ridgeshire")
    services.registry.invalidate()
    assert rows_in(POOL_DB, force) == 0 and rows_in(f"{POOL_DB}_ridgeshire", force) == 0
    assert list(store.objects()) == []
    assert api.get(f"/api/v1/people/{made['person']['id']}").status_code == 401
    assert service.offboard(run=run, slug="ridgeshire").rows == {}  # idempotent: nothing left to do
    with pytest.raises(Refused, match="belonged to force ridgeshire, offboarded"):
        service.onboard(run=run, tenant=ridgeshire)
    reused_issuer = tenancy_config.Tenant.from_settings({**ridgeshire.settings, "slug": "ridgeshire2"})
    engine = create_engine(settings.owner_url(settings.runtime_url()))
    try:
        with engine.begin() as conn, pytest.raises(tenancy_service.Tombstoned, match="its issuer belonged"):
            tenancy_service.refuse_tombstoned(conn, [reused_issuer])
    finally:
        engine.dispose()


def test_a_move_refuses_an_unknown_force_and_a_dry_run_changes_nothing(settings):
    run = Run(settings, settle_seconds=0, dry_run=True)
    with pytest.raises(Refused, match="no force 'nowhereshire' is registered"):
        service.move(run=run, slug="nowhereshire", to="dedicated")
    with pytest.raises(Refused, match="database concord_test_westshire cannot be reached.*provisioning"):
        service.move(run=run, slug="westshire", to="dedicated")  # only the embedded server's are created
    report = service.move(run=run, slug="lakeshire", to="pooled")
    assert "person" in report.rows and "audit_event" in report.rows
    with database.connect(database.pool_url(settings)) as conn:
        assert conn.execute("SELECT deployment, maintenance FROM tenant WHERE slug = 'lakeshire'").fetchone() == (
            "dedicated", False)
    with pytest.raises(Refused, match="has no verified export"):
        service.offboard(run=Run(settings, settle_seconds=0), slug="westshire")


@pytest.fixture
def moto(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        monkeypatch.setenv(name, value)
    with moto_server() as endpoint:
        yield endpoint


def test_offboarding_an_s3_force_removes_its_objects_and_schedules_its_key_for_deletion(
        settings, services, as_user, tmp_path, moto):
    kms = boto3.client("kms", endpoint_url=moto, region_name="eu-west-2")
    key_id = kms.create_key(Description="fenshire documents")["KeyMetadata"]["KeyId"]
    s3 = boto3.client("s3", endpoint_url=moto, region_name="eu-west-2")
    pool, exports = f"concord-pool-{uuid.uuid4().hex[:8]}", f"concord-exports-{uuid.uuid4().hex[:8]}"  # moto's
    for bucket in (pool, exports):  # state is one per process: buckets of this test's own
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    fenshire = force_file(tmp_path, "fenshire", "96", storage=(
        f'\n[storage]\nbackend = "s3"\nbucket = "{pool}"\nkms_key_id = "{key_id}"\nendpoint_url = "{moto}"\n'))
    run = Run(settings, operator="lifecycle-test", settle_seconds=0,
              s3_client=lambda: boto3.client("s3", endpoint_url=moto, region_name="eu-west-2"))
    service.onboard(run=run, tenant=fenshire)
    services.registry.invalidate()
    api = as_user("fenshire", "investigator")
    person = api.create_person()
    attach(api, "person", person["id"], b"fenshire evidence")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=pool, Prefix="fenshire/")["Contents"]]
    archive.export(run=run, slug="fenshire", to=f"s3://{exports}/fenshire")
    assert archive.verify(run=run, location=f"s3://{exports}/fenshire") == []
    exported = s3.list_objects_v2(Bucket=exports, Prefix="fenshire/")["Contents"]
    assert exported and {s3.head_object(Bucket=exports, Key=o["Key"]).get("SSEKMSKeyId", "").split("/")[-1]
                         for o in exported} == {key_id}  # under the force's own key (the exports bucket's rule)
    report = service.offboard(run=run, slug="fenshire", shred_key=True)
    services.registry.invalidate()
    assert report.key_scheduled == key_id
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert s3.list_objects_v2(Bucket=pool, Prefix="fenshire/").get("KeyCount") == 0
    assert rows_in(POOL_DB, fenshire.id) == 0


def test_a_move_that_does_not_verify_switches_nothing_and_says_what_differed(settings, services, as_user, tmp_path):
    embedded.drop_database(f"{POOL_DB}_midshire")
    embedded.bootstrap([f"{POOL_DB}_midshire"])
    midshire = force_file(tmp_path, "midshire", "97")
    run = Run(settings, operator="lifecycle-test", settle_seconds=0)
    service.onboard(run=run, tenant=midshire)
    services.registry.invalidate()
    api = as_user("midshire", "investigator")
    person = api.create_person()
    document = attach(api, "person", person["id"], b"the only copy")
    store = storage_backends.for_tenant(midshire, settings.var_dir)
    lost = [item.key for item in store.objects()]
    for key in lost:
        store.delete(key)  # the object is lost before the move: the copy cannot be complete
    try:
        with pytest.raises(service.VerificationFailed, match="document object .* missing") as refused:
            service.move(run=run, slug="midshire", to="dedicated")
        assert refused.value.report.differences == [f"document object {key}: missing" for key in lost]
        services.registry.invalidate()
        assert services.registry.by_slug("midshire").deployment == "pooled"
        assert not services.registry.in_maintenance("midshire")
        assert rows_in(f"{POOL_DB}_midshire", midshire.id) == 0  # the copy was removed
        assert api.get(f"/api/v1/people/{person['id']}").status_code == 200  # served from where it was
        assert document["id"]
    finally:
        with database.connect(database.pool_url(settings), midshire.id) as conn:
            database.remove_rows(conn, database.tenant_tables(conn), midshire.id)
            conn.execute("UPDATE tenant SET active = false WHERE slug = 'midshire'")
        services.registry.invalidate()
