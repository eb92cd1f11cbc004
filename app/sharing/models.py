"""Agreements, their events, the compiled grants and the access log (cross-force tables; see migration 0003)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Agreement(Base):
    __tablename__ = "sharing_agreement"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, default=1)
    provider_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    consumer_tenant_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    consumer_collaboration: Mapped[str | None] = mapped_column(String)
    consumer_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    admin_tenant_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)
    status: Mapped[str] = mapped_column(String)
    record_types: Mapped[list[str]] = mapped_column(ARRAY(String))
    max_classification: Mapped[str] = mapped_column(String)
    handling_codes: Mapped[list[str]] = mapped_column(ARRAY(String), default=lambda: ["P"])
    field_profile: Mapped[dict[str, Any]] = mapped_column(JSONB)
    purpose: Mapped[str] = mapped_column(String)
    lawful_basis: Mapped[str] = mapped_column(String)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_approved_by: Mapped[str | None] = mapped_column(String)
    provider_approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    collaboration_approved_by: Mapped[str | None] = mapped_column(String)
    collaboration_approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgreementEvent(Base):
    __tablename__ = "sharing_agreement_event"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String, default="")
    actor_tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    actor_user: Mapped[str] = mapped_column(String)
    status_after: Mapped[str] = mapped_column(String)
    terms: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())


class Grant(Base):
    __tablename__ = "sharing_grant"

    consumer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    record_type: Mapped[str] = mapped_column(String, primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    classification: Mapped[str] = mapped_column(String, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    masked: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Access(Base):
    __tablename__ = "sharing_access"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    consumer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    provider_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)  # leads it (0019)
    user_id: Mapped[str] = mapped_column(String)
    record_type: Mapped[str] = mapped_column(String)
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    agreement_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    purpose: Mapped[str] = mapped_column(String)
    request_id: Mapped[str] = mapped_column(String, default="")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
