"""Appointments against walk-ins: how many booked, checked in, missed; how punctual booked
residents were; and how long booked and walk-in tickets waited to be called.

Read straight from the bookings and the event log (no rollup): the figures of a few weeks
are a few thousand rows. Shown on the dashboard when the period has bookings; the week-ahead
counters count the booked load (analytics/booked_load.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from analytics.metrics import Filters
from counter.appointments.models import Booking, BookingState
from counter.models import Event, EventKind


@dataclass(frozen=True)
class AppointmentFigures:
    """An office's appointments in a period, and the waits of booked and walk-in tickets."""

    booked: int  # every booking whose time fell in the period (cancelled ones aside)
    checked_in: int
    no_shows: int
    cancelled: int
    #: Mean minutes between check-in and the booked time (negative: early), or None.
    mean_arrival_minutes: float | None
    #: Mean minutes from the ticket to its first call, booked and walk-in, or None.
    mean_wait_booked: float | None
    mean_wait_walk_in: float | None


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def appointment_figures(session: Session, office_id: int | None, first: datetime,
                        last: datetime) -> AppointmentFigures:
    """The figures of bookings timed in [first, last) and tickets issued then (aware times),
    of one office or (None) of all."""
    query = select(Booking).where(col(Booking.slot_start) >= first,
                                  col(Booking.slot_start) < last)
    if office_id is not None:
        query = query.where(Booking.office_id == office_id)
    bookings = list(session.exec(query))
    states = [b.state for b in bookings]
    arrivals = [_minutes(b.checked_in_at, b.slot_start) for b in bookings
                if b.checked_in_at is not None]
    booked_visits = {b.visit_id for b in bookings if b.visit_id is not None}
    event_query = select(Event.kind, Event.visit_id, Event.at).where(
        col(Event.kind).in_([EventKind.ISSUED, EventKind.CALLED]),
        col(Event.at) >= first, col(Event.at) < last).order_by(col(Event.at), col(Event.id))
    if office_id is not None:
        event_query = event_query.where(Event.office_id == office_id)
    events = session.exec(event_query)
    issued: dict[int, datetime] = {}
    waits: dict[bool, list[float]] = {True: [], False: []}
    for kind, visit_id, at in events:
        if visit_id is None:
            continue
        if kind == EventKind.ISSUED:
            issued[visit_id] = at
        elif visit_id in issued:
            waits[visit_id in booked_visits].append(_minutes(at, issued.pop(visit_id)))
    return AppointmentFigures(
        booked=sum(state != BookingState.CANCELLED for state in states),
        checked_in=states.count(BookingState.CHECKED_IN),
        no_shows=states.count(BookingState.NO_SHOW),
        cancelled=states.count(BookingState.CANCELLED),
        mean_arrival_minutes=mean(arrivals) if arrivals else None,
        mean_wait_booked=mean(waits[True]) if waits[True] else None,
        mean_wait_walk_in=mean(waits[False]) if waits[False] else None)


def period_figures(session: Session, filters: Filters,
                   tz: ZoneInfo) -> AppointmentFigures | None:
    """The figures of the dashboard's period (local dates) and office, or None without any
    booking in it (the dashboard then leaves the section out)."""
    first = datetime.combine(filters.start, time(), tz)
    last = datetime.combine(filters.end + timedelta(days=1), time(), tz)
    figures = appointment_figures(session, filters.office_id, first, last)
    return figures if figures.booked or figures.cancelled else None
