"""Detention records, their append-only entries, and the custody-number counters."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, Record, TenantScoped


class CustodyRecord(Record):
    __tablename__ = "custody_record"
    record_type = "custody"
    maskable = ("arrest_place", "arresting_officer", "offences", "grounds", "entries", "clock", "investigation_ids")
    attachable = True

    custody_number: Mapped[str] = mapped_column(String)
    suite: Mapped[str] = mapped_column(String)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    arrested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    arrest_place: Mapped[str] = mapped_column(String)
    arresting_officer: Mapped[str] = mapped_column(String)
    offences: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    arrived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    arrested_in_other_force_area: Mapped[bool] = mapped_column(Boolean, default=False)
    arrived_at_relevant_station: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voluntary_attender: Mapped[bool] = mapped_column(Boolean, default=False)
    relevant_time_override: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    override_reason: Mapped[str | None] = mapped_column(String)
    authorised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    authorised_by: Mapped[str | None] = mapped_column(String)
    grounds: Mapped[str | None] = mapped_column(String)
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String)


class CustodyEntry(TenantScoped, Base):
    __tablename__ = "custody_entry"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    recorded_by: Mapped[str] = mapped_column(String)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class CustodyInvestigation(TenantScoped, Base):
    """An investigation a detention belongs to, and the charge it passed on to it (recorded there once)."""

    __tablename__ = "custody_investigation"

    custody_record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    investigation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    charge_entry_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    investigation_charge_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String)
