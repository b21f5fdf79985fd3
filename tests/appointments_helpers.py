"""Shared set-up of the appointment tests: a bookable service with weekly hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from counter.appointments import slots
from counter.appointments.booking import BookingRules
from frontyard.database import session_scope

TZ = ZoneInfo("Asia/Tokyo")
#: A Wednesday morning, before the day's hours.
NOW = datetime(2026, 4, 1, 8, 0, tzinfo=TZ)
RULES = BookingRules(tz=TZ)


def make_bookable(engine, service_id: int, hours: str = "mon-fri 09:00-12:00 15 2") -> None:  # type: ignore[no-untyped-def]
    """Make a service bookable with the given weekly hours."""
    with session_scope(engine) as session:
        slots.set_bookable(session, service_id, True, slots.parse_hours(hours))


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """A local time on NOW's day (plus `days`)."""
    return (NOW + timedelta(days=days)).replace(hour=hour, minute=minute)
