"""The retention staff of each force, and helpers that walk a record through review to disposal."""
from __future__ import annotations

from typing import Any

import boto3
import pytest
from sqlalchemy import text

from app.documents.storage import S3Storage
from tests.conftest import moto_server

# Tables that keep naming a disposed record by design (ids and actions only).
KEPT = {"audit_event", "sharing_access", "retention_tombstone", "disposal_item"}
# moto keeps its buckets per process, across servers: a bucket of our own, versioned, beside tests/test_documents'.
BUCKET = "concord-retention-versioned"


@pytest.fixture
def reviewer(as_user):
    return as_user("northshire", "retention_reviewer", user="rr-1")


@pytest.fixture
def approver(as_user):
    return as_user("northshire", "disposal_approver", user="da-1")


def dispose_decision(reviewer, record_type: str, record_id: str) -> dict[str, Any]:
    response = reviewer.post("/api/v1/retention/reviews", json={
        "record_type": record_type, "record_id": record_id, "decision": "dispose",
        "rationale": "No policing purpose remains after the clear period"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def propose(reviewer, *items: tuple[str, str]):
    return reviewer.post("/api/v1/retention/disposal-lists",
                         json={"items": [{"record_type": t, "record_id": i} for t, i in items]})


def approve(approver, listed: dict[str, Any]):
    """Approve a proposed list as it was read."""
    response = approver.post(f"/api/v1/retention/disposal-lists/{listed['id']}/approval",
                             json={"items_hash": listed["items_hash"]})
    assert response.status_code == 200, response.get_json()
    return response


def as_force(services, slug: str):
    """The test's own pool connection (the runtime role, RLS on) acting for one force with restricted access,
    to look at what is stored inside the test's transaction."""
    conn = services.databases.overrides["pool"]
    tenant = services.registry.by_slug(slug)
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('app.restricted_access', 'on', true)"),
                 {"t": str(tenant.id)})
    return conn


def _tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(text(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1"))]


def naming(conn, value: str) -> dict[str, int]:
    """Every table (but those kept by design) with rows whose any column, as text, contains `value`."""
    found = {}
    for table in _tables(conn):
        if table in KEPT:
            continue
        count = conn.execute(text(f"SELECT count(*) FROM {table} t WHERE strpos(t::text, :v) > 0"),
                             {"v": value}).scalar_one()
        if count:
            found[table] = count
    return found


@pytest.fixture(scope="session")
def versioned_s3():
    """The force's storage as a versioned S3 bucket on moto's server (SSE-KMS), for the whole session."""
    with moto_server() as endpoint:
        kwargs = {"endpoint_url": endpoint, "region_name": "eu-west-2", "aws_access_key_id": "test",
                  "aws_secret_access_key": "test"}
        client = boto3.client("s3", **kwargs)
        key_id = boto3.client("kms", **kwargs).create_key(Description="northshire documents")["KeyMetadata"]["KeyId"]
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield S3Storage(client, BUCKET, "northshire", key_id)


def versions(store: S3Storage, key: str) -> list[Any]:
    """Every version and delete marker S3 holds of one of the force's objects."""
    found = store.client.list_object_versions(Bucket=store.bucket, Prefix=f"northshire/{key}")
    return found.get("Versions", []) + found.get("DeleteMarkers", [])
