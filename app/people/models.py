"""People and their other names."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKeyConstraint, Integer, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, TenantScoped


class Person(TenantScoped, Base):
    __tablename__ = "person"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, default=1)
    surname: Mapped[str] = mapped_column(String)
    forenames: Mapped[str] = mapped_column(String)
    surname_key: Mapped[str] = mapped_column(String)
    forenames_key: Mapped[str] = mapped_column(String)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String)
    pnc_id: Mapped[str | None] = mapped_column(String)
    classification: Mapped[str] = mapped_column(String, default="OFFICIAL")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String)

    other_names: Mapped[list["PersonOtherName"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin", order_by="PersonOtherName.kind"
    )


class PersonOtherName(TenantScoped, Base):
    __tablename__ = "person_other_name"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String)
    surname: Mapped[str] = mapped_column(String)
    forenames: Mapped[str] = mapped_column(String, default="")

    person: Mapped[Person] = relationship(back_populates="other_names")
