"""Intelligence reports, their disseminations, and users' interest in people."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, Record, TenantScoped


class Report(Record):
    __tablename__ = "intelligence_report"
    record_type = "intelligence"
    maskable = ("sanitised_text", "mopi_group", "action_codes")  # unsanitised material never leaves
    attachable = True

    @classmethod
    def shared_only_when(cls) -> Any:
        """Only a live report's sanitised, P-coded version ever crosses (migration 0006's policy)."""
        return (cls.status == "live") & (cls.sanitised_handling_code == "P")

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    unsanitised_text: Mapped[str] = mapped_column(String)
    source_evaluation: Mapped[int | None] = mapped_column(SmallInteger)
    intelligence_assessment: Mapped[str | None] = mapped_column(String)
    handling_code: Mapped[str | None] = mapped_column(String)
    handling_conditions: Mapped[str | None] = mapped_column(String)
    sanitised_text: Mapped[str | None] = mapped_column(String)
    sanitised_source_evaluation: Mapped[int | None] = mapped_column(SmallInteger)
    sanitised_assessment: Mapped[str | None] = mapped_column(String)
    sanitised_handling_code: Mapped[str | None] = mapped_column(String)
    mopi_group: Mapped[int | None] = mapped_column(SmallInteger)
    action_codes: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    sanitisation_codes: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    legacy_grading: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    deletion_requested_by: Mapped[str | None] = mapped_column(String)
    deletion_reason: Mapped[str | None] = mapped_column(String)
    deleted_by: Mapped[str | None] = mapped_column(String)


class Dissemination(TenantScoped, Base):
    __tablename__ = "intelligence_dissemination"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String))
    note: Mapped[str] = mapped_column(String, default="")
    disseminated_by: Mapped[str] = mapped_column(String)
    disseminated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())


class Interest(TenantScoped, Base):
    __tablename__ = "person_interest"

    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[str] = mapped_column(String, primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
