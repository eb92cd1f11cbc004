"""/api/v1/documents: upload (multipart), list by record, download streamed or by a short-lived URL."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Request, Response, g, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage, MultiDict

from app.auth.guard import current_principal, requires
from app.auth.permissions import POLE_READ, POLE_WRITE
from app.db import attachable_types
from app.documents import service, storage
from app.inbound import upload_limit
from app.schemas import Classification, StrictSchema
from app.sharing.schemas import RecordReadSchema
from app.sharing.visibility import document_grant

MULTIPART = "form_and_files"


class DocumentsBlueprint(Blueprint):
    """Reads a multipart upload's fields and file as one set of arguments, so the document describes one
    multipart/form-data request body (not OpenAPI 2's formData parameters)."""

    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             MULTIPART: "multipart/form-data"}


@DocumentsBlueprint.ARGUMENTS_PARSER.location_loader(MULTIPART)
def _form_and_files(request: Request, schema: Schema) -> Any:
    data: MultiDict[str, Any] = MultiDict(request.form)
    data.update(request.files)
    return DocumentsBlueprint.ARGUMENTS_PARSER._makeproxy(data, schema)


blp = DocumentsBlueprint("documents", __name__, url_prefix="/api/v1/documents", description="Documents and evidence")


def _a_file(value: Any) -> bool:
    if not isinstance(value, FileStorage) or not value.filename:
        raise ValidationError("a file is required")
    return True


class UploadSchema(StrictSchema):
    """A document to attach to a record: the file and what it belongs to (multipart/form-data)."""

    file = Upload(required=True, validate=_a_file, metadata={"description": "The file itself; its name and media "
                                                                             "type are kept"})
    record_type = fields.String(required=True, validate=validate.OneOf(attachable_types()),
                                metadata={"description": "The kind of record it is attached to",
                                          "example": "person"})
    record_id = fields.UUID(required=True, metadata={"description": "The record it is attached to"})
    classification = Classification(load_default="OFFICIAL", metadata={"description": "OFFICIAL or "
                                                                                       "OFFICIAL-SENSITIVE"})
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"),
                           metadata={"description": "Your checksum of the file: verified on arrival"})


class DocumentSchema(RecordReadSchema):
    """A document's metadata; another force's is masked by the document profile of its agreement."""

    shared_as = "document"

    def grant_type(self, record: Any) -> str:
        return document_grant(record.record_type)

    id = fields.UUID()
    record_type = fields.String()
    record_id = fields.UUID()
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    classification = fields.String()
    created_at = fields.DateTime()
    created_by = fields.String()


class DocumentListSchema(Schema):
    items = fields.List(fields.Nested(DocumentSchema))


class DocumentQuerySchema(StrictSchema):
    record_type = fields.String(required=True, validate=validate.OneOf(attachable_types()))
    record_id = fields.UUID(required=True)


class DownloadUrlSchema(Schema):
    url = fields.String(metadata={"description": "Valid for five minutes"})
    expires_in = fields.Integer()


@blp.route("")
class Documents(MethodView):
    @requires(POLE_READ)
    @blp.arguments(DocumentQuerySchema, location="query")
    @blp.response(200, DocumentListSchema)
    def get(self, query):
        """The documents attached to a record."""
        return {"items": service.find(g.session, current_principal(), query["record_type"], query["record_id"],
                                      sessions=g.sessions)}

    @upload_limit(service.MAX_BYTES, "document")
    @requires(POLE_WRITE)
    @blp.arguments(UploadSchema, location=MULTIPART)
    @blp.response(201, DocumentSchema)
    def post(self, form):
        """Upload a document (multipart/form-data): stored once under its SHA-256 in your force's storage."""
        upload = form.pop("file")
        data = {**form, "filename": upload.filename[:255],
                "media_type": upload.mimetype or "application/octet-stream"}
        document = service.upload(g.session, current_principal(), storage.of_acting_force(), data, upload.read())
        return document, 201, {"Location": url_for("documents.Content", document_id=document.id)}


@blp.route("/<uuid:document_id>/content")
class Content(MethodView):
    @requires(POLE_READ)
    @blp.response(200)
    def get(self, document_id: uuid.UUID):
        """The document itself, streamed through the API (audited)."""
        document, data = service.content(g.session, current_principal(), storage.of_force, document_id,
                                         sessions=g.sessions)
        return Response(data, mimetype=document.media_type, headers={
            "Content-Disposition": storage.attachment(service.released_filename(current_principal(), document)),
            "ETag": f'"{document.sha256}"'})


@blp.route("/<uuid:document_id>/download-url")
class DownloadUrl(MethodView):
    @requires(POLE_READ)
    @blp.response(200, DownloadUrlSchema)
    def get(self, document_id: uuid.UUID):
        """A short-lived URL straight to storage (S3); for the filesystem backend, the streaming URL."""
        document, url = service.download_url(g.session, current_principal(), storage.of_force, document_id,
                                             sessions=g.sessions)
        return {"url": url or url_for("documents.Content", document_id=document.id),
                "expires_in": service.URL_SECONDS if url else 0}


class PresignRequestSchema(StrictSchema):
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    media_type = fields.String(required=True, validate=validate.Regexp(
        service.MEDIA_TYPE, error="must be a media type such as application/pdf"))


class PresignedSchema(Schema):
    key = fields.String()
    url = fields.String(metadata={"description": "PUT the file here with its Content-Type, within five minutes"})
    expires_in = fields.Integer()


class CompleteUploadSchema(DocumentQuerySchema):
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    media_type = fields.String(required=True, validate=validate.Regexp(
        service.MEDIA_TYPE, error="must be a media type such as application/pdf"))
    classification = Classification(load_default="OFFICIAL")


@blp.route("/uploads")
class Uploads(MethodView):
    @requires(POLE_WRITE)
    @blp.arguments(PresignRequestSchema)
    @blp.response(201, PresignedSchema)
    def post(self, data):
        """For a large file: a short-lived URL to PUT it straight into storage (S3 only)."""
        key, url = service.presigned_upload(storage.of_acting_force(), data["sha256"], data["media_type"])
        return {"key": key, "url": url, "expires_in": service.URL_SECONDS}, 201


@blp.route("/uploads/complete")
class CompleteUpload(MethodView):
    @requires(POLE_WRITE)
    @blp.arguments(CompleteUploadSchema)
    @blp.response(201, DocumentSchema)
    def post(self, data):
        """Record a document uploaded by URL, once its bytes are there and match the checksum."""
        return service.complete_upload(g.session, current_principal(), storage.of_acting_force(), data), 201
