"""Reviews and the review queue, restriction instead of erasure, and two-person disposal lists.

Records are reviewed when their review date comes (app/retention/policy.py sets it). A decision to retain names
the National Retention Assessment Criteria it rests on and the next review date; a decision to dispose puts the
record up for a disposal list, which one user proposes, a second approves as it stands (its items' hash), and
which is then executed exactly as approved (app/retention/disposal.py), one transaction per record.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Record, record_class, transaction
from app.errors import Conflict, InvalidInput, NotFound
from app.people.models import Person
from app.pole import links, records
from app.retention import cascade
from app.retention import policy as retention_policy
from app.retention.models import DisposalItem, DisposalList, Review

LIST_TYPE = "disposal_list"
# The record types disposal knows how to remove with everything hanging off them (app/retention/disposal.py; what
# goes with an investigation, a report or a custody record: app/retention/rules.py). A case file goes with its
# investigation.
DISPOSABLE_TYPES = ("person", "object", "location", "event", "investigation", "intelligence", "custody")

# National Retention Assessment Criteria (APP Information management): a decision to retain rests on one or more.
NRAC = {
    "serious_harm": "Is there evidence of a capacity to inflict serious harm?",
    "children_or_vulnerable": "Are there any concerns in relation to children or vulnerable adults?",
    "breach_of_trust": "Did the behaviour involve a breach of trust?",
    "links_increasing_risk": "Is there evidence of established links or associations which might increase the "
                             "risk of harm?",
    "substance_misuse": "Are there concerns in relation to substance misuse?",
    "mental_state": "Are there concerns that an individual's mental state might exacerbate risk?",
}


@dataclass(frozen=True)
class Due:
    """A record in the review queue."""

    record_type: str
    record_id: uuid.UUID
    retention_group: int
    review_on: date
    overdue: bool


def queue(session: Session, principal: Principal, *, group: int | None, page: int,
          page_size: int) -> tuple[list[Due], int]:
    """The force's records due or overdue for review today, oldest first, optionally of one group."""
    day = principal.tenant.today()
    selects = []
    for record_type in retention_policy.REVIEWED_TYPES:
        model: Any = record_class(record_type)
        stmt = select(literal(record_type).label("record_type"), model.id.label("record_id"),
                      model.retention_group, model.review_on).where(
            model.tenant_id == principal.tenant.id, model.review_on <= day)
        selects.append(stmt.where(model.retention_group == group) if group else stmt)
    due = union_all(*selects).subquery()
    with transaction(session):
        total = session.scalar(select(func.count()).select_from(due)) or 0
        rows = session.execute(select(due).order_by(due.c.review_on, due.c.record_type, due.c.record_id)
                               .limit(page_size).offset((page - 1) * page_size)).all()
    return [Due(r.record_type, r.record_id, r.retention_group, r.review_on, r.review_on < day) for r in rows], total


def decide(session: Session, principal: Principal, *, data: dict[str, Any]) -> Review:
    """Record a review decision on one of the force's records (retain, with criteria and next review; or dispose)."""
    record_type, record_id = data["record_type"], data["record_id"]
    with transaction(session):
        record = _own_record(session, record_type, record_id)
        policy = principal.tenant.settings["retention"]
        group = record.retention_group or retention_policy.assess(policy, record).group
        if data["decision"] == "retain":
            _check_retain(principal, data)
            record.retained_to = data["next_review_on"]
        else:
            _check_disposable(session, principal, record, group)
        review = Review(tenant_id=principal.tenant.id, id=uuid.uuid4(), record_type=record_type, record_id=record_id,
                        retention_group=group, policy_version=policy["version"], decision=data["decision"],
                        criteria=data.get("criteria", []), rationale=data["rationale"],
                        next_review_on=data.get("next_review_on") if data["decision"] == "retain" else None,
                        decided_by=principal.user_id)
        session.add(review)
        session.flush()
        audit_service.record(session, principal, "alteration", record_type, record_id,
                             {"retention_review": str(review.id), "decision": review.decision, "group": group,
                              "policy_version": review.policy_version})
    return review


def _check_retain(principal: Principal, data: dict[str, Any]) -> None:
    if not data.get("criteria"):
        raise InvalidInput.field("criteria", "a decision to retain names the National Retention Assessment "
                                             "Criteria it rests on")
    if not data.get("next_review_on") or data["next_review_on"] <= principal.tenant.today():
        raise InvalidInput.field("next_review_on", "a decision to retain sets the next review date, after today")


def _check_disposable(session: Session, principal: Principal, record: Record, group: int) -> None:
    if record.record_type not in DISPOSABLE_TYPES:
        raise Conflict(f"record_type: disposal of {record.record_type} records is not supported; retain or restrict "
                       "it", {"record_type": [f"one of {', '.join(DISPOSABLE_TYPES)}"]})
    if record.restricted:
        raise Conflict("The record is restricted instead of erased (kept as evidence): lift the restriction first",
                       {"decision": ["the record is restricted"]})
    born = record.date_of_birth if isinstance(record, Person) else None
    if not retention_policy.retain_until_age_passed(principal.tenant.settings["retention"], group, born,
                                                    principal.tenant.today()):
        raise Conflict(f"Group {group} records are kept until the subject is deemed "
                       f"{principal.tenant.settings['retention'][f'group_{group}']['retain_until_age']} years old",
                       {"decision": ["the subject is not yet deemed that old (or their age is not known)"]})
    why = cascade.refusal(session, record=record, today=principal.tenant.today())
    if why:
        raise Conflict(why, {"decision": [why]})


def restrict(session: Session, principal: Principal, *, record_type: str, record_id: uuid.UUID,
             restricted: bool) -> Record:
    """Restrict one of the force's records instead of erasing it (DPA 2018 s.47(2)), or lift the restriction."""
    with transaction(session):
        record = _own_record(session, record_type, record_id)
        if record.restricted != restricted:
            record.restricted = restricted
            session.flush()
            audit_service.record(session, principal, "alteration", record_type, record_id,
                                 {"restricted": restricted})
    return record


def propose(session: Session, principal: Principal, *, items: list[dict[str, Any]]) -> DisposalList:
    """Propose a disposal list of records whose latest review decided disposal."""
    with transaction(session):
        disposal = DisposalList(tenant_id=principal.tenant.id, id=uuid.uuid4(), version=1, status="proposed",
                                items_hash=items_hash([(i["record_type"], i["record_id"]) for i in items]),
                                proposed_by=principal.user_id)
        session.add(disposal)
        session.flush()
        for index, item in enumerate(items):
            review = _disposal_review(session, item["record_type"], item["record_id"], f"items.{index}")
            session.add(DisposalItem(tenant_id=principal.tenant.id, list_id=disposal.id,
                                     record_type=review.record_type, record_id=review.record_id,
                                     retention_group=review.retention_group, review_id=review.id))
        session.flush()
        audit_service.record(session, principal, "collection", LIST_TYPE, disposal.id, {"items": len(items)})
    return disposal


def _disposal_review(session: Session, record_type: str, record_id: uuid.UUID, field: str) -> Review:
    """The record's latest review, which must have decided disposal; 422 naming the item otherwise (404 for a
    record that is not the force's own: another force's is not on its lists)."""
    review = latest_review(session, record_type=record_type, record_id=record_id)
    if review is None and not links.entity_exists(session, record_type, record_id, own=True):
        raise NotFound(f"{field}: no such {record_type} in your force", {field: ["not found"]})
    if review is None or review.decision != "dispose":
        raise InvalidInput.field(field, f"no decision to dispose of this {record_type} (review it first)")
    return review


def latest_review(session: Session, *, record_type: str, record_id: uuid.UUID) -> Review | None:
    """The force's latest review of a record, if any."""
    return session.scalars(select(Review).where(
        Review.tenant_id == func.app_current_tenant(), Review.record_type == record_type,
        Review.record_id == record_id).order_by(Review.decided_at.desc()).limit(1)).first()


def approve(session: Session, principal: Principal, *, list_id: uuid.UUID, seen_hash: str) -> DisposalList:
    """Approve a proposed disposal list as it stands (the hash the approver saw), by someone other than its proposer."""
    with transaction(session):
        disposal = load_list(session, list_id=list_id, for_update=True)
        if disposal.status != "proposed":
            raise Conflict(f"The list is already {disposal.status}", {"status": [disposal.status]})
        if disposal.proposed_by == principal.user_id:
            raise Conflict("Two-person rule: the user who proposed a disposal list cannot approve it; a second "
                           "authorised user must", {"approved_by": ["the proposer cannot approve their own list"]})
        if seen_hash != disposal.items_hash or items_hash(_item_keys(session, disposal)) != disposal.items_hash:
            raise Conflict("items_hash: the list is not the one you reviewed; read it again",
                           {"items_hash": ["does not match the list's items"]})
        disposal.status, disposal.approved_by = "approved", principal.user_id
        disposal.approved_at, disposal.version = datetime.now(timezone.utc), disposal.version + 1
        session.flush()
        audit_service.record(session, principal, "alteration", LIST_TYPE, disposal.id,
                             {"status": "approved", "items_hash": disposal.items_hash})
    return disposal


def load_list(session: Session, *, list_id: uuid.UUID, for_update: bool = False) -> DisposalList:
    """One of the force's disposal lists (404 for another force's)."""
    stmt = select(DisposalList).where(DisposalList.tenant_id == func.app_current_tenant(), DisposalList.id == list_id)
    disposal = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if disposal is None:
        raise NotFound.record(LIST_TYPE)
    return disposal


def get_list(session: Session, principal: Principal, *, list_id: uuid.UUID) -> tuple[DisposalList, list[DisposalItem]]:
    """A disposal list and its items."""
    with transaction(session):
        disposal = load_list(session, list_id=list_id)
        return disposal, items_of(session, disposal)


def items_of(session: Session, disposal: DisposalList) -> list[DisposalItem]:
    return list(session.scalars(select(DisposalItem).where(
        DisposalItem.tenant_id == disposal.tenant_id, DisposalItem.list_id == disposal.id)
        .order_by(DisposalItem.record_type, DisposalItem.record_id)))


def _item_keys(session: Session, disposal: DisposalList) -> list[tuple[str, uuid.UUID]]:
    return [(item.record_type, item.record_id) for item in items_of(session, disposal)]


def items_hash(keys: list[tuple[str, uuid.UUID]]) -> str:
    """What freezes a list: the SHA-256 of its sorted 'type:id' lines."""
    lines = sorted(f"{record_type}:{record_id}" for record_type, record_id in keys)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _own_record(session: Session, record_type: str, record_id: uuid.UUID) -> Record:
    if record_type not in retention_policy.REVIEWED_TYPES:
        raise InvalidInput.field("record_type", f"one of {', '.join(retention_policy.REVIEWED_TYPES)}")
    return records.load(session, record_class(record_type), record_type, record_id, for_update=True)


