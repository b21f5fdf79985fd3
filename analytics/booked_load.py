"""The booked load for the week-ahead counters: future bookings per service, day and hour,
weighted by the share of bookings that usually show up, and the past booked tickets to take
out of the walk-in history (they are ordinary tickets in the log, so counted there already).

expected(hour) = walk-in forecast(hour) + bookings(hour) × show rate, where the walk-in
forecast learns from the history less the tickets issued at a booking's check-in, and the show
rate is checked in ÷ (checked in + no-shows) of the service's past bookings (1 without any).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from counter.appointments.models import Booking, BookingState

#: service → local date → local hour → count
Load = dict[int, dict[date, dict[int, float]]]


def _where(query, office_id: int | None, service_id: int | None):  # type: ignore[no-untyped-def]
    if office_id is not None:
        query = query.where(Booking.office_id == office_id)
    if service_id is not None:
        query = query.where(Booking.service_id == service_id)
    return query


def _bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local dates `first`–`last` inclusive as aware times [start, end)."""
    return (datetime.combine(first, time(), tz),
            datetime.combine(last + timedelta(days=1), time(), tz))


def show_rates(session: Session, first: date, last: date, tz: ZoneInfo,
               office_id: int | None = None, service_id: int | None = None) -> dict[int, float]:
    """Per service, the share of its bookings timed `first`–`last` that were checked in
    rather than missed (services without settled bookings are absent: count them whole)."""
    start, end = _bounds(first, last, tz)
    counts: dict[int, dict[BookingState, int]] = defaultdict(lambda: defaultdict(int))
    query = _where(select(Booking.service_id, Booking.state).where(
        col(Booking.slot_start) >= start, col(Booking.slot_start) < end,
        col(Booking.state).in_([BookingState.CHECKED_IN, BookingState.NO_SHOW])),
        office_id, service_id)
    for service, state in session.exec(query):
        counts[service][state] += 1
    return {service: by_state[BookingState.CHECKED_IN] / sum(by_state.values())
            for service, by_state in counts.items()}


def booked_tickets(session: Session, first: date, last: date, tz: ZoneInfo,
                   office_id: int | None = None, service_id: int | None = None) -> Load:
    """Tickets issued at a booking's check-in, per service, local date and hour of check-in."""
    start, end = _bounds(first, last, tz)
    load: Load = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    query = _where(select(Booking.service_id, Booking.checked_in_at).where(
        col(Booking.checked_in_at).is_not(None), col(Booking.checked_in_at) >= start,
        col(Booking.checked_in_at) < end), office_id, service_id)
    for service, checked_in_at in session.exec(query):
        local = checked_in_at.astimezone(tz)
        load[service][local.date()][local.hour] += 1
    return load


def coming_bookings(session: Session, first: date, days: int, tz: ZoneInfo,
                    rates: dict[int, float], office_id: int | None = None,
                    service_id: int | None = None) -> Load:
    """Bookings of the days (not cancelled nor missed) per service, local date and hour of the
    booked time: each still open one counted as its service's show rate, each already checked
    in (a forecast from today) as one."""
    start, end = _bounds(first, first + timedelta(days=days - 1), tz)
    load: Load = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    query = _where(select(Booking.service_id, Booking.slot_start, Booking.state).where(
        col(Booking.state).in_([BookingState.BOOKED, BookingState.CHECKED_IN]),
        col(Booking.slot_start) >= start, col(Booking.slot_start) < end), office_id, service_id)
    for service, slot_start, state in session.exec(query):
        local = slot_start.astimezone(tz)
        load[service][local.date()][local.hour] += (
            1.0 if state == BookingState.CHECKED_IN else rates.get(service, 1.0))
    return load


def walk_in_history(history: dict[date, dict[int, int]],
                    booked: dict[date, dict[int, float]]) -> dict[date, dict[int, int]]:
    """A service's history less its booked tickets (never below nothing)."""
    return {day: {hour: max(0, count - int(booked.get(day, {}).get(hour, 0)))
                  for hour, count in hours.items()} for day, hours in history.items()}
