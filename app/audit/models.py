"""Audit events: append-only for the runtime role (SELECT and INSERT only; see migration 0001)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, LargeBinary, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TenantScoped

ACTIONS = ("collection", "alteration", "consultation", "disclosure", "combination", "erasure", "refusal")


class AuditEvent(TenantScoped, Base):
    __tablename__ = "audit_event"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()")
    )
    user_id: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    record_type: Mapped[str] = mapped_column(String)
    record_id: Mapped[str] = mapped_column(String)
    request_id: Mapped[str] = mapped_column(String, default="")
    purpose: Mapped[str] = mapped_column(String, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class AuditLeaf(TenantScoped, Base):
    """A sealed event's place in its force's Merkle tree (migration 0015): append-only, like the trail."""

    __tablename__ = "audit_leaf"

    tree_index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpoint(TenantScoped, Base):
    """A signed checkpoint of a force's tree: its size, root hash and time, signed with the force's key."""

    __tablename__ = "audit_checkpoint"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key_id: Mapped[str] = mapped_column(String)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
