"""Objects, locations, events and links."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Float, String
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Record


class PoleObject(Record):
    """A vehicle, a telephone or other property."""

    __tablename__ = "pole_object"
    record_type = "object"
    maskable = ("vrm", "make", "model", "colour", "vin", "phone_number", "serial_number", "description")
    attachable = True

    kind: Mapped[str] = mapped_column(String)
    vrm: Mapped[str | None] = mapped_column(String)
    make: Mapped[str | None] = mapped_column(String)
    model: Mapped[str | None] = mapped_column(String)
    colour: Mapped[str | None] = mapped_column(String)
    vin: Mapped[str | None] = mapped_column(String)
    phone_number: Mapped[str | None] = mapped_column(String)
    category: Mapped[str | None] = mapped_column(String)
    description: Mapped[str | None] = mapped_column(String)
    serial_number: Mapped[str | None] = mapped_column(String)


class Location(Record):
    __tablename__ = "location"
    record_type = "location"
    maskable = ("address_lines", "town", "postcode", "uprn", "latitude", "longitude")
    attachable = True

    address_lines: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    town: Mapped[str | None] = mapped_column(String)
    postcode: Mapped[str | None] = mapped_column(String)
    uprn: Mapped[int | None] = mapped_column(BigInteger)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class PoleEvent(Record):
    """A generic occurrence that custody, crimes and intelligence own or specialise."""

    __tablename__ = "pole_event"
    record_type = "event"
    maskable = ("occurred_at", "location_id", "summary")
    attachable = True

    event_type: Mapped[str] = mapped_column(String)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    location_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    summary: Mapped[str] = mapped_column(String, default="")


class Link(Record):
    """A typed, dated link between two entities, with the record it came from."""

    __tablename__ = "pole_link"
    record_type = "link"
    maskable = ("valid_from", "valid_to", "source")
    attachable = True

    from_type: Mapped[str] = mapped_column(String)
    from_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    to_type: Mapped[str] = mapped_column(String)
    to_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    link_type: Mapped[str] = mapped_column(String)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source_type: Mapped[str | None] = mapped_column(String)
    source_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
