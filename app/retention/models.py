"""Reviews, disposal lists and their frozen items, and the tombstones disposal leaves (migration 0016)."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TenantScoped
from app.retention import policy  # noqa: F401  (registers the flush hook that assesses every record written)


class Review(TenantScoped, Base):
    """One review decision on a record: retain (against the National Retention Assessment Criteria, with the
    next review date) or dispose, by whom, under which policy version."""

    __tablename__ = "retention_review"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    record_type: Mapped[str] = mapped_column(String)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    retention_group: Mapped[int] = mapped_column(SmallInteger)
    policy_version: Mapped[str] = mapped_column(String)
    decision: Mapped[str] = mapped_column(String)
    criteria: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    rationale: Mapped[str] = mapped_column(String)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))


class DisposalList(TenantScoped, Base):
    """Records proposed for disposal by one user, approved by another, then executed exactly as approved."""

    __tablename__ = "disposal_list"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String, default="proposed")
    items_hash: Mapped[str] = mapped_column(String)
    proposed_by: Mapped[str] = mapped_column(String)
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    approved_by: Mapped[str | None] = mapped_column(String)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    executed_by: Mapped[str | None] = mapped_column(String)
    executed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DisposalItem(TenantScoped, Base):
    """One record on a disposal list: ids and group only; frozen once the list is approved (RLS)."""

    __tablename__ = "disposal_item"

    list_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    record_type: Mapped[str] = mapped_column(String, primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    retention_group: Mapped[int] = mapped_column(SmallInteger)
    review_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))


class Tombstone(TenantScoped, Base):
    """What a disposed record leaves: its type, id and group, the decision, who approved and disposed, when, and the
    record it went with, if any."""

    __tablename__ = "retention_tombstone"

    record_type: Mapped[str] = mapped_column(String, primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    retention_group: Mapped[int] = mapped_column(SmallInteger)
    decision: Mapped[str] = mapped_column(String)
    review_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    list_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    approved_by: Mapped[str] = mapped_column(String)
    disposed_by: Mapped[str] = mapped_column(String)
    disposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("clock_timestamp()"))
    # A record disposed of as part of another (an investigation's event and case file): that record (0021).
    with_type: Mapped[str | None] = mapped_column(String)
    with_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
