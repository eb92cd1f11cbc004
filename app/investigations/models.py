"""Investigations, their entries (log, actions, charges, status changes), and reference-number counters."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from app.db import Base, Record, TenantScoped


class Investigation(Record):
    __tablename__ = "investigation"
    record_type = "investigation"
    maskable = ("summary", "officer_in_charge", "people", "entries", "open_actions")
    attachable = True

    reference: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    primary_classification: Mapped[str] = mapped_column(String)
    included_classifications: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    summary: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String, default="recorded")
    officer_in_charge: Mapped[str | None] = mapped_column(String)
    allocated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome_type: Mapped[int | None] = mapped_column(SmallInteger)
    outcome_reason: Mapped[str | None] = mapped_column(String)
    finalised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InvestigationEntry(TenantScoped, Base):
    __tablename__ = "investigation_entry"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    investigation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String)
    text: Mapped[str] = mapped_column(String, default="")
    assignee: Mapped[str | None] = mapped_column(String)
    due_on: Mapped[date | None] = mapped_column(Date)
    refers_to: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    person_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    recorded_by: Mapped[str] = mapped_column(String)


class VictimPreference(TenantScoped, Base):
    __tablename__ = "victim_preference"

    investigation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    enhanced: Mapped[bool] = mapped_column(Boolean, default=False)
    method: Mapped[str] = mapped_column(String, default="phone")
    frequency: Mapped[str] = mapped_column(String, default="every_development")


class VictimContact(TenantScoped, Base):
    """One obligation to tell a victim of a development, and when it was met."""

    __tablename__ = "victim_contact"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    investigation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    trigger: Mapped[str] = mapped_column(String)
    triggered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String)
    contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contacted_by: Mapped[str | None] = mapped_column(String)
    notes: Mapped[str | None] = mapped_column(String)
    created_by: Mapped[str] = mapped_column(String)
    # The investigation's reference, shown (not stored) where the query loads it with with_expression().
    reference: Mapped[str | None] = query_expression()
