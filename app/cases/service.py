"""Case files: built from an investigation (and the custody record of each defendant) so that an officer
never types a fact Concord already holds; readiness per stage under rules that are data; submissions that
freeze a version into a bundle in object storage; court results recorded back onto the crime.
"""
from __future__ import annotations

import copy
import hashlib
import uuid
from datetime import date
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.cases import bundle as bundles
from app.cases import forms as case_forms
from app.cases import special_measures
from app.cases.models import CaseFile, CourtResult, Submission
from app.custody.models import CustodyEntry, CustodyInvestigation, CustodyRecord
from app.db import Sessions, next_serial, transaction
from app.documents import storage as storage_backends
from app.documents.models import Document
from app.errors import Conflict, InvalidInput
from app.investigations import service as investigations
from app.investigations.models import Investigation, VictimPreference
from app.investigations.people import people_of
from app.pole import records
from app.pole.models import Link, Location
from app.sharing import lists as shared_lists
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
        {"item": "MG4.charges.cjs_code", "label": "CJS offence code of each proposed charge", "severity": "advisory",
         "blocks": False},
        {"item": "MG6.officer_in_charge", "label": "MG6 officer in charge", "severity": "advisory", "blocks": False},
    ],
    "first_hearing": [
        {"item": "MG1.defendants", "label": "MG1 defendant details", "severity": "required", "blocks": True},
        {"item": "MG1.anticipated_plea", "label": "Anticipated plea (GAP or NGAP)", "severity": "required",
         "blocks": True},
        {"item": "MG4.charges", "label": "MG4 charges", "severity": "required", "blocks": True},
        {"item": "MG4.charges.cjs_code", "label": "MG4 CJS offence code of each charge (none on the offence list "
         "matched its wording)", "severity": "required", "blocks": True},
        {"item": "MG5.summary", "label": "MG5 case summary", "severity": "required", "blocks": True},
        # a defendant remanded in custody: the remand facts from custody, and the grounds for opposing bail
        {"item": "MG7.remanded.charged_at", "label": "MG7 time of charge of each remanded defendant (from custody)",
         "severity": "required", "blocks": True},
        {"item": "MG7.remanded.remanded_at", "label": "MG7 time of remand of each remanded defendant (from custody)",
         "severity": "required", "blocks": True},
        {"item": "MG7.grounds", "label": "MG7 grounds for opposing bail", "severity": "required", "blocks": True,
         "when": "MG7.remanded"},
        # a trial is fixed at the first hearing of a not-guilty plea: the witnesses' dates to avoid
        {"item": "MG10.dates", "label": "MG10 witness non-availability", "severity": "required", "blocks": False,
         "pleas": ["NGAP"], "when": "MG9.witnesses"},
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

# CJS offence codes (the Criminal Justice System standard offence list) with their charge wording: a
# force's `reference_lists.cjs_offences` (same shape) replaces this list.
NATIONAL_CJS_OFFENCES: list[dict[str, str]] = [
    {"code": "TH68010", "title": "Theft from a shop",
     "wording": "Stole goods to the value specified belonging to the shop named, contrary to section 1(1) and 7 "
                "of the Theft Act 1968."},
    {"code": "TH68001", "title": "Theft",
     "wording": "Stole property belonging to another, contrary to sections 1(1) and 7 of the Theft Act 1968."},
    {"code": "OF61016", "title": "Assault by beating",
     "wording": "Assaulted a person by beating them, contrary to section 39 of the Criminal Justice Act 1988."},
    {"code": "OF61131", "title": "Assault occasioning actual bodily harm",
     "wording": "Assaulted a person thereby occasioning them actual bodily harm, contrary to section 47 of the "
                "Offences Against the Person Act 1861."},
    {"code": "CD71001", "title": "Criminal damage",
     "wording": "Without lawful excuse destroyed or damaged property belonging to another, intending to destroy "
                "or damage such property or being reckless as to whether it would be, contrary to sections 1(1) "
                "and 4 of the Criminal Damage Act 1971."},
    {"code": "TH68023", "title": "Burglary",
     "wording": "Entered a building as a trespasser and stole therein, contrary to section 9(1)(b) of the "
                "Theft Act 1968."},
]


WITNESS_ROLES = ("victim", "witness", "reporting_person")  # the prosecution's witnesses (MG2, MG9, MG10, MG11)


def _load(session: Session, case_id: uuid.UUID, for_update: bool = False) -> CaseFile:
    return records.load(session, CaseFile, "case file", case_id, for_update)


def build(session: Session, principal: Principal, investigation_id: uuid.UUID) -> CaseFile:
    """A case file pre-filled from the investigation, its people, custody records and documents."""
    with transaction(session):
        investigation = records.require_own(session, Investigation, "investigation", investigation_id,
                                            "investigation_id")
        if session.scalar(select(CaseFile.id).where(CaseFile.investigation_id == investigation.id)):
            raise Conflict("This investigation already has a case file", {"investigation_id": ["has a case file"]})
        facts = _prefill(session, principal, investigation)
        held = _held(facts, urn=_next_urn(session, principal))
        forms = {form: {**held.get(form, {}), **facts.get(form, {})} for form in FORMS}
        case = CaseFile(tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1, investigation_id=investigation.id,
                        forms=forms, classification=investigation.classification,
                        created_by=principal.user_id, updated_by=principal.user_id)
        session.add(case)
        session.flush()
        audit_service.record(session, principal, "collection", RECORD_TYPE, case.id,
                             {"investigation": investigation.reference})
    return case


def _next_urn(session: Session, principal: Principal) -> str:
    """The CPS URN: force code, unit, serial and year, from a per-force counter (gap-free, like crime refs)."""
    year = date.today().year
    serial = next_serial(session, "case_urn_counter", principal.tenant.id, year=year)
    urn = principal.tenant.settings.get("case_urn") or {}
    fmt = urn.get("format", "{force_code}{unit}{serial:05d}{yy}")
    return fmt.format(force_code=principal.tenant.force_code, unit=urn.get("unit", "CJ"), serial=serial,
                      yy=f"{year % 100:02d}", yyyy=f"{year:04d}")


def _held(facts: dict[str, Any], *, urn: str) -> dict[str, Any]:
    """The fields only the case file holds, as a new file starts them (the officer completes them)."""
    return {
        "MG1": {"urn": urn, "anticipated_plea": None, "solicitor_gender": None},
        "MG3": {"summary": None}, "MG3A": {"summary": None}, "MG5": {"summary": None},
        "MG6C": {"items": [{"description": e["description"], "source": e["source"]}
                           for e in facts.get("MG6C", {}).pop("suggested", [])]},
        "MG6D": {"items": []},
        "MG11": {"statements": [{"person_id": w["person_id"], "document_id": None}
                                for w in facts["MG9"]["witnesses"]]},
    }


def _prefill(session: Session, principal: Principal, investigation: Investigation) -> dict[str, Any]:
    settings = principal.tenant.settings
    today = principal.tenant.today()
    people = people_of(session, investigation)
    entries = investigations.entries_of(session, investigation)
    defendants: list[dict[str, Any]] = []
    charges: list[dict[str, Any]] = []
    custody_charges: dict[uuid.UUID, tuple[Any, CustodyRecord, CustodyEntry]] = {}
    released: dict[str, tuple[CustodyRecord, list[CustodyEntry]]] = {}  # each defendant's custody and charges
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
                                                                 CustodyEntry.kind == "charge")
                                      .order_by(CustodyEntry.occurred_at)).all()
            released[str(person.id)] = (custody, list(charged))
            for charge in charged:
                custody_charges[charge.id] = (person, custody, charge)
            if not charged:
                charges += [_charge_row(settings, person.id, o["wording"], f"custody {custody.custody_number}",
                                        o.get("code"), f"{custody.id}:{i}") for i, o in enumerate(custody.offences)]
    links = session.scalars(select(CustodyInvestigation).where(
        CustodyInvestigation.investigation_id == investigation.id,
        CustodyInvestigation.investigation_charge_id.is_not(None))).all()
    linked = {link.investigation_charge_id: link.charge_entry_id for link in links}
    passed_on = {link.custody_record_id for link in links}  # their charge is the investigation's, recorded once
    for entry in entries:
        if entry.kind not in ("charge", "summons"):
            continue
        custody_entry = linked.get(entry.id)
        source = custody_charges.pop(custody_entry, None) if custody_entry is not None else None
        if source is not None:  # charged in custody: the custody entry's offences, once, as this charge
            charges += [_charge_row(settings, entry.person_id, wording, f"custody {source[1].custody_number}",
                                    investigation.primary_classification, f"{entry.id}:{i}")
                        for i, wording in enumerate(source[2].data.get("offences", []))]
        else:
            charges.append(_charge_row(settings, entry.person_id, entry.text, entry.kind,
                                       investigation.primary_classification, f"{entry.id}:0"))
    for person, custody, charge in custody_charges.values():  # charged in custody, not (yet) on the crime
        if custody.id in passed_on:
            continue
        charges += [_charge_row(settings, person.id, wording, f"custody {custody.custody_number}", None,
                                f"{charge.id}:{i}") for i, wording in enumerate(charge.data.get("offences", []))]
    witnesses = [{"person_id": str(p.id), "name": f"{p.forenames} {p.surname}", "role": role,
                  "address": _address(session, p.id)}
                 for role, p in people if role in WITNESS_ROLES]
    documents = session.scalars(select(Document).where(Document.record_type == "investigation",
                                                       Document.record_id == investigation.id)).all()
    exhibits = [{"document_id": str(d.id), "reference": f"EX{i + 1}", "description": d.filename}
                for i, d in enumerate(documents)]
    enhanced = set(session.scalars(select(VictimPreference.person_id).where(
        VictimPreference.investigation_id == investigation.id, VictimPreference.enhanced.is_(True))))
    eligible = {str(p.id): why for role, p in people if role in WITNESS_ROLES
                and (why := special_measures.eligibility(date_of_birth=p.partial_date_of_birth, on=today,
                                                         assessed_vulnerable=p.id in enhanced))}
    oic = investigation.officer_in_charge
    return {
        "MG1": {"defendants": defendants, "officer_in_charge": oic, "crime_reference": investigation.reference},
        "MG2": {"witnesses": [{"person_id": w["person_id"], "name": w["name"], "role": w["role"],
                               "eligibility": eligible[w["person_id"]]}
                              for w in witnesses if w["person_id"] in eligible]},
        "MG3": {"offence": investigation.primary_classification, "officer_in_charge": oic},
        "MG4": {"charges": charges},
        "MG4A": {"bailed": _released(defendants, released, "charged_bailed", "bailed_at")},
        "MG5": {"incident": investigation.summary, "officer_in_charge": oic},
        "MG6": {"officer_in_charge": oic, "reference": investigation.reference},
        "MG6A": {}, "MG6B": {},
        "MG6C": {"suggested": [{"description": e.text, "source": "investigation log"} for e in entries
                               if e.kind == "log"]},
        "MG6D": {}, "MG6E": {},
        "MG7": {"remanded": _released(defendants, released, "charged_remanded", "remanded_at")},
        "MG8": {},
        "MG9": {"witnesses": witnesses},
        "MG10": {"witnesses": [{"person_id": w["person_id"], "name": w["name"]} for w in witnesses]},
        "MG11": {"witnesses": [{"person_id": w["person_id"], "name": w["name"]} for w in witnesses]},
        "MG12": {"exhibits": exhibits},
    }


def _released(defendants: list[dict[str, Any]], custody: dict[str, tuple[CustodyRecord, list[CustodyEntry]]],
              outcome: str, released_as: str) -> list[dict[str, Any]]:
    """The defendants whose custody ended in the outcome, with its facts: charged when and with what, released
    (bailed, or remanded to court) when, as `released_as`."""
    rows = []
    for defendant in defendants:
        record, charges = custody.get(defendant["person_id"], (None, []))
        if record is None or record.outcome != outcome:
            continue
        rows.append({"person_id": defendant["person_id"],
                     "name": " ".join(x for x in (defendant["forenames"], defendant["surname"]) if x),
                     "custody_number": record.custody_number,
                     "charged_at": charges[0].occurred_at.isoformat() if charges else None,
                     "offences": "; ".join(o for c in charges for o in c.data.get("offences", [])) or None,
                     released_as: record.released_at.isoformat() if record.released_at else None})
    return rows


def _live(session: Session, principal: Principal, case: CaseFile) -> dict[str, Any]:
    """The forms as they read now: the facts drawn afresh from their records (so a correction there shows
    here), every other field as the file holds it. Another force's file reads as that force last saved it."""
    if case.tenant_id != principal.tenant.id:
        return case.forms
    investigation = session.scalar(select(Investigation).where(Investigation.id == case.investigation_id))
    if investigation is None:
        return case.forms
    facts = _prefill(session, principal, investigation)
    facts["MG6C"].pop("suggested", None)
    forms: dict[str, Any] = {}
    for form in FORMS:
        held = case.forms.get(form, {})
        forms[form] = {**{k: v for k, v in held.items() if k not in facts.get(form, {})}, **facts.get(form, {})}
    return forms


def _show(session: Session, principal: Principal, case: CaseFile) -> None:
    """Show the live forms on the case without writing them (a read stays a read)."""
    set_committed_value(case, "forms", _live(session, principal, case))


def _charge_row(settings: dict[str, Any], person_id: Any, wording: str, source: str,
                ho_classification: str | None, charge_id: str) -> dict[str, Any]:
    """One MG4 charge: its CJS offence code and statutory wording from the reference list where the
    recorded wording names one of its offences; the Home Office counting classification beside it."""
    offence = cjs_offence(settings, wording)
    return {"charge_id": charge_id, "person_id": str(person_id), "cjs_code": offence["code"] if offence else None,
            "wording": offence["wording"] if offence else wording, "recorded_as": wording,
            "ho_classification": ho_classification, "source": source}


def cjs_offence(settings: dict[str, Any], wording: str) -> dict[str, str] | None:
    """The reference list's offence whose title the recorded wording begins with (longest title first)."""
    offences = settings.get("reference_lists", {}).get("cjs_offences") or NATIONAL_CJS_OFFENCES
    text = " ".join(wording.lower().split())
    for offence in sorted(offences, key=lambda o: -len(o["title"])):
        if text.startswith(offence["title"].lower()):
            return offence
    return None


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
        forms = copy.deepcopy(_live(session, principal, case))
        for form, fields in data.get("forms", {}).items():
            if form not in FORMS:
                raise InvalidInput.field(f"forms.{form}", f"not one of {', '.join(FORMS)}")
            forms[form].update(case_forms.validated(form, forms.get(form, {}), fields))
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
    form, field = item.split(".")[:2]
    return forms.get(form, {}).get(field)


def _rows_lacking(forms: dict[str, Any], item: str) -> list[int]:
    """FORM.list.column: the (1-based) rows of the list whose column is empty."""
    column = item.split(".")[2]
    rows = _value(forms, item) or []
    return [n for n, row in enumerate(rows, 1) if isinstance(row, dict) and row.get(column) in (None, "")]


def _missing(value: Any, documents: set[str]) -> bool:
    """Unmet: empty; or rows that point at documents of which none exists in this case's investigation
    (or each is withdrawn)."""
    if value in (None, "", []):
        return True
    if isinstance(value, list) and all(isinstance(v, dict) for v in value) and \
            any("document_id" in v for v in value):
        return not any(v.get("document_id") in documents and not v.get("withdrawn") for v in value)
    return False


def readiness(case: CaseFile, principal: Principal, stage: str, *, documents: set[str]) -> dict[str, Any]:
    """What is missing for the stage, each naming its form and field (and, for a column of a list, the rows
    lacking it), its severity and whether it blocks for this stage and plea; nothing immaterial blocks."""
    plea = case.anticipated_plea
    missing = []
    for rule in rules_for(principal, stage):
        if rule.get("pleas") and plea not in rule["pleas"]:
            continue
        if rule.get("when") and _value(case.forms, rule["when"]) in (None, "", []):
            continue  # the rule does not apply to this file (e.g. MG7 without a defendant remanded)
        form, field = rule["item"].split(".", 1)
        rows: dict[str, Any] = {}
        if "." in field:  # FORM.list.column: each row of the list needs the column; the rows lacking it named
            rows = {"rows": _rows_lacking(case.forms, rule["item"])}
            if not rows["rows"]:
                continue
        elif not _missing(_value(case.forms, rule["item"]), documents):
            continue
        missing.append({"item": rule["item"], "form": form, "field": field, "label": rule["label"],
                        "severity": rule["severity"],
                        "blocks": bool(rule["blocks"]) and rule["severity"] != "immaterial", **rows})
    return {"stage": stage, "plea": plea, "ready": not any(m["blocks"] for m in missing), "missing": missing,
            "case_version": case.version}


def check(session: Session, principal: Principal, case_id: uuid.UUID, stage: str, *,
          sessions: Sessions | None = None) -> dict[str, Any]:
    """What a stage still needs of the file, audited as a consultation; with `sessions`, a shared file held in
    another database is read there, through its policies."""
    def ready(database: Session) -> tuple[CaseFile, dict[str, Any]]:
        case = _shown(database, principal, case_id)
        return case, readiness(case, principal, stage, documents=_documents_of(database, case))

    _, state = sharing.read_by_id(session, principal, RECORD_TYPE, ready, sessions=sessions,
                                  shown=lambda found: (found[0], RECORD_TYPE, {"readiness": stage}))
    return state


def _documents_of(session: Session, case: CaseFile) -> set[str]:
    """The ids of the documents of the case's investigation (what a statement or exhibit may point at)."""
    return {str(i) for i in session.scalars(select(Document.id).where(
        Document.record_type == "investigation", Document.record_id == case.investigation_id))}


def get(session: Session, principal: Principal, case_id: uuid.UUID, *, sessions: Sessions | None = None) -> CaseFile:
    """The case file with its forms as they read now, audited as consulted (and logged for its provider if shared);
    with `sessions`, a shared file held in another database is read there, through its policies."""
    def read(database: Session) -> CaseFile:
        found = _shown(database, principal, case_id)
        _log_people(database, principal, [found])
        return found

    return sharing.read_by_id(session, principal, RECORD_TYPE, read, sessions=sessions)


def _shown(session: Session, principal: Principal, case_id: uuid.UUID) -> CaseFile:
    """A case file the acting force can see in this database, with its live forms shown."""
    case = _load(session, case_id)
    _show(session, principal, case)
    return case


def _log_people(session: Session, principal: Principal, cases: list[CaseFile]) -> None:
    """Their forms name their people (defendants, witnesses): logged for the provider with them, in its database."""
    sharing.record_shared_reads(session, principal, "person",
                                [(case.tenant_id, person_id) for case in cases for person_id in _people_in(case.forms)])


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
        case.forms = _live(session, principal, case)  # what is sent is frozen as it reads now
        state = readiness(case, principal, stage, documents=_documents_of(session, case))
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
    """A court result on one charge (an adjournment may be for the defendant's whole case), recorded onto the
    case and, through the investigations service, onto the crime's log."""
    with transaction(session):
        case = _load(session, case_id, for_update=True)
        forms = _live(session, principal, case)
        defendants = {d["person_id"] for d in forms["MG1"]["defendants"]}
        if str(data["person_id"]) not in defendants:
            raise InvalidInput.field("person_id", "a defendant of this case")
        charge = None
        if data.get("charge_id") is None and data["result"] != "adjourned":
            raise InvalidInput.field("charge_id", "required: a plea, verdict or sentence is recorded against one "
                                                  "charge on the MG4 (only an adjournment may be for the whole case)")
        if data.get("charge_id") is not None:
            charge = next((c for c in forms["MG4"]["charges"] if c["charge_id"] == data["charge_id"]), None)
            if charge is None or charge["person_id"] != str(data["person_id"]):
                raise InvalidInput.field("charge_id", "a charge of this defendant on the MG4")
        if data["result"] == "adjourned" and data.get("next_hearing") is None:
            raise InvalidInput.field("next_hearing", "required when the hearing is adjourned")
        if data["result"] != "adjourned" and data.get("next_hearing") is not None:
            raise InvalidInput.field("next_hearing", "only for an adjourned hearing")
        if data.get("next_hearing") is not None and data["next_hearing"] <= data["decided_on"]:
            raise InvalidInput.field("next_hearing", "must be after the hearing it adjourns")
        result = CourtResult(tenant_id=case.tenant_id, id=uuid.uuid4(), case_id=case.id, person_id=data["person_id"],
                             charge_id=data.get("charge_id"), plea=data.get("plea"),
                             next_hearing=data.get("next_hearing"),
                             result=data["result"], sentence=data.get("sentence"), decided_on=data["decided_on"],
                             recorded_by=principal.user_id)
        session.add(result)
        text = f"Court result {data['decided_on'].isoformat()}: {data['result'].replace('_', ' ')}"
        if data.get("sentence"):
            text += f", {data['sentence']}"
        if data.get("plea"):
            text += f" (plea {data['plea'].replace('_', ' ')})"
        if data.get("next_hearing"):
            text += f"; next hearing {data['next_hearing'].isoformat()}"
        if charge is not None:
            text += f" on the charge {charge['cjs_code'] or ''} {charge['recorded_as']}".replace("  ", " ")
        investigations.add_log(session, principal, investigation_id=case.investigation_id,
                               person_id=data["person_id"], text=text, source_type=RECORD_TYPE, source_id=case.id)
        audit_service.record(session, principal, "alteration", RECORD_TYPE, case.id,
                             {"court_result": data["result"], "charge": data.get("charge_id")})
    return result


# A case file's progress, from its own force's submissions and court results (another force's stay with it).
STATUSES = ("building", "submitted", "resulted")


def find(session: Session, principal: Principal, *, page: int, page_size: int, urn: str | None = None,
         reference: str | None = None, status: str | None = None, investigation_id: uuid.UUID | None = None,
         sessions: Sessions | None = None) -> tuple[list[CaseFile], int]:
    """One page of the case files the force can see, newest first, each audited (logged if shared); with
    `sessions`, those shared from other databases too, merged into the one order."""
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

    def shown(database: Session, cases: list[CaseFile]) -> None:
        for case in cases:
            _show(database, principal, case)
        _log_people(database, principal, cases)

    return shared_lists.find(session, principal, RECORD_TYPE, CaseFile, stmt,
                             (CaseFile.created_at.desc(), CaseFile.id), page=page,
                             page_size=page_size, sessions=sessions, shown=shown)


def _status_is(status: str) -> Any:
    """resulted: a court result recorded; submitted: submitted, no court result yet; building: neither."""
    submitted = exists().where(Submission.tenant_id == CaseFile.tenant_id, Submission.case_id == CaseFile.id)
    resulted = exists().where(CourtResult.tenant_id == CaseFile.tenant_id, CourtResult.case_id == CaseFile.id)
    return {"building": ~submitted & ~resulted, "submitted": submitted & ~resulted, "resulted": resulted}[status]


def erase(session: Session, *, case_id: uuid.UUID) -> list[str]:
    """Disposal: delete an own case file with its submissions and court results, in the caller's transaction; the
    storage keys of its bundles that nothing else references (to purge once committed)."""
    own = func.app_current_tenant()
    session.execute(delete(CourtResult).where(CourtResult.tenant_id == own, CourtResult.case_id == case_id))
    keys = set(session.scalars(delete(Submission).where(Submission.tenant_id == own, Submission.case_id == case_id)
                               .returning(Submission.bundle_key)))
    session.execute(delete(CaseFile).where(CaseFile.tenant_id == own, CaseFile.id == case_id))
    still = set(session.scalars(select(Submission.bundle_key).where(Submission.tenant_id == own,
                                                                    Submission.bundle_key.in_(keys))))
    still |= set(session.scalars(select(Document.storage_key).where(Document.tenant_id == own,
                                                                    Document.storage_key.in_(keys))))
    return sorted(keys - still)
