"""People, their other names, identifiers, warning markers, search keys and merges."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKeyConstraint,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, Record, TenantScoped
from app.people.identifiers import PartialDate


class Person(Record):
    __tablename__ = "person"
    record_type = "person"
    maskable = ("date_of_birth", "sex", "pnc_id", "place_of_birth", "ethnicity_code", "height_cm", "build", "marks",
                "tattoos", "other_names", "identifiers", "warning_markers")
    attachable = True

    surname: Mapped[str] = mapped_column(String)
    forenames: Mapped[str] = mapped_column(String)
    surname_key: Mapped[str] = mapped_column(String)
    forenames_key: Mapped[str] = mapped_column(String)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    date_of_birth_precision: Mapped[str | None] = mapped_column(String)  # day | month | year
    sex: Mapped[str] = mapped_column(String)
    pnc_id: Mapped[str | None] = mapped_column(String)
    place_of_birth: Mapped[str | None] = mapped_column(String)
    ethnicity_code: Mapped[str | None] = mapped_column(String)
    height_cm: Mapped[int | None] = mapped_column(SmallInteger)
    build: Mapped[str | None] = mapped_column(String)
    marks: Mapped[str | None] = mapped_column(String)
    tattoos: Mapped[str | None] = mapped_column(String)
    merged_into: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))

    @property
    def partial_date_of_birth(self) -> PartialDate | None:
        if self.date_of_birth is None:
            return None
        return PartialDate(self.date_of_birth, self.date_of_birth_precision or "day")

    other_names: Mapped[list["PersonOtherName"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin",
        order_by="[PersonOtherName.kind, PersonOtherName.surname, PersonOtherName.id]",
    )
    identifiers: Mapped[list["PersonIdentifier"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="[PersonIdentifier.kind, PersonIdentifier.value]"
    )
    warning_markers: Mapped[list["WarningMarker"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="[WarningMarker.from_date, WarningMarker.code]"
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


def _person_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "person_id"], ["person.tenant_id", "person.id"], ondelete="CASCADE")


class PersonIdentifier(TenantScoped, Base):
    """CRO number, NI number, passport, driving licence: one holder per value within a force."""

    __tablename__ = "person_identifier"
    __table_args__ = (_person_fk(),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String)
    value: Mapped[str] = mapped_column(String)


class WarningMarker(TenantScoped, Base):
    """A warning marker from the force's list, dated, with its review date and the record that justifies it."""

    __tablename__ = "person_warning_marker"
    __table_args__ = (_person_fk(),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    code: Mapped[str] = mapped_column(String)
    from_date: Mapped[date] = mapped_column(Date)
    review_date: Mapped[date | None] = mapped_column(Date)
    source_type: Mapped[str | None] = mapped_column(String)
    source_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String)


class PersonSearchKey(TenantScoped, Base):
    """One search key of a person (see app.people.matching), written with the person."""

    __tablename__ = "person_search_key"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    birth_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0)  # 0: unknown
    person_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    alias: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)
    classification: Mapped[str] = mapped_column(String, default="OFFICIAL")  # the person's, for sharing
    do_not_share: Mapped[bool] = mapped_column(Boolean, default=False)  # the person's, for sharing


class PersonMerge(TenantScoped, Base):
    """A duplicate folded into a survivor: what moved, so that the merge can be undone."""

    __tablename__ = "person_merge"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    survivor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    duplicate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(String)
    moved: Mapped[dict[str, Any]] = mapped_column(JSONB)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    merged_by: Mapped[str] = mapped_column(String)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String)
