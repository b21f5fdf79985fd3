"""Checking in for an appointment at the kiosk: a ticket within the window, a clear message
outside it (when check-in opens, or that it closed), an unknown code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from counter.appointments import booking as bookings
from counter.appointments.models import Booking, BookingState
from counter.models import Event, EventKind
from frontyard import database
from frontyard.auth import DeviceKind, create_device
from frontyard.database import session_scope, utcnow
from tests.appointments_helpers import RULES, make_bookable
from tests.conftest import make_client

EN = {"Accept-Language": "en"}


@pytest.fixture
def kiosk(app, engine, world):  # type: ignore[no-untyped-def]
    with database.session_scope(engine) as session:
        _, token, _ = create_device(session, "lobby-1", DeviceKind.KIOSK,
                                    office_id=world.office_id)
    with make_client(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def _slot(minutes_from_now: int):  # type: ignore[no-untyped-def]
    moment = utcnow() + timedelta(minutes=minutes_from_now)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def _book(engine, world, start, index):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        service = bookings.bookable_service(session, world.office_id, "insurance")
        return bookings.book(session, service=service, start=start, name="R",
                             contact=f"r{index}@example.org", locale="en", rules=RULES,
                             now=start - timedelta(hours=5)).checkin_code


@pytest.fixture
def hours(engine, world):  # type: ignore[no-untyped-def]
    make_bookable(engine, world.services["insurance"], "mon-sun 00:00-24:00 15 5")


def test_check_in_within_the_window_issues_a_ticket(kiosk, engine, world, hours):
    code = _book(engine, world, _slot(25), 0)
    assert "Check in for your appointment" in kiosk.get("/kiosk/checkin", headers=EN).text
    page = kiosk.post("/kiosk/checkin", data={"code": code.lower()}, headers=EN)
    assert page.status_code == 200 and "data-ticket-number>B-001<" in page.text
    with session_scope(engine) as session:
        assert session.exec(select(Booking)).one().state == BookingState.CHECKED_IN
        issued = session.exec(select(Event).where(Event.kind == EventKind.ISSUED)).one()
        assert "appointment" in issued.data


def test_too_early_says_when_check_in_opens(kiosk, engine, world, hours):
    start = _slot(180)
    code = _book(engine, world, start, 0)
    page = kiosk.post("/kiosk/checkin", data={"code": code}, headers=EN)
    opens = (start - timedelta(minutes=30)).astimezone(RULES.tz).strftime("%H:%M")
    assert page.status_code == 409 and f"Check-in opens at {opens}" in page.text


def test_too_late_says_it_closed_and_marks_a_no_show(kiosk, engine, world, hours):
    code = _book(engine, world, _slot(-45), 0)
    page = kiosk.post("/kiosk/checkin", data={"code": code}, headers=EN)
    assert page.status_code == 409 and "closed at" in page.text
    with session_scope(engine) as session:
        assert session.exec(select(Booking)).one().state == BookingState.NO_SHOW


@pytest.mark.parametrize("code", ["", "NOPE", "x" * 40])
def test_unknown_codes(kiosk, hours, code):
    page = kiosk.post("/kiosk/checkin", data={"code": code}, headers=EN)
    assert page.status_code == 404 and "not known here" in page.text


def test_only_kiosks_check_in(client):
    refused = client.post("/kiosk/checkin", data={"code": "X"}, follow_redirects=False)
    assert refused.status_code in {401, 403, 303}
