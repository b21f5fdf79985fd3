"""Appointments: weekly hours, slots, booking, moving, cancelling, check-in and no-shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from counter.appointments import booking as bookings
from counter.appointments import checkin, slots
from counter.appointments.ics import booking_ics
from counter.appointments.models import Booking, BookingState
from counter.models import Event, EventKind, Service, ServiceKind
from counter.queue import QueueRules
from frontyard.database import session_scope
from frontyard.exceptions import Conflict, NotFound, TooManyRequests, ValidationFailed
from frontyard.i18n import use_locale
from tests.appointments_helpers import NOW, RULES, TZ, at, make_bookable

QUEUE_RULES = QueueRules(tz=TZ)


def _book(engine, world, start, contact="090-1234-5678", code="insurance"):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        service = bookings.bookable_service(session, world.office_id, code)
        booking = bookings.book(session, service=service, start=start, name="山田 花子",
                                contact=contact, locale="en", rules=RULES, now=NOW)
        return booking.manage_token, booking.checkin_code


# --- hours ---------------------------------------------------------------------------------


def test_parse_hours_expands_weekdays():
    ranges = slots.parse_hours("mon-fri 09:00-12:00 15 2\n\nsat 9:00-10:00 30 1")
    assert slots.parse_hours("sun 23:00-24:00 30 1")[0].end == "24:00"
    assert len(ranges) == 6
    assert ranges[0] == slots.HoursRange(0, "09:00", "12:00", 15, 2)
    assert ranges[-1] == slots.HoursRange(5, "09:00", "10:00", 30, 1)
    assert slots.parse_hours(slots.format_hours(ranges)) == sorted(
        ranges, key=lambda r: (r.weekday, r.start))


@pytest.mark.parametrize(("text", "problem"), [
    ("monday 09:00-12:00 15 2", "write it as"),
    ("xyz 09:00-12:00 15 2", "days are"),
    ("fri-mon 09:00-12:00 15 2", "first day"),
    ("mon 12:00-09:00 15 2", "end after"),
    ("mon 25:00-26:00 15 2", "HH:MM"),
    ("mon 09:00-12:00 7 2", "divide"),
    ("mon 09:00-12:00 15 0", "places"),
    ("mon 09:00-12:00 15 2\nmon 11:00-13:00 15 2", "overlap"),
])
def test_parse_hours_rejects_bad_lines_with_a_clear_message(text, problem):
    with use_locale("en"), pytest.raises(ValidationFailed) as raised:
        slots.parse_hours(text)
    assert problem in str(raised.value)
    assert "hours" in raised.value.fields


def test_day_slots_follow_the_weekly_hours(engine, world):
    make_bookable(engine, world.services["insurance"])
    with session_scope(engine) as session:
        day = slots.day_slots(session, world.services["insurance"], NOW.date(), TZ)
        weekend = slots.day_slots(session, world.services["insurance"],
                                  NOW.date() + timedelta(days=3), TZ)
    assert len(day) == 12 and weekend == []
    assert day[0].start == at(9) and day[0].end == at(9, 15) and day[0].capacity == 2


# --- booking ---------------------------------------------------------------------------------


def test_book_takes_a_place_and_gives_secrets(engine, world):
    make_bookable(engine, world.services["insurance"])
    token, code = _book(engine, world, at(9))
    assert len(token) >= 40
    assert len(code) == bookings.CODE_LENGTH and set(code) <= set(bookings.CODE_ALPHABET)
    with session_scope(engine) as session:
        day = slots.day_slots(session, world.services["insurance"], NOW.date(), TZ)
        row = session.exec(select(Booking)).one()
    assert day[0].taken == 1 and day[0].free == 1
    assert row.contact == "09012345678" and row.state == BookingState.BOOKED


def test_a_full_slot_refuses_with_a_clear_message(engine, world):
    make_bookable(engine, world.services["insurance"], "wed 09:00-10:00 30 1")
    _book(engine, world, at(9))
    with use_locale("en"), pytest.raises(bookings.SlotFull, match="full"):
        _book(engine, world, at(9), contact="a@example.org")


@pytest.mark.parametrize("start", [at(7), at(9, 5), at(13), at(9, days=-1), at(9, days=40)])
def test_only_real_future_slots_within_the_horizon(engine, world, start):
    make_bookable(engine, world.services["insurance"], "mon-sun 09:00-12:00 15 2")
    with use_locale("en"), pytest.raises(ValidationFailed, match="cannot be booked"):
        _book(engine, world, start)


@pytest.mark.parametrize(("name", "contact", "field"), [
    ("", "0901234567", "name"), ("x" * 101, "0901234567", "name"),
    ("Hanako", "123", "contact"), ("Hanako", "not-an-email@", "contact"),
])
def test_bad_name_or_contact(engine, world, name, contact, field):
    make_bookable(engine, world.services["insurance"])
    with session_scope(engine) as session, pytest.raises(ValidationFailed) as raised:
        service = bookings.bookable_service(session, world.office_id, "insurance")
        bookings.book(session, service=service, start=at(9), name=name, contact=contact,
                      locale="ja", rules=RULES, now=NOW)
    assert field in raised.value.fields


def test_a_service_not_bookable_is_not_found(engine, world):
    with session_scope(engine) as session, pytest.raises(NotFound):
        bookings.bookable_service(session, world.office_id, "insurance")


def test_open_bookings_per_contact_are_capped(engine, world):
    make_bookable(engine, world.services["insurance"])
    for minute in (0, 15, 30):
        _book(engine, world, at(9, minute))
    with pytest.raises(TooManyRequests):
        _book(engine, world, at(10), contact="+81 90-1234-5678".replace("+81 ", "0"))


def test_move_and_cancel_free_the_old_place(engine, world):
    make_bookable(engine, world.services["insurance"], "wed 09:00-10:00 15 1")
    token, _ = _book(engine, world, at(9))
    with session_scope(engine) as session:
        bookings.move_booking(session, token, at(9, 30), RULES, now=NOW)
    _book(engine, world, at(9), contact="b@example.org")  # the old place is free again
    other, _ = _book(engine, world, at(9, 45), contact="c@example.org")
    with pytest.raises(bookings.SlotFull), session_scope(engine) as session:
        bookings.move_booking(session, other, at(9), RULES, now=NOW)  # 09:00 is full again
    with session_scope(engine) as session:
        bookings.cancel_booking(session, token, now=NOW)
    with session_scope(engine) as session:
        assert bookings.booking_for_token(session, token).state == BookingState.CANCELLED
        assert bookings.booking_for_token(session, other).slot_start == at(9, 45)
        with pytest.raises(Conflict):
            bookings.cancel_booking(session, token, now=NOW)
    with session_scope(engine) as session:
        day = slots.day_slots(session, world.services["insurance"], NOW.date(), TZ)
    assert [slot.taken for slot in day] == [1, 0, 0, 1]  # 09:30 is free after the cancel


def test_ics_has_the_booked_instant(engine, world):
    make_bookable(engine, world.services["insurance"])
    token, _ = _book(engine, world, at(9, 15))
    with session_scope(engine) as session:
        booking = bookings.booking_for_token(session, token)
        text = booking_ics(booking, summary="Insurance", location="Test office",
                           description="Code", now=NOW, tz=TZ)
    assert "DTSTART;TZID=Asia/Tokyo:20260401T091500" in text  # 00:15 UTC
    assert "DTEND;TZID=Asia/Tokyo:20260401T093000" in text
    assert "TZOFFSETTO:+0900" in text and text.endswith("END:VCALENDAR\r\n")


# --- check-in --------------------------------------------------------------------------------


def _check_in(engine, world, code, now):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        booking, visit = checkin.check_in(session, office_id=world.office_id, code=code,
                                          rules=RULES, queue_rules=QUEUE_RULES, now=now)
        return booking.state, visit.ticket_number


def test_check_in_within_the_window_issues_a_ticket(engine, world):
    make_bookable(engine, world.services["insurance"])
    _, code = _book(engine, world, at(10))
    state, number = _check_in(engine, world, code.lower(), at(9, 35))
    assert state == BookingState.CHECKED_IN and number == "B-001"
    with session_scope(engine) as session:
        issued = session.exec(select(Event).where(Event.kind == EventKind.ISSUED)).one()
    assert issued.data["appointment"].startswith("2026-04-01T01:00")
    with use_locale("en"), pytest.raises(checkin.CheckInClosed, match="already"):
        _check_in(engine, world, code, at(9, 40))


def test_check_in_too_early_says_when_it_opens(engine, world):
    make_bookable(engine, world.services["insurance"])
    _, code = _book(engine, world, at(10))
    with use_locale("en"), pytest.raises(checkin.CheckInTooEarly) as raised:
        _check_in(engine, world, code, at(9, 29))
    assert "09:30" in str(raised.value) and raised.value.opens_at == at(9, 30)


def test_check_in_too_late_marks_a_no_show(engine, world):
    make_bookable(engine, world.services["insurance"])
    _, code = _book(engine, world, at(10))
    with use_locale("en"), pytest.raises(checkin.CheckInClosed, match="closed at 10:15"):
        _check_in(engine, world, code, at(10, 16))
    with session_scope(engine) as session:
        assert checkin.mark_no_shows(session, RULES, now=at(10, 16)) == 1
    with session_scope(engine) as session:
        assert session.exec(select(Booking)).one().state == BookingState.NO_SHOW


def test_unknown_code(engine, world):
    with pytest.raises(NotFound):
        _check_in(engine, world, "ZZZZZZ", NOW)


def test_mark_no_shows_after_the_grace(engine, world):
    make_bookable(engine, world.services["insurance"])
    _book(engine, world, at(9))
    _book(engine, world, at(11), contact="x@example.org")
    with session_scope(engine) as session:
        assert checkin.mark_no_shows(session, RULES, now=at(9, 16)) == 1
        states = sorted(b.state for b in session.exec(select(Booking)))
    assert states == [BookingState.BOOKED, BookingState.NO_SHOW]


def test_appointment_only_services_issue_a_ticket_at_check_in(engine, world):
    with session_scope(engine) as session:
        service = session.get(Service, world.services["childcare"])
        service.kind = ServiceKind.APPOINTMENT
        session.add(service)
    make_bookable(engine, world.services["childcare"])
    _, code = _book(engine, world, at(10), code="childcare")
    assert _check_in(engine, world, code, at(9, 50))[1] == "C-001"


def test_old_names_and_contacts_are_forgotten(engine, world):
    make_bookable(engine, world.services["insurance"])
    _book(engine, world, at(9))
    with session_scope(engine) as session:
        assert checkin.forget_old_contacts(session, at(9) + timedelta(hours=23), 24) == 0
        assert checkin.forget_old_contacts(session, at(9) + timedelta(hours=25), 24) == 1
    with session_scope(engine) as session:
        row = session.exec(select(Booking)).one()
    assert row.name == "" and row.contact == ""
