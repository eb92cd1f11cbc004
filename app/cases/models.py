"""Case files, their submissions and court results."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, Record, TenantScoped


class CaseFile(Record):
    __tablename__ = "case_file"
    record_type = "case"
    maskable = ("forms",)

    investigation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    anticipated_plea: Mapped[str | None] = mapped_column(String)
    forms: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Submission(TenantScoped, Base):
    __tablename__ = "case_submission"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    case_version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String)
    bundle_key: Mapped[str] = mapped_column(String)
    bundle_sha256: Mapped[str] = mapped_column(String)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    submitted_by: Mapped[str] = mapped_column(String)


class CourtResult(TenantScoped, Base):
    __tablename__ = "court_result"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    charge_id: Mapped[str | None] = mapped_column(String)  # the MG4 charge it decides (none: the whole case)
    plea: Mapped[str | None] = mapped_column(String)
    next_hearing: Mapped[date | None] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String)
    sentence: Mapped[str | None] = mapped_column(String)
    decided_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
