"""Two storage backends behind one interface: the filesystem (the embedded default, under var/) and S3
through boto3 with SSE-KMS under the force's key (a prefix per pooled force, a bucket per dedicated force).

Objects are content-addressed (`<prefix>/<sha256>`): the same bytes are stored once, and writing an
object that exists already is a no-op, so a retried upload never makes a second copy.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Protocol
from urllib.parse import quote


@dataclass(frozen=True)
class StoredObject:
    key: str
    last_modified: datetime


class Storage(Protocol):
    def put(self, key: str, data: bytes, media_type: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def purge(self, key: str) -> None: ...  # every version of it too (disposal)
    def objects(self) -> Iterator[StoredObject]: ...
    def download_url(self, key: str, filename: str, seconds: int) -> str | None: ...
    def upload_url(self, key: str, media_type: str, seconds: int) -> str | None: ...


class FilesystemStorage:
    """Files under a directory per force; written to a temporary name and renamed, so never half-written."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes, media_type: str) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def purge(self, key: str) -> None:
        self.delete(key)  # a file has no older versions

    def objects(self) -> Iterator[StoredObject]:
        if not self.root.exists():
            return
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                yield StoredObject(path.relative_to(self.root).as_posix(),
                                   datetime.fromtimestamp(path.stat().st_mtime, timezone.utc))

    def download_url(self, key: str, filename: str, seconds: int) -> str | None:
        return None  # the API streams filesystem objects itself

    def upload_url(self, key: str, media_type: str, seconds: int) -> str | None:
        return None  # uploads to the filesystem go through the API


class S3Storage:
    """An S3 bucket (and prefix), every object encrypted with SSE-KMS under the force's key."""

    def __init__(self, client: Any, bucket: str, prefix: str, kms_key_id: str):
        self.client, self.bucket, self.prefix, self.kms_key_id = client, bucket, prefix.strip("/"), kms_key_id

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, media_type: str) -> None:
        if self.exists(key):
            return
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=media_type,
                               ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key_id)

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def purge(self, key: str) -> None:
        """Delete every version of the object and every delete marker (a versioned bucket keeps old versions)."""
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(key)):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if item["Key"] == self._key(key):
                    self.client.delete_object(Bucket=self.bucket, Key=item["Key"], VersionId=item["VersionId"])

    def objects(self) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"][len(start):], item["LastModified"])

    def download_url(self, key: str, filename: str, seconds: int) -> str | None:
        return self.client.generate_presigned_url(
            "get_object", ExpiresIn=seconds,
            Params={"Bucket": self.bucket, "Key": self._key(key),
                    "ResponseContentDisposition": attachment(filename)})

    def upload_url(self, key: str, media_type: str, seconds: int) -> str | None:
        """A short-lived URL to PUT a large file straight into storage, encrypted under the force's key."""
        return self.client.generate_presigned_url(
            "put_object", ExpiresIn=seconds,
            Params={"Bucket": self.bucket, "Key": self._key(key), "ContentType": media_type,
                    "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id})


def for_tenant(tenant: Any, var_dir: Path) -> Storage:
    """The force's storage location, from its tenant config (`[storage]`); the filesystem by default."""
    config = tenant.settings.get("storage") or {}
    if config.get("backend", "filesystem") == "filesystem":
        return FilesystemStorage(var_dir / "documents" / tenant.slug)
    import boto3

    client = boto3.client("s3", endpoint_url=config.get("endpoint_url"), region_name=config.get("region", "eu-west-2"))
    return S3Storage(client, config["bucket"], config.get("prefix", "" if tenant.dedicated else tenant.slug),
                     config["kms_key_id"])


def of_acting_force() -> Storage:
    """The storage of the force acting in this request (from its tenant config)."""
    from flask import current_app, g

    return for_tenant(g.principal.tenant, current_app.extensions["concord"].settings.var_dir)


def of_force(tenant_id: Any) -> Storage:
    """The storage of the force owning a document (a shared document lives in its owner's storage)."""
    from flask import current_app

    services = current_app.extensions["concord"]
    owner = next(t for t in services.registry.tenants() if t.id == tenant_id)
    return for_tenant(owner, services.settings.var_dir)


def attachment(filename: str) -> str:
    """A Content-Disposition for a download under any filename: an ASCII fallback and the exact name as
    RFC 5987 `filename*` (a header must be Latin-1; names in any script still arrive intact)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
