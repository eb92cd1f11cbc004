"""Case files: built from an investigation (and the custody record of each defendant) so that an officer
never types a fact Concord already holds; readiness per stage under rules that are data; submissions that
freeze a version into a bundle in object storage; court results recorded back onto the crime.
"""
from __future__ import annotations

import copy
import hashlib
import uuid
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.cases import bundle as bundles
from app.cases.models import CaseFile, CourtResult, Submission
from app.custody.models import CustodyEntry, CustodyRecord
from app.db import transaction
from app.documents import storage as storage_backends
from app.documents.models import Document
from app.errors import Conflict, InvalidInput
from app.investigations import service as investigations
from app.investigations.models import Investigation
from app.investigations.people import people_of
from app.pole import records
from app.pole.models import Link, Location
from app.sharing import visibility as sharing
from app.tenancy.config import CASE_FILE_FORMS, CASE_FILE_STAGES

RECORD_TYPE = "case"
STAGES = CASE_FILE_STAGES
FORMS = CASE_FILE_FORMS  # a force's case_file_rules are checked against these when its file loads

# What each stage needs under the National File Standard: staged and proportionate. Each rule names a
# form field (dotted), its severity, whether it blocks the stage, and the pleas it applies to. A force
# adjusts these in its config (`reference_lists.case_file_rules`, same shape).
NATIONAL_RULES: dict[str, list[dict[str, Any]]] = {
    "charging_decision": [
        {"item": "MG3.summary", "label": "MG3 report to CPS: summary of the evidence", "severity": "required",
         "blocks": True},
        {"item": "MG1.defendants", "label": "MG1 defendant details", "severity": "required", "blocks": True},
        {"item": "MG4.charges", "label": "Proposed charges", "severity": "required", "blocks": True},
        {"item": "MG6.officer_in_charge", "label": "MG6 officer in charge", "severity": "advisory", "blocks": False},
    ],
    "first_hearing": [
        {"item": "MG1.defendants", "label": "MG1 defendant details", "severity": "required", "blocks": True},
        {"item": "MG1.anticipated_plea", "label": "Anticipated plea (GAP or NGAP)", "severity": "required",
         "blocks": True},
        {"item": "MG4.charges", "label": "MG4 charges", "severity": "required", "blocks": True},
        {"item": "MG5.summary", "label": "MG5 case summary", "severity": "required", "blocks": True},
        {"item": "MG9.witnesses", "label": "MG9 witness list", "severity": "required", "blocks": True,
         "pleas": ["NGAP"]},
        {"item": "MG11.statements", "label": "MG11 key witness statements", "severity": "required", "blocks": True,
         "pleas": ["NGAP"]},
        {"item": "MG12.exhibits", "label": "MG12 exhibit list", "severity": "required", "blocks": False,
         "pleas": ["NGAP"]},
        {"item": "MG6C.items", "label": "MG6C non-sensitive unused material schedule", "severity": "required",
         "blocks": True, "pleas": ["NGAP"]},
        {"item": "MG6D.items", "label": "MG6D sensitive unused material schedule", "severity": "advisory",
         "blocks": False, "pleas": ["NGAP"]},
        {"item": "MG1.solicitor_gender", "label": "Defence solicitor's gender", "severity": "immaterial",
         "blocks": False},
    ],
}


def _load(session: Session, case_id: uuid.UUID, for_update: bool = False) -> CaseFile:
    return records.load(session, CaseFile, "case file", case_id, for_update)


def build(session: Session, principal: Principal, investigation_id: uuid.UUID) -> CaseFile:
    """A case file pre-filled from the investigation, its people, custody records and documents."""
    with transaction(session):
        investigation = records.require_own(session, Investigation, "investigation", investigation_id,
                                            "investigation_id")
        if session.scalar(select(CaseFile.id).where(CaseFile.investigation_id == investigation.id)):
            raise Conflict("This investigation already has a case file", {"investigation_id": ["has a case file"]})
        case = CaseFile(tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1, investigation_id=investigation.id,
                        forms=_prefill(session, investigation), classification=investigation.classification,
                        created_by=principal.user_id, updated_by=principal.user_id)
        session.add(case)
        session.flush()
        audit_service.record(session, principal, "collection", RECORD_TYPE, case.id,
                             {"investigation": investigation.reference})
    return case


def _prefill(session: Session, investigation: Investigation) -> dict[str, Any]:
    people = people_of(session, investigation)
    entries = investigations.entries_of(session, investigation)
    defendants, charges = [], []
    for role, person in people:
        if role != "suspect":
            continue
        custody = session.scalar(select(CustodyRecord).where(CustodyRecord.person_id == person.id)
                                 .order_by(CustodyRecord.arrived_at.desc()).limit(1))
        defendants.append({
            "person_id": str(person.id), "surname": person.surname, "forenames": person.forenames,
            "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
            "pnc_id": person.pnc_id, "address": _address(session, person.id),
            "custody_number": custody.custody_number if custody else None,
            "arrested_at": custody.arrested_at.isoformat() if custody else None,
            "custody_outcome": custody.outcome if custody else None})
        if custody is not None:
            charged = session.scalars(select(CustodyEntry).where(CustodyEntry.record_id == custody.id,
                                                                 CustodyEntry.kind == "charge")).all()
            for charge in charged:
                for wording in charge.data.get("offences", []):
                    charges.append({"person_id": str(person.id), "wording": wording, "code": None,
                                    "source": f"custody {custody.custody_number}"})
            if not charged:
                charges += [{"person_id": str(person.id), "wording": o["wording"], "code": o["code"],
                             "source": f"custody {custody.custody_number}"} for o in custody.offences]
    for entry in entries:
        if entry.kind in ("charge", "summons"):
            charges.append({"person_id": str(entry.person_id), "wording": entry.text,
                            "code": investigation.primary_classification, "source": entry.kind})
    witnesses = [{"person_id": str(p.id), "name": f"{p.forenames} {p.surname}", "role": role,
                  "address": _address(session, p.id)}
                 for role, p in people if role in ("victim", "witness", "reporting_person")]
    documents = session.scalars(select(Document).where(Document.record_type == "investigation",
                                                       Document.record_id == investigation.id)).all()
    exhibits = [{"document_id": str(d.id), "reference": f"EX{i + 1}", "description": d.filename}
                for i, d in enumerate(documents)]
    return {
        "MG1": {"urn": investigation.reference, "defendants": defendants, "anticipated_plea": None,
                "officer_in_charge": investigation.officer_in_charge, "solicitor_gender": None},
        "MG3": {"summary": None, "offence": investigation.primary_classification},
        "MG4": {"charges": charges},
        "MG5": {"summary": None, "incident": investigation.summary},
        "MG6": {"officer_in_charge": investigation.officer_in_charge, "reference": investigation.reference},
        "MG6C": {"items": [{"description": e.text, "source": "investigation log"} for e in entries
                           if e.kind == "log"]},
        "MG6D": {"items": []},
        "MG9": {"witnesses": witnesses},
        "MG11": {"statements": [{"person_id": w["person_id"], "document_id": None} for w in witnesses]},
        "MG12": {"exhibits": exhibits},
    }


def _address(session: Session, person_id: uuid.UUID) -> str | None:
    location = session.scalar(
        select(Location).join(Link, (Link.tenant_id == Location.tenant_id) & (Link.to_id == Location.id))
        .where(Link.from_id == person_id, Link.link_type == "resides_at", Link.valid_to.is_(None))
        .order_by(Link.valid_from.desc().nulls_last()).limit(1))
    if location is None:
        return None
    return ", ".join([*location.address_lines, *(x for x in (location.town, location.postcode) if x)])


def update(session: Session, principal: Principal, case_id: uuid.UUID, expected: int | None,
           data: dict[str, Any]) -> CaseFile:
    """Set the plea and the facts only the officer knows (summaries, statements, schedules): a new version."""
    with transaction(session):
        case = _load(session, case_id, for_update=True)
        case.check_version(expected)
        forms = copy.deepcopy(case.forms)
        for form, fields in data.get("forms", {}).items():
            if form not in FORMS:
                raise InvalidInput.field(f"forms.{form}", f"not one of {', '.join(FORMS)}")
            forms[form].update(fields)
        if "anticipated_plea" in data:
            case.anticipated_plea = data["anticipated_plea"]
            forms["MG1"]["anticipated_plea"] = data["anticipated_plea"]
        case.forms = forms
        case.touch(principal)
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, case.id,
                             {"forms": sorted(data.get("forms", {})), "plea": data.get("anticipated_plea")})
    return case


def rules_for(principal: Principal, stage: str) -> list[dict[str, Any]]:
    configured = principal.tenant.settings.get("reference_lists", {}).get("case_file_rules", {})
    return configured.get(stage, NATIONAL_RULES[stage])


def _value(forms: dict[str, Any], item: str) -> Any:
    form, field = item.split(".", 1)
    return forms.get(form, {}).get(field)


def _missing(value: Any) -> bool:
    if value in (None, "", []):
        return True
    if isinstance(value, list) and all(isinstance(v, dict) and "document_id" in v and v["document_id"] is None
                                       for v in value):
        return True  # statements listed but none provided
    return False


def readiness(case: CaseFile, principal: Principal, stage: str) -> dict[str, Any]:
    """What is missing for the stage, each with its severity and whether it blocks; nothing immaterial blocks."""
    plea = case.anticipated_plea
    missing = []
    for rule in rules_for(principal, stage):
        if rule.get("pleas") and plea not in rule["pleas"]:
            continue
        if _missing(_value(case.forms, rule["item"])):
            missing.append({"item": rule["item"], "label": rule["label"], "severity": rule["severity"],
                            "blocks": bool(rule["blocks"]) and rule["severity"] != "immaterial"})
    return {"stage": stage, "ready": not any(m["blocks"] for m in missing), "missing": missing,
            "case_version": case.version}


def check(session: Session, principal: Principal, case_id: uuid.UUID, stage: str) -> dict[str, Any]:
    with transaction(session):
        case = _load(session, case_id)
        audit_service.record(session, principal, "consultation", RECORD_TYPE, case.id, {"readiness": stage})
        sharing.record_shared_reads(session, principal, RECORD_TYPE, [(case.tenant_id, case.id)])
    return readiness(case, principal, stage)


def get(session: Session, principal: Principal, case_id: uuid.UUID) -> CaseFile:
    with transaction(session):
        case = _load(session, case_id)
        audit_service.record(session, principal, "consultation", RECORD_TYPE, case.id)
        sharing.record_shared_reads(session, principal, RECORD_TYPE, [(case.tenant_id, case.id)])
        # the forms name its people (defendants, witnesses): logged for the provider with it
        sharing.record_shared_reads(session, principal, "person",
                                    [(case.tenant_id, person_id) for person_id in _people_in(case.forms)])
    return case


def _people_in(value: Any) -> list[uuid.UUID]:
    """Every person a form names (its `person_id` values), once each, in the order they appear."""
    found: dict[uuid.UUID, None] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "person_id" and isinstance(item, str):
                found[uuid.UUID(item)] = None
            else:
                found.update(dict.fromkeys(_people_in(item)))
    elif isinstance(value, list):
        for item in value:
            found.update(dict.fromkeys(_people_in(item)))
    return list(found)


def submit(session: Session, principal: Principal, store: storage_backends.Storage, case_id: uuid.UUID,
           stage: str) -> Submission:
    """Render the file (JSON and a PDF of the MG forms) and its documents into a bundle in object storage,
    record what was sent, and freeze that version (later changes make a new version)."""
    with transaction(session):
        case = _load(session, case_id, for_update=True)
        state = readiness(case, principal, stage)
        blocking = [m["label"] for m in state["missing"] if m["blocks"]]
        if blocking:
            raise Conflict(f"The file is not ready for {stage.replace('_', ' ')}: {'; '.join(blocking)}",
                           {"stage": blocking})
        snapshot = bundles.snapshot_of(case, stage)
        documents = session.scalars(select(Document).where(Document.record_type == "investigation",
                                                           Document.record_id == case.investigation_id)).all()
        data = bundles.build(snapshot, documents, store)
        digest = hashlib.sha256(data).hexdigest()
        key = f"sha256/{digest[:2]}/{digest}"
        store.put(key, data, "application/zip")  # the object first, then the row
        submission = Submission(tenant_id=case.tenant_id, id=uuid.uuid4(), case_id=case.id, case_version=case.version,
                                stage=stage, bundle_key=key, bundle_sha256=digest, snapshot=snapshot,
                                submitted_by=principal.user_id)
        session.add(submission)
        session.flush()
        audit_service.record(session, principal, "disclosure", RECORD_TYPE, case.id,
                             {"stage": stage, "version": case.version, "bundle": digest, "to": "CPS"})
    return submission


def record_result(session: Session, principal: Principal, case_id: uuid.UUID, data: dict[str, Any]) -> CourtResult:
    """A court result onto the case, and onto the crime's record as a log entry."""
    with transaction(session):
        case = _load(session, case_id, for_update=True)
        defendants = {d["person_id"] for d in case.forms["MG1"]["defendants"]}
        if str(data["person_id"]) not in defendants:
            raise InvalidInput.field("person_id", "a defendant of this case")
        result = CourtResult(tenant_id=case.tenant_id, id=uuid.uuid4(), case_id=case.id, person_id=data["person_id"],
                             result=data["result"], sentence=data.get("sentence"), decided_on=data["decided_on"],
                             recorded_by=principal.user_id)
        session.add(result)
        investigations.add_log(
            session, principal, investigation_id=case.investigation_id, person_id=data["person_id"],
            text=f"Court result {data['decided_on'].isoformat()}: {data['result'].replace('_', ' ')}"
                 + (f", {data['sentence']}" if data.get("sentence") else ""),
            source_type=RECORD_TYPE, source_id=case.id)
        audit_service.record(session, principal, "alteration", RECORD_TYPE, case.id, {"court_result": data["result"]})
    return result


# A case file's progress, from its own force's submissions and court results (another force's stay with it).
STATUSES = ("building", "submitted", "resulted")


def find(session: Session, principal: Principal, *, page: int, page_size: int, urn: str | None = None,
         reference: str | None = None, status: str | None = None,
         investigation_id: uuid.UUID | None = None) -> tuple[list[CaseFile], int]:
    """One page of the case files the force can see, newest first, each audited (logged if shared)."""
    stmt = select(CaseFile)
    if urn is not None:
        stmt = stmt.where(CaseFile.forms["MG1"]["urn"].astext == urn)
        # the URN is in the forms: a force masking them is left out, so the filter cannot reveal it
        tenants = sharing.tenants_filterable(principal, RECORD_TYPE, ["forms"])
        if tenants is not None:
            stmt = stmt.where(CaseFile.tenant_id.in_(tenants))
    if reference is not None:
        stmt = stmt.where(CaseFile.investigation_id.in_(select(Investigation.id)
                                                        .where(Investigation.reference == reference)))
    if investigation_id is not None:
        stmt = stmt.where(CaseFile.investigation_id == investigation_id)
    if status is not None:
        stmt = stmt.where(CaseFile.tenant_id == func.app_current_tenant(), _status_is(status))
    stmt = stmt.order_by(CaseFile.created_at.desc(), CaseFile.id)
    with transaction(session):
        cases, total = records.find(session, principal, RECORD_TYPE, stmt, page, page_size)
        # their forms name their people (defendants, witnesses): logged for the provider with them, as in get
        named = [(case.tenant_id, person_id) for case in cases for person_id in _people_in(case.forms)]
        sharing.record_shared_reads(session, principal, "person", named)
    return cases, total


def _status_is(status: str) -> Any:
    """resulted: a court result recorded; submitted: submitted, no court result yet; building: neither."""
    submitted = exists().where(Submission.tenant_id == CaseFile.tenant_id, Submission.case_id == CaseFile.id)
    resulted = exists().where(CourtResult.tenant_id == CaseFile.tenant_id, CourtResult.case_id == CaseFile.id)
    return {"building": ~submitted & ~resulted, "submitted": submitted & ~resulted, "resulted": resulted}[status]
