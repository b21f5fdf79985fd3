"""The week-ahead counters count the booked load: bookings × the show rate on top of the
walk-in forecast, without counting past booked tickets twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from analytics.booked_load import booked_tickets, coming_bookings, show_rates, walk_in_history
from analytics.erlang import agents_needed
from analytics.forecast import learn
from analytics.staffing import ServiceTarget
from analytics.week_ahead import week_ahead
from counter.appointments.models import Booking, BookingState
from frontyard.database import session_scope

TZ = ZoneInfo("Asia/Tokyo")
HANDLING = 600.0
MONDAY = date(2025, 9, 8)
#: Eight ordinary weeks of 8 arrivals at 10:00 on weekdays.
HISTORY = {date(2025, 6, 2) + timedelta(days=7 * week + day): {10: 8}
           for week in range(8) for day in range(5)
           if (date(2025, 6, 2) + timedelta(days=7 * week + day)).day <= 27}


def _needs(booked=None):  # type: ignore[no-untyped-def]
    needs = week_ahead({1: learn(HISTORY)}, {1: HANDLING}, MONDAY, ServiceTarget(), days=1,
                       booked=booked)
    return {need.hour: need for need in needs}


def test_bookings_of_an_hour_raise_its_counters_and_nothing_else():
    target = ServiceTarget()
    plain = _needs()
    booked = _needs({1: {MONDAY: {10: 12.0, 14: 3.0}}})
    assert plain[10].expected == 8 and plain[10].booked == 0
    assert booked[10].expected == 20 and booked[10].booked == 12
    assert booked[10].needed == agents_needed(20, HANDLING, target.level, target.seconds)
    assert booked[10].needed > plain[10].needed
    # An hour the walk-ins never come to still needs counters for its bookings.
    assert 14 not in plain and booked[14].needed == agents_needed(3, HANDLING, target.level,
                                                                  target.seconds)
    assert _needs({}) == plain == _needs(None)


def _booking(session, world, start, state, index, checked_in_at=None):  # type: ignore[no-untyped-def]
    session.add(Booking(office_id=world.office_id, service_id=world.services["insurance"],
                        slot_start=start, slot_minutes=15, state=state, name="R",
                        contact=f"r{index}@example.org", manage_token=f"t{index}",
                        checkin_code=f"C{index}", checked_in_at=checked_in_at))


def test_coming_bookings_count_the_show_rate_and_past_booked_tickets_leave_the_history(
        engine, world):
    service = world.services["insurance"]
    past = datetime(2025, 9, 1, 10, 0, tzinfo=TZ)
    coming = datetime(2025, 9, 8, 10, 15, tzinfo=TZ)
    with session_scope(engine) as session:
        for index in range(3):  # three checked in, one missed: 3/4 show up
            _booking(session, world, past, BookingState.CHECKED_IN, index,
                     past - timedelta(minutes=5))
        _booking(session, world, past, BookingState.NO_SHOW, 3)
        _booking(session, world, coming, BookingState.BOOKED, 4)
        _booking(session, world, coming, BookingState.BOOKED, 5)
        _booking(session, world, coming, BookingState.CANCELLED, 6)
        _booking(session, world, coming + timedelta(hours=1), BookingState.CHECKED_IN, 7,
                 coming + timedelta(minutes=50))
    with session_scope(engine) as session:
        rates = show_rates(session, date(2025, 8, 1), date(2025, 9, 7), TZ, world.office_id)
        load = coming_bookings(session, MONDAY, 7, TZ, rates, world.office_id)
        tickets = booked_tickets(session, date(2025, 8, 1), date(2025, 9, 7), TZ)
    assert rates == {service: 0.75}
    # Two bookings × 0.75 (the cancelled one aside); one already checked in counts whole.
    assert load[service][MONDAY] == {10: 1.5, 11: 1.0}
    assert tickets[service][date(2025, 9, 1)] == {9: 3}  # checked in at 9:55
    history = {date(2025, 9, 1): {9: 5, 10: 2}}
    assert walk_in_history(history, tickets[service]) == {date(2025, 9, 1): {9: 2, 10: 2}}
