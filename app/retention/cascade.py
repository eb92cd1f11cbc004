"""What goes with an investigation, an intelligence report or a custody record when it is disposed of: the facts
the rules read (app/retention/rules.py, which also states the cascade), the records that go with it, and their
removal through each domain's own service, in the caller's transaction (app/retention/disposal.py runs one per
record). A person, object, location or event goes alone, with its links and documents (disposal.py)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Text, any_, cast, exists, func, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from app.cases import service as cases
from app.cases.models import CaseFile, CourtResult, Submission
from app.custody import service as custody
from app.custody.models import CustodyEntry, CustodyInvestigation, CustodyRecord
from app.db import Record
from app.documents import service as documents
from app.intelligence import service as intelligence
from app.intelligence.models import Report
from app.investigations import service as investigations
from app.investigations.models import Investigation
from app.pole import links, records
from app.pole.models import PoleEvent
from app.retention import rules
from app.tasks import service as tasks

CASCADED = ("investigation", "intelligence", "custody")


@dataclass(frozen=True)
class Companion:
    """A record disposed of with another, as part of it (an investigation's event and case file)."""

    record_type: str
    record_id: uuid.UUID


def refusal(session: Session, *, record: Record, today: date) -> str | None:
    """Why the record may not be disposed of today under rules.py (None: it may), from its stored facts."""
    if isinstance(record, Investigation):
        why = rules.investigation_refusal(reference=record.reference, status=record.status,
                                          case=_case_facts(session, record.id), today=today)
    elif isinstance(record, CustodyRecord):
        why = rules.custody_refusal(custody_number=record.custody_number, released=record.released_at is not None,
                                    open_investigations=_open_investigations(session, record.id),
                                    citing_case_files=_citing_case_files(session, record))
    else:
        why = None
    return why


def companions(session: Session, *, record: Record) -> list[Companion]:
    """The records that go with this one: an investigation's event and case file, a report's event."""
    found = []
    if isinstance(record, (Investigation, Report)):
        found.append(Companion("event", record.event_id))
    if isinstance(record, Investigation):
        case_id = session.scalar(select(CaseFile.id).where(CaseFile.tenant_id == func.app_current_tenant(),
                                                           CaseFile.investigation_id == record.id))
        if case_id is not None:
            found.append(Companion(CaseFile.record_type, case_id))
    return found


def erase(session: Session, *, record_type: str, record_id: uuid.UUID, goes_with: list[Companion]) -> list[str]:
    """Remove the record, its companions and what hangs off them; the storage keys to purge once committed."""
    keys: list[str] = []
    event = next((c.record_id for c in goes_with if c.record_type == "event"), None)
    case = next((c.record_id for c in goes_with if c.record_type == CaseFile.record_type), None)
    if record_type == "investigation":
        custody.unlink_investigation(session, investigation_id=record_id)
        if case is not None:
            keys += cases.erase(session, case_id=case)
    gone = [(record_type, record_id), *((c.record_type, c.record_id) for c in goes_with)]
    gone_ids = [gone_id for _, gone_id in gone]
    tasks.erase_for(session, record_ids=gone_ids)
    link_ids = links.erase_touching(session, record_ids=gone_ids)
    keys += documents.erase_attached(session, records=[*gone, *(("link", link_id) for link_id in link_ids)])
    if record_type == "investigation":
        investigations.erase(session, investigation_id=record_id)
    elif record_type == "intelligence":
        intelligence.erase(session, report_id=record_id)
    else:
        custody.erase(session, record_id=record_id)
    if event is not None:
        records.erase(session, model=PoleEvent, record_id=event)
    return keys


def _case_facts(session: Session, investigation_id: uuid.UUID) -> rules.CaseFacts | None:
    own = func.app_current_tenant()
    case = session.scalar(select(CaseFile).where(CaseFile.tenant_id == own, CaseFile.investigation_id ==
                                                 investigation_id))
    if case is None:
        return None
    submitted = session.scalar(select(exists().where(Submission.tenant_id == own, Submission.case_id == case.id)))
    results = session.scalars(select(CourtResult).where(CourtResult.tenant_id == own, CourtResult.case_id == case.id)
                              .order_by(CourtResult.decided_on, CourtResult.recorded_at))
    forms: dict[str, Any] = case.forms or {}
    return rules.CaseFacts(urn=str(forms.get("MG1", {}).get("urn") or case.id), submitted=bool(submitted),
                           charge_ids=[c["charge_id"] for c in forms.get("MG4", {}).get("charges", [])],
                           results=[rules.Result(r.charge_id, r.result, r.sentence, r.decided_on) for r in results])


def _open_investigations(session: Session, custody_id: uuid.UUID) -> list[str]:
    own = func.app_current_tenant()
    return list(session.scalars(
        select(Investigation.reference).join(CustodyInvestigation, (CustodyInvestigation.tenant_id ==
                                                                    Investigation.tenant_id)
                                             & (CustodyInvestigation.investigation_id == Investigation.id))
        .where(Investigation.tenant_id == own, CustodyInvestigation.custody_record_id == custody_id,
               Investigation.status != "finalised").order_by(Investigation.reference)))


def _citing_case_files(session: Session, record: CustodyRecord) -> list[str]:
    """The URNs of the force's case files whose forms name the custody record: its custody number (a defendant's
    custody, a charge in custody on the MG4), its id or one of its entries' (the MG4 charges drawn from it)."""
    own = func.app_current_tenant()
    terms = [record.custody_number, str(record.id),
             *(str(i) for i in session.scalars(select(CustodyEntry.id).where(CustodyEntry.tenant_id == own,
                                                                             CustodyEntry.record_id == record.id)))]
    # LIKE ANY: each file's forms made text once for all the terms (a strpos per term made it once per term).
    contains = array([f"%{_like_escaped(term)}%" for term in terms])
    return list(session.scalars(
        select(func.coalesce(CaseFile.forms["MG1"]["urn"].astext, cast(CaseFile.id, Text)))
        .where(CaseFile.tenant_id == own, cast(CaseFile.forms, Text).like(any_(contains)))
        .order_by(CaseFile.created_at)))


def _like_escaped(term: str) -> str:
    """The term matched literally by LIKE (whose escape character is the backslash)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
