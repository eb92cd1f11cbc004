"""Documents: content-addressed storage on the filesystem and on S3 (moto's server over real HTTP),
the object written before the row, the sweep, audited downloads, isolation."""
from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta

import boto3
import pytest

from app.auth.permissions import permissions_for
from app.auth.principal import Principal
from app.db import TenantContext, tenant_context
from app.documents import service
from app.documents.storage import FilesystemStorage, S3Storage
from tests.conftest import moto_server


def upload(api, record, content=b"CCTV still, 12:04", name="still.jpg", **form):
    data = {"record_type": "person", "record_id": record["id"], "file": (io.BytesIO(content), name), **form}
    return api.post("/api/v1/documents", data=data, content_type="multipart/form-data")


def test_upload_list_and_download_through_the_api(north, as_user):
    person = north.create_person()
    content = b"witness statement text"
    response = upload(north, person, content, "statement.txt", sha256=hashlib.sha256(content).hexdigest())
    assert response.status_code == 201, response.get_json()
    document = response.get_json()
    assert document["sha256"] == hashlib.sha256(content).hexdigest() and document["size"] == len(content)
    listed = north.get(f"/api/v1/documents?record_type=person&record_id={person['id']}").get_json()["items"]
    assert [d["id"] for d in listed] == [document["id"]]
    downloaded = north.get(f"/api/v1/documents/{document['id']}/content")
    assert downloaded.status_code == 200 and downloaded.data == content
    auditor = as_user("northshire", "auditor")
    events = auditor.get(f"/api/v1/audit?record_id={document['id']}").get_json()["items"]
    assert {(e["action"], (e.get("details") or {}).get("via")) for e in events} >= {
        ("collection", None), ("consultation", "download")}


def test_a_damaged_upload_and_a_foreign_record_are_refused(north, south):
    person = north.create_person()
    damaged = upload(north, person, b"abc", sha256="0" * 64)
    assert damaged.status_code == 422 and "sha256" in damaged.get_json()["errors"]
    theirs = south.create_person()
    foreign = upload(north, theirs)
    assert foreign.status_code == 422 and "record_id" in foreign.get_json()["errors"]
    missing = north.post("/api/v1/documents", data={"record_type": "person", "record_id": person["id"]},
                         content_type="multipart/form-data")
    assert missing.status_code == 422


def test_another_forces_document_is_404(north, south):
    document = upload(north, north.create_person()).get_json()
    assert south.get(f"/api/v1/documents/{document['id']}/content").status_code == 404
    assert south.get(f"/api/v1/documents/{document['id']}/download-url").status_code == 404


@pytest.fixture(scope="module")
def s3():
    with moto_server() as endpoint:
        kwargs = {"endpoint_url": endpoint, "region_name": "eu-west-2", "aws_access_key_id": "test",
                  "aws_secret_access_key": "test"}
        client = boto3.client("s3", **kwargs)
        key_id = boto3.client("kms", **kwargs).create_key(Description="northshire documents")["KeyMetadata"]["KeyId"]
        client.create_bucket(Bucket="concord-pool", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        yield S3Storage(client, "concord-pool", "northshire", key_id)


def principal_of(services, slug="northshire"):
    tenant = services.registry.by_slug(slug)
    return tenant, Principal(tenant, "pc-101", frozenset({"officer"}), permissions_for({"officer"}))


def test_s3_objects_are_content_addressed_and_encrypted_with_the_forces_key(services, north, s3):
    tenant, principal = principal_of(services)
    person = north.create_person()
    session = services.databases.session(tenant)
    data = {"record_type": "person", "record_id": uuid.UUID(person["id"]), "filename": "a.txt",
            "media_type": "text/plain", "classification": "OFFICIAL"}
    with tenant_context(TenantContext(tenant.id, "pc-101")):
        first = service.upload(session, principal, s3, data, b"exhibit AB/1")
        second = service.upload(session, principal, s3, data, b"exhibit AB/1")
    assert first.storage_key == second.storage_key
    head = s3.client.head_object(Bucket="concord-pool", Key=f"northshire/{first.storage_key}")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith(s3.kms_key_id)
    url = s3.download_url(first.storage_key, "a.txt", 60)
    assert url.startswith("http://127.0.0.1:") and "X-Amz-Signature" in url


def test_a_failure_between_the_write_and_the_commit_leaves_no_row_and_the_retry_no_second_copy(
        services, north, s3, monkeypatch):
    tenant, principal = principal_of(services)
    person = north.create_person()
    content = f"unique content {uuid.uuid4()}".encode()
    data = {"record_type": "person", "record_id": uuid.UUID(person["id"]), "filename": "b.txt",
            "media_type": "text/plain", "classification": "OFFICIAL"}

    def crash() -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr(service, "_after_object_written", crash)
    session = services.databases.session(tenant)
    with tenant_context(TenantContext(tenant.id, "pc-101")):
        with pytest.raises(ConnectionError):
            service.upload(session, principal, s3, data, content)
    digest = hashlib.sha256(content).hexdigest()
    assert north.get(f"/api/v1/documents?record_type=person&record_id={person['id']}").get_json()["items"] == []
    before = [o.key for o in s3.objects()]
    assert f"sha256/{digest[:2]}/{digest}" in before  # the object is there, no row points at it
    monkeypatch.setattr(service, "_after_object_written", lambda: None)
    with tenant_context(TenantContext(tenant.id, "pc-101")):
        document = service.upload(session, principal, s3, data, content)
    assert [o.key for o in s3.objects()] == before and document.sha256 == digest


def test_the_sweep_removes_only_old_unreferenced_objects(services, north, tmp_path):
    tenant, principal = principal_of(services)
    store = FilesystemStorage(tmp_path / "northshire")
    store.put("sha256/ab/orphan", b"orphan", "text/plain")
    person = north.create_person()
    session = services.databases.session(tenant)
    with tenant_context(TenantContext(tenant.id, "pc-101")):
        kept = service.upload(session, principal, store, {
            "record_type": "person", "record_id": uuid.UUID(person["id"]), "filename": "c.txt",
            "media_type": "text/plain", "classification": "OFFICIAL"}, b"kept")
    assert service.sweep(services.databases, tenant, store, timedelta(hours=1)) == []  # too young
    assert service.sweep(services.databases, tenant, store, timedelta(seconds=-1)) == ["sha256/ab/orphan"]
    assert store.exists(kept.storage_key) and not store.exists("sha256/ab/orphan")


def test_a_large_file_goes_straight_to_s3_by_a_presigned_url_and_is_checked_on_completion(services, north, s3):
    import requests

    tenant, principal = principal_of(services)
    person = north.create_person()
    content = b"x" * 100_000
    digest = hashlib.sha256(content).hexdigest()
    key, url = service.presigned_upload(s3, digest, "video/mp4")
    put = requests.put(url, data=content, headers={"Content-Type": "video/mp4"}, timeout=10)
    assert put.status_code == 200, put.text
    session = services.databases.session(tenant)
    data = {"record_type": "person", "record_id": uuid.UUID(person["id"]), "filename": "bodycam.mp4",
            "media_type": "video/mp4", "classification": "OFFICIAL", "sha256": digest}
    with tenant_context(TenantContext(tenant.id, "pc-101")):
        document = service.complete_upload(session, principal, s3, data)
        assert document.storage_key == key and document.size == len(content)
        with pytest.raises(Exception, match="nothing has been uploaded"):
            service.complete_upload(session, principal, s3, {**data, "sha256": "f" * 64})


def test_the_filesystem_backend_refuses_a_presigned_upload(north):
    response = north.post("/api/v1/documents/uploads", json={"sha256": "a" * 64, "media_type": "video/mp4"})
    assert response.status_code == 409 and "through the API" in response.get_json()["message"]
