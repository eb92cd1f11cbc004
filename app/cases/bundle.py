"""A case file's submissions: the bundle each one froze (case.json, the MG forms' PDF, the documents) is
built here, and listed, described and downloaded (audited as a disclosure). Submissions stay with their own
force: another force that an agreement shares the case with sees none of them (RLS has no sharing policy
for case_submission), so for it they are not found."""
from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from typing import Any, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.cases import pdf
from app.cases.models import CaseFile, Submission
from app.db import transaction
from app.documents import storage as storage_backends
from app.documents.models import Document
from app.errors import NotFound
from app.pole import records
from app.tenancy.config import CASE_FILE_FORMS

RECORD_TYPE = "case"
URL_SECONDS = 300
SCHEMA_VERSION = 1


def snapshot_of(case: CaseFile, stage: str) -> dict[str, Any]:
    """What is sent and frozen: the bundle's case.json (docs/case-bundle.schema.json)."""
    return {"schema_version": SCHEMA_VERSION, "case_id": str(case.id), "version": case.version, "stage": stage,
            "classification": case.classification, "anticipated_plea": case.anticipated_plea,
            "urn": urn_of(case.forms), "forms": case.forms}


def urn_of(forms: dict[str, Any]) -> str:
    mg1 = forms.get("MG1")
    return str(mg1.get("urn") or "") if isinstance(mg1, dict) else ""


def render_pdf(snapshot: dict[str, Any]) -> bytes:
    """The MG forms of a snapshot as a PDF, marked with the case's classification."""
    return pdf.render(snapshot["forms"], urn=snapshot["urn"], marking=snapshot["classification"],
                      version=snapshot["version"], order=CASE_FILE_FORMS)


def build(snapshot: dict[str, Any], documents: Sequence[Document], store: storage_backends.Storage) -> bytes:
    """The bundle: case.json, mg-forms.pdf and each document under documents/, as one zip."""
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("case.json", json.dumps(snapshot, indent=1, sort_keys=True, ensure_ascii=False))
        archive.writestr("mg-forms.pdf", render_pdf(snapshot))
        for document in documents:
            archive.writestr(f"documents/{document.sha256[:12]}-{document.filename}", store.get(document.storage_key))
    return bundle.getvalue()


def _own_case(session: Session, principal: Principal, case_id: uuid.UUID) -> CaseFile:
    """The case file, if it is the acting force's own: another force's answers as an unknown one."""
    return records.load(session, CaseFile, "case file", case_id, own=True)


def _load(session: Session, principal: Principal, case_id: uuid.UUID, submission_id: uuid.UUID) -> Submission:
    _own_case(session, principal, case_id)
    submission = session.scalar(select(Submission).where(Submission.case_id == case_id,
                                                         Submission.id == submission_id))
    if submission is None:
        raise NotFound("No such submission of this case file")
    return submission


def find(session: Session, principal: Principal, case_id: uuid.UUID) -> list[Submission]:
    """The case file's submissions, newest first (audited as a consultation of the case)."""
    with transaction(session):
        case = _own_case(session, principal, case_id)
        items = list(session.scalars(select(Submission).where(Submission.case_id == case.id)
                                     .order_by(Submission.submitted_at.desc(), Submission.id)))
        audit_service.record(session, principal, "consultation", RECORD_TYPE, case.id, {"submissions": len(items)})
    return items


def get(session: Session, principal: Principal, case_id: uuid.UUID, submission_id: uuid.UUID) -> Submission:
    """One submission of the case file (audited as a consultation of the case)."""
    with transaction(session):
        submission = _load(session, principal, case_id, submission_id)
        audit_service.record(session, principal, "consultation", RECORD_TYPE, case_id,
                             {"submission": str(submission.id)})
    return submission


def filename(submission: Submission) -> str:
    urn = urn_of(submission.snapshot.get("forms", {})) or str(submission.case_id)
    return f"case-{urn}-v{submission.case_version}-{submission.stage}.zip"


def content(session: Session, principal: Principal, stores: Callable[[uuid.UUID], storage_backends.Storage],
            case_id: uuid.UUID, submission_id: uuid.UUID) -> tuple[Submission, bytes]:
    """The bundle's bytes, checked against their SHA-256; the download is audited as a disclosure."""
    with transaction(session):
        submission = _load(session, principal, case_id, submission_id)
        data = stores(submission.tenant_id).get(submission.bundle_key)
        if hashlib.sha256(data).hexdigest() != submission.bundle_sha256:
            raise RuntimeError(f"stored bundle {submission.bundle_key} does not match its checksum")
        audit_service.record(session, principal, "disclosure", RECORD_TYPE, case_id,
                             {"submission": str(submission.id), "bundle": submission.bundle_sha256, "via": "stream"})
    return submission, data


def download_url(session: Session, principal: Principal, stores: Callable[[uuid.UUID], storage_backends.Storage],
                 case_id: uuid.UUID, submission_id: uuid.UUID) -> tuple[Submission, str | None]:
    """A short-lived URL to the bundle in storage (S3; None for the filesystem), audited as a disclosure."""
    with transaction(session):
        submission = _load(session, principal, case_id, submission_id)
        url = stores(submission.tenant_id).download_url(submission.bundle_key, filename(submission), URL_SECONDS)
        audit_service.record(session, principal, "disclosure", RECORD_TYPE, case_id,
                             {"submission": str(submission.id), "bundle": submission.bundle_sha256,
                              "via": "presigned URL" if url else "stream"})
    return submission, url
