"""Intelligence use cases, following Connect's lifecycle:

    requires_completion -> requires_assessment -> (returned_for_correction -> requires_assessment
                                                   | returned_for_deletion -> deleted
                                                   | requires_linking -> live) ; live -> deleted

Each step leaves a task for the role that takes the next one: assessment and linking for intelligence
analysts (the sensitive track: superintendents, standing in for the force's sensitive unit), correction
for the author, a periodic review of code C reports, and a task for every user interested in a person
when a report about them goes live. Deletion is requested by one person and authorised by another.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, transaction
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.intelligence.models import Dissemination, Interest, Report
from app.pole import links, records
from app.pole import service as pole
from app.pole.models import Link
from app.sharing import lists as shared_lists
from app.sharing import visibility as sharing
from app.tasks import service as tasks

RECORD_TYPE = "intelligence"
MODULE = "intelligence"
UNSANITISED = "intelligence:unsanitised"
ANALYST, SENSITIVE_UNIT = "intelligence_analyst", "superintendent"
DEFAULT_REVIEW_DAYS = 90
LINK_TYPES = {"person": "involved", "object": "involved", "location": "occurred_at", "event": "related"}


def _assessor(report: Report) -> str:
    return SENSITIVE_UNIT if report.sensitive else ANALYST


def load(session: Session, report_id: uuid.UUID, for_update: bool = False) -> Report:
    """A report of the force (or shared with it); a deleted report is not found."""
    report = records.load(session, Report, "intelligence report", report_id, for_update)
    if report.status == "deleted":
        raise NotFound.record("intelligence report")
    return report


def submit(session: Session, principal: Principal, data: dict[str, Any]) -> Report:
    """A new report: unsanitised text and grading (or a legacy 5x5x5 grading, kept read-only)."""
    with transaction(session):
        event = pole.create_event(session, principal, {
            "event_type": "intelligence", "occurred_at": datetime.now(timezone.utc), "summary": "intelligence report",
            "classification": data["classification"]})
        report = Report(tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1, event_id=event.id,
                        status="requires_assessment" if data["complete"] else "requires_completion",
                        created_by=principal.user_id, updated_by=principal.user_id,
                        do_not_share=data.get("handling_code") == "C",
                        **{k: data.get(k) for k in ("sensitive", "unsanitised_text", "source_evaluation",
                                                    "intelligence_assessment", "handling_code", "handling_conditions",
                                                    "legacy_grading", "classification")})
        session.add(report)
        session.flush()
        if data["complete"]:
            tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "assess", role=_assessor(report))
        else:
            tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "complete", user=principal.user_id)
        audit_service.record(session, principal, "collection", RECORD_TYPE, report.id)
    return report


def complete(session: Session, principal: Principal, report_id: uuid.UUID, data: dict[str, Any]) -> Report:
    """The author completes (or corrects) the report and sends it for assessment."""
    with transaction(session):
        report = load(session, report_id, for_update=True)
        if report.status not in ("requires_completion", "returned_for_correction"):
            raise Conflict(f"Only a report that needs completing or correcting can be sent for assessment; this one "
                           f"is {report.status.replace('_', ' ')}", {"status": [report.status]})
        if report.created_by != principal.user_id:
            raise Forbidden("Only the author completes or corrects a report")
        for field in ("unsanitised_text", "source_evaluation", "intelligence_assessment", "handling_code",
                      "handling_conditions"):
            if field in data:
                setattr(report, field, data[field])
        _check_grading(report)
        report.status = "requires_assessment"
        tasks.close(session, principal, report.id, "complete", "correct")
        tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "assess", role=_assessor(report))
        report.touch(principal)
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, report.id, {"step": "completed"})
    return report


def _check_grading(report: Report) -> None:
    if report.legacy_grading is None and not (report.source_evaluation and report.intelligence_assessment
                                              and report.handling_code):
        raise InvalidInput.field("source_evaluation", "a report sent for assessment needs its 3x5x2 grading")
    if report.handling_code == "C" and not (report.handling_conditions or "").strip():
        raise InvalidInput.field("handling_conditions", "handling code C needs its conditions written down")


def assess(session: Session, principal: Principal, report_id: uuid.UUID, data: dict[str, Any]) -> Report:
    """The assessor accepts (with the sanitised text and grading) or returns for correction or deletion."""
    with transaction(session):
        report = load(session, report_id, for_update=True)
        if report.status != "requires_assessment":
            raise Conflict(f"The report is {report.status.replace('_', ' ')}, not awaiting assessment",
                           {"status": [report.status]})
        if _assessor(report) not in principal.roles:
            raise Forbidden(f"Assessing this report needs the role {_assessor(report)}")
        tasks.close(session, principal, report.id, "assess")
        decision = data["decision"]
        if decision == "return_for_correction":
            report.status = "returned_for_correction"
            tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "correct", user=report.created_by,
                      note=data.get("reason", ""))
        elif decision == "return_for_deletion":
            report.status = "returned_for_deletion"
            report.deletion_requested_by, report.deletion_reason = principal.user_id, data.get("reason")
            tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "authorise_deletion", role=ANALYST)
        else:
            for field in ("sanitised_text", "sanitised_source_evaluation", "sanitised_assessment",
                          "sanitised_handling_code", "mopi_group", "action_codes", "sanitisation_codes",
                          "handling_conditions"):
                setattr(report, field, data.get(field, getattr(report, field)))
            _check_codes(principal, data)
            _check_conditions(report)
            if report.sanitised_handling_code == "C" or report.handling_code == "C":
                days = int(principal.tenant.settings.get("reference_lists", {}).get("code_c_review_days",
                                                                                    DEFAULT_REVIEW_DAYS))
                report.next_review_on = date.today() + timedelta(days=days)
                report.do_not_share = True  # code C is never shared by an agreement alone
                tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "review_code_c",
                          role=_assessor(report), due_on=report.next_review_on)
            report.status = "requires_linking"
            tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "link", role=_assessor(report))
        report.touch(principal)
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, report.id, {"assessment": decision})
    return report


def _check_conditions(report: Report) -> None:
    """Code C: lawful sharing subject to conditions, which must be written down (3x5x2 handling code)."""
    if report.sanitised_handling_code == "C" and not (report.handling_conditions or "").strip():
        raise InvalidInput.field("handling_conditions", "a report accepted as handling code C needs its conditions "
                                 "written down: they are shown to every recipient")


def _check_codes(principal: Principal, data: dict[str, Any]) -> None:
    lists = principal.tenant.settings.get("reference_lists", {})
    for field, list_name in (("action_codes", "intelligence_action_codes"),
                             ("sanitisation_codes", "intelligence_sanitisation_codes")):
        allowed = lists.get(list_name)
        unknown = sorted(set(data.get(field, [])) - set(allowed)) if allowed is not None else []
        if unknown:
            raise InvalidInput.field(field, f"not on the force's list: {', '.join(unknown)}")


def link(session: Session, principal: Principal, report_id: uuid.UUID, entities: list[dict[str, Any]],
         go_live: bool) -> Report:
    """Link the report to people, objects, locations and events; going live tells the interested."""
    with transaction(session):
        report = load(session, report_id, for_update=True)
        if report.status not in ("requires_linking", "live"):
            raise Conflict(f"The report is {report.status.replace('_', ' ')}: it is linked after assessment",
                           {"status": [report.status]})
        for index, entity in enumerate(entities):
            if not links.entity_exists(session, entity["type"], entity["id"], own=True):
                raise InvalidInput.field(f"entities.{index}.id", f"no such {entity['type']} in this force")
            links.create(session, principal, {"from_": entity, "to": {"type": "event", "id": report.event_id},
                                              "link_type": LINK_TYPES[entity["type"]],
                                              "source": {"type": RECORD_TYPE, "id": report.id}})
        if go_live and report.status == "requires_linking":
            report.status = "live"
            tasks.close(session, principal, report.id, "link")
            for user in _interested(session, report):
                tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "interest", user=user,
                          note="a report about a person you follow is live")
        report.touch(principal)
        session.flush()
        audit_service.record(session, principal, "alteration", RECORD_TYPE, report.id,
                             {"linked": len(entities), "live": report.status == "live"})
    return report


def _interested(session: Session, report: Report) -> list[str]:
    people = select(Link.from_id).where(Link.to_id == report.event_id, Link.from_type == "person")
    return sorted(set(session.scalars(select(Interest.user_id).where(Interest.person_id.in_(people)))))


def register_interest(session: Session, principal: Principal, person_id: uuid.UUID) -> None:
    with transaction(session):
        if not links.entity_exists(session, "person", person_id, own=True):
            raise NotFound("No such person")
        session.execute(pg_insert(Interest).values(tenant_id=principal.tenant.id, person_id=person_id,
                                                   user_id=principal.user_id).on_conflict_do_nothing())
        audit_service.record(session, principal, "alteration", "person", person_id, {"interest": "registered"})


def disseminate(session: Session, principal: Principal, report_id: uuid.UUID, recipients: list[str],
                note: str) -> Dissemination:
    """Within the force, and only the sanitised version of a live report; the recipients are recorded."""
    with transaction(session):
        report = load(session, report_id, for_update=True)
        if report.status != "live":
            raise Conflict("Only a live report is disseminated", {"status": [report.status]})
        record = Dissemination(tenant_id=report.tenant_id, id=uuid.uuid4(), report_id=report.id,
                               recipients=sorted(set(recipients)), note=note, disseminated_by=principal.user_id)
        session.add(record)
        session.flush()
        audit_service.record(session, principal, "disclosure", RECORD_TYPE, report.id,
                             {"recipients": record.recipients, "version": "sanitised",
                              "handling_conditions": report.handling_conditions if conditions_bind_reader(report)
                              else None})
    return record


def request_deletion(session: Session, principal: Principal, report_id: uuid.UUID, reason: str) -> Report:
    with transaction(session):
        report = load(session, report_id, for_update=True)
        if report.deletion_requested_by:
            raise Conflict("Deletion has already been requested", {"status": ["deletion requested"]})
        report.deletion_requested_by, report.deletion_reason = principal.user_id, reason
        tasks.add(session, principal, MODULE, RECORD_TYPE, report.id, "authorise_deletion", role=ANALYST)
        report.touch(principal)
        audit_service.record(session, principal, "alteration", RECORD_TYPE, report.id, {"deletion": "requested"})
    return report


def authorise_deletion(session: Session, principal: Principal, report_id: uuid.UUID) -> Report:
    """A second person authorises the deletion the first requested."""
    with transaction(session):
        report = load(session, report_id, for_update=True)
        if not report.deletion_requested_by:
            raise Conflict("No deletion has been requested", {"status": [report.status]})
        if report.deletion_requested_by == principal.user_id:
            raise Forbidden("Deletion needs a second person: you requested it")
        report.status, report.deleted_by = "deleted", principal.user_id
        tasks.close(session, principal, report.id, "assess", "link", "correct", "complete", "review_code_c",
                    "authorise_deletion", "interest")
        report.touch(principal)
        # ids and actions only: the reason is free text (it may name someone) and stays on the report, which
        # disposal can remove while the audit trail stays whole
        audit_service.record(session, principal, "erasure", RECORD_TYPE, report.id,
                             {"requested_by": report.deletion_requested_by})
    return report


def get(session: Session, principal: Principal, report_id: uuid.UUID, *, sessions: Sessions | None = None) -> Report:
    """A report, audited as consulted (saying whether its unsanitised material was shown) and logged for its
    provider if shared; with `sessions`, a shared one held in another database is read there, through its
    policies (only a live, sanitised, code P report ever crosses)."""
    return sharing.read_by_id(session, principal, RECORD_TYPE, lambda database: load(database, report_id),
                              sessions=sessions, shown=lambda found: (
                                  found, RECORD_TYPE, {"unsanitised": may_see_unsanitised(principal, found)}))


def may_see_unsanitised(principal: Principal, report: Report) -> bool:
    """Only the force's own people with the permission, or the author before assessment."""
    if report.tenant_id != principal.tenant.id:
        return False
    if UNSANITISED in principal.permissions:
        return True
    return report.created_by == principal.user_id and report.status in ("requires_completion",
                                                                         "returned_for_correction",
                                                                         "requires_assessment")


STATUSES = ("requires_completion", "requires_assessment", "returned_for_correction", "returned_for_deletion",
            "requires_linking", "live")


def find(session: Session, principal: Principal, *, page: int, page_size: int, status: str | None = None,
         handling_code: str | None = None, person_id: uuid.UUID | None = None,
         sessions: Sessions | None = None) -> tuple[list[Report], int]:
    """One page of the reports the force can see (never deleted ones), newest first, each audited (logged if shared);
    with `sessions`, those shared from other databases too, merged into the one order."""
    stmt = select(Report).where(Report.status != "deleted")
    if status is not None:
        stmt = stmt.where(Report.status == status)
    if handling_code is not None:
        stmt = stmt.where(_handled_as(principal, handling_code))
    if person_id is not None:
        subject = select(Link.to_id).where(Link.from_type == "person", Link.from_id == person_id,
                                           Link.link_type == LINK_TYPES["person"])
        stmt = stmt.where(Report.event_id.in_(subject))
    return shared_lists.find(session, principal, RECORD_TYPE, Report, stmt,
                             (Report.created_at.desc(), Report.id), page=page,
                             page_size=page_size, sessions=sessions)


def _handled_as(principal: Principal, code: str) -> Any:
    """Reports handled as `code`: by the sanitised code, or the submitted one only for those who may read it."""
    # The submitted grading is unsanitised material: filtering by it for anyone else would reveal it.
    sanitised = Report.sanitised_handling_code == code
    if UNSANITISED not in principal.permissions:
        return sanitised
    return or_(sanitised, and_(Report.tenant_id == principal.tenant.id, Report.sanitised_handling_code.is_(None),
                               Report.handling_code == code))


def conditions_bind_reader(report: Report) -> bool:
    """A reader of the sanitised version of a code C report is shown its conditions: they bind the recipient."""
    return report.sanitised_handling_code == "C" and bool((report.handling_conditions or "").strip())


def erase(session: Session, *, report_id: uuid.UUID) -> None:
    """Disposal: delete an own report with its disseminations, in the caller's transaction (its event, links,
    documents, tasks and audit are the caller's)."""
    own = func.app_current_tenant()
    session.execute(delete(Dissemination).where(Dissemination.tenant_id == own, Dissemination.report_id == report_id))
    session.execute(delete(Report).where(Report.tenant_id == own, Report.id == report_id))
