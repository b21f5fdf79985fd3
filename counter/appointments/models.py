"""Tables of appointments: which services take bookings, their weekly hours, the bookings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from frontyard.database import UTCDateTime, enum_column, utcnow


def _utc_column(nullable: bool = False, index: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class BookableService(SQLModel, table=True):
    """A service residents may book ahead (any kind: a queue or appointment-only)."""

    service_id: int = Field(foreign_key="service.id", primary_key=True)
    enabled: bool = True


class BookingHours(SQLModel, table=True):
    """One weekly time range of a bookable service: its slot length and places per slot."""

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    #: 0 = Monday … 6 = Sunday.
    weekday: int
    #: Local times "HH:MM" in the city's time zone; `end` is exclusive.
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)
    slot_minutes: int
    capacity: int


class BookingState(StrEnum):
    """Where a booking stands."""

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Booking(SQLModel, table=True):
    """One resident's appointment: a slot of a service, a name and a contact, two secrets."""

    __table_args__ = (Index("ix_booking_slot", "service_id", "slot_start"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    slot_start: datetime = Field(sa_column=_utc_column())
    slot_minutes: int
    state: BookingState = Field(default=BookingState.BOOKED,
                                sa_column=enum_column(BookingState, index=True))
    name: str = Field(max_length=100)
    #: A phone number or an e-mail address, normalised (for the per-contact cap).
    contact: str = Field(max_length=254, index=True)
    locale: str = Field(default="ja", max_length=16)
    #: The private manage link's secret; never logged, never shown to staff.
    manage_token: str = Field(unique=True, max_length=64)
    #: Typed or scanned at the kiosk; short, without ambiguous characters.
    checkin_code: str = Field(unique=True, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    checked_in_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    #: The ticket issued at check-in.
    visit_id: int | None = Field(default=None, foreign_key="visit.id", index=True)


class SlotTally(SQLModel, table=True):
    """Places taken per slot, changed only by one atomic statement (no over-booking)."""

    __table_args__ = (UniqueConstraint("service_id", "slot_start"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id")
    slot_start: datetime = Field(sa_column=_utc_column())
    taken: int = 0
