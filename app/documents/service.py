"""Document use cases: upload (object first, then the row), list, download (streamed or by a short-lived
URL, audited either way), and the sweep of objects no row references."""
from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, TypeVar

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from app import observability
from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Databases, Sessions, TenantContext, tenant_context, transaction
from app.documents import storage as storage_backends
from app.documents.models import Document
from app.errors import Conflict, InvalidInput, NotFound
from app.people.identifiers import has_control_characters
from app.pole import links
from app.sharing import visibility as sharing
from app.tenancy.config import Tenant

RECORD_TYPE = "document"
MAX_BYTES = 50 * 1024 * 1024
# A media type as RFC 6838 names one (type/subtype, each a restricted name of at most 127 characters), no parameters.
MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")
URL_SECONDS = 300


def _after_object_written() -> None:
    """A seam for tests: runs between writing the object and committing its row."""


def upload(session: Session, principal: Principal, store: storage_backends.Storage, data: dict[str, Any],
           content: bytes) -> Document:
    """Store the bytes under their SHA-256 (once), then record the document that references them."""
    if len(content) > MAX_BYTES:
        raise InvalidInput.field("file", f"larger than {MAX_BYTES // (1024 * 1024)} MiB: use a presigned upload")
    if not MEDIA_TYPE.match(data["media_type"]):  # stored, and served back as the content's type
        raise InvalidInput.field("file", "its content type must be a media type such as application/pdf")
    if has_control_characters(data["filename"]):  # shown on the record, and back out in Content-Disposition
        raise InvalidInput.field("file", "the file name must not contain control characters (new lines, escapes, "
                                         "direction overrides that make it read as another name)")
    digest = hashlib.sha256(content).hexdigest()
    if data.get("sha256") and data["sha256"].lower() != digest:
        raise InvalidInput.field("sha256", "does not match the file received (it was damaged on the way)")
    with transaction(session):
        if not links.entity_exists(session, data["record_type"], data["record_id"], own=True):
            raise InvalidInput.field("record_id", f"no such {data['record_type']} in this force")
        key = f"sha256/{digest[:2]}/{digest}"
        store.put(key, content, data["media_type"])  # the object first ...
        _after_object_written()
        document = Document(tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1,
                            record_type=data["record_type"], record_id=data["record_id"], filename=data["filename"],
                            media_type=data["media_type"], size=len(content), sha256=digest, storage_key=key,
                            classification=data["classification"], created_by=principal.user_id)
        session.add(document)  # ... then the row that references it
        session.flush()
        audit_service.record(session, principal, "collection", RECORD_TYPE, document.id,
                             {"record_type": document.record_type, "record_id": str(document.record_id),
                              "sha256": digest, "size": len(content)})
    return document


def presigned_upload(store: storage_backends.Storage, sha256: str, media_type: str) -> tuple[str, str]:
    """(key, URL) to PUT a large file straight into storage under its SHA-256; then call complete_upload."""
    key = f"sha256/{sha256[:2]}/{sha256}"
    url = store.upload_url(key, media_type, URL_SECONDS)
    if url is None:
        raise Conflict("This force's storage takes uploads through the API: send the file with POST /documents",
                       {"sha256": ["no presigned upload for this storage"]})
    return key, url


def complete_upload(session: Session, principal: Principal, store: storage_backends.Storage,
                    data: dict[str, Any]) -> Document:
    """Record a document whose bytes were PUT to storage, once they are there and match their SHA-256."""
    key = f"sha256/{data['sha256'][:2]}/{data['sha256']}"
    if not store.exists(key):
        raise InvalidInput.field("sha256", "nothing has been uploaded under this checksum")
    content = store.get(key)
    if hashlib.sha256(content).hexdigest() != data["sha256"]:
        store.delete(key)
        raise InvalidInput.field("sha256", "the uploaded file does not match its checksum; it was removed")
    return upload(session, principal, store, data, content)


def find(session: Session, principal: Principal, record_type: str, record_id: uuid.UUID, *,
         sessions: Sessions | None = None) -> list[Document]:
    """The documents attached to a record the acting force can see, those of another force only as its
    agreement releases them; each listed is audited, and logged for its provider. With `sessions`, those of a
    shared record held in another database are listed there, through its policies (the record itself is then
    audited as consulted too: finding it there is reading it)."""
    try:
        with transaction(session):
            links.require_visible(session, principal, record_type, record_id)
            documents = _documents_of(session, principal, record_type, record_id)
            audit_service.record_each(session, principal, "consultation", RECORD_TYPE, [d.id for d in documents],
                                      {"via": "list"})
    except NotFound as missing:
        if sessions is None:
            raise
        with transaction(session):  # the record's consultation (read_elsewhere) and its documents' in one
            documents = sharing.read_elsewhere(
                sessions, principal, record_type, lambda other: _attached(other, principal, record_type, record_id),
                missing, shown=lambda found: (found, record_type, {"via": "documents"})).documents
            audit_service.record_each(session, principal, "consultation", RECORD_TYPE, [d.id for d in documents],
                                      {"via": "list"})
    return documents


@dataclass(frozen=True)
class Attached:
    """A record's documents as one database holds them, and the record (its force and id)."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    documents: list[Document]


def _attached(session: Session, principal: Principal, record_type: str, record_id: uuid.UUID) -> Attached:
    """The documents of a record visible in this database (NotFound if it is not), logged for their provider."""
    owner = links.owner_of(session, record_type, record_id)
    if owner is None:
        raise NotFound.record(record_type)
    return Attached(owner, record_id, _documents_of(session, principal, record_type, record_id))


def _documents_of(session: Session, principal: Principal, record_type: str, record_id: uuid.UUID) -> list[Document]:
    """The documents of a record this database shows the acting force, oldest first, logged for their provider."""
    documents = list(session.scalars(select(Document).where(
        Document.record_type == record_type, Document.record_id == record_id).order_by(Document.created_at)))
    _log_shared(session, principal, documents)
    return documents


def load(session: Session, document_id: uuid.UUID) -> Document:
    """A document the acting force can see (its own, or one an agreement releases to it)."""
    document = session.scalar(select(Document).where(Document.id == document_id))
    if document is None:
        raise NotFound.record("document")
    return document


def released_filename(principal: Principal, document: Document) -> str:
    """The document's filename as the acting force may see it: another force's masked one is its id."""
    masked = sharing.mask_for(principal, sharing.document_grant(document.record_type), document.tenant_id)
    return f"document-{document.id}" if masked and "filename" in masked else document.filename


def _log_shared(session: Session, principal: Principal, documents: list[Document]) -> None:
    """The providers' access-log rows for other forces' documents, each under its parent's document grant."""
    for document in documents:
        sharing.record_shared_reads(session, principal, RECORD_TYPE, [(document.tenant_id, document.id)],
                                    grant_type=sharing.document_grant(document.record_type))


def content(session: Session, principal: Principal, stores: Callable[[uuid.UUID], storage_backends.Storage],
            document_id: uuid.UUID, *, sessions: Sessions | None = None) -> tuple[Document, bytes]:
    """The document's bytes from its owner's storage, checked against its SHA-256; the download is audited. With
    `sessions`, a shared document held in another database is read there, through its policies."""
    def read(database: Session) -> tuple[Document, bytes]:
        document = load(database, document_id)
        data = stores(document.tenant_id).get(document.storage_key)
        if hashlib.sha256(data).hexdigest() != document.sha256:
            raise RuntimeError(f"stored object {document.storage_key} does not match its checksum")
        return document, data

    return _read(session, principal, read, lambda _: {"via": "download"}, sessions)


def download_url(session: Session, principal: Principal, stores: Callable[[uuid.UUID], storage_backends.Storage],
                 document_id: uuid.UUID, *, sessions: Sessions | None = None) -> tuple[Document, str | None]:
    """A short-lived URL to fetch the document from its owner's storage (S3); audited as a download. With
    `sessions`, a shared document held in another database is found there, through its policies."""
    def read(database: Session) -> tuple[Document, str | None]:
        document = load(database, document_id)
        return document, stores(document.tenant_id).download_url(
            document.storage_key, released_filename(principal, document), URL_SECONDS)

    return _read(session, principal, read, lambda url: {"via": "presigned URL" if url else "stream"}, sessions)


T = TypeVar("T")


def _read(session: Session, principal: Principal, read: Callable[[Session], tuple[Document, T]],
          details: Callable[[T], dict[str, Any]], sessions: Sessions | None) -> tuple[Document, T]:
    """A download of one document: read where it is (here, or with `sessions` in the database holding it), audited
    with what `details` says of it, and logged for its provider under its parent's document grant."""
    return sharing.read_by_id(session, principal, RECORD_TYPE, read, sessions=sessions, shown=lambda found: (
        found[0], sharing.document_grant(found[0].record_type), details(found[1])))


def erase_attached(session: Session, *, records: Sequence[tuple[str, uuid.UUID]]) -> list[str]:
    """Disposal: delete own records' documents, (record_type, record_id) of each; the storage keys no remaining
    document references (to purge)."""
    if not records:
        return []
    own = Document.tenant_id == func.app_current_tenant()
    keys = set(session.scalars(delete(Document).where(own, tuple_(Document.record_type, Document.record_id)
                                                      .in_(records)).returning(Document.storage_key)))
    if not keys:
        return []
    still = set(session.scalars(select(Document.storage_key).where(own, Document.storage_key.in_(keys))))
    return sorted(keys - still)


def purge(store: storage_backends.Storage, *, keys: list[str]) -> None:
    """Remove objects from storage with every version of them (after the rows referencing them are gone)."""
    for key in keys:
        store.purge(key)


def sweep(databases: Databases, tenant: Tenant, store: storage_backends.Storage, older_than: timedelta) -> list[str]:
    """Delete objects no document row references and older than `older_than` (a write whose row never
    committed); returns the keys removed."""
    session = databases.session(tenant)
    cutoff = datetime.now(timezone.utc) - older_than
    removed = []
    try:
        with tenant_context(TenantContext(tenant.id, "document-sweep", "removing unreferenced objects")):
            with session.begin():
                referenced = set(session.scalars(select(Document.storage_key)))
            for item in store.objects():
                if item.key.startswith("audit/"):
                    continue  # the audit trail's checkpoint copies (app/audit/seal.py), no document's
                if item.key not in referenced and item.last_modified < cutoff:
                    store.delete(item.key)
                    removed.append(item.key)
    finally:
        session.close()
    observability.event("documents.swept", force=tenant.slug, removed=len(removed),
                        older_than_hours=older_than / timedelta(hours=1))
    return removed
