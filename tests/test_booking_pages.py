"""The public booking pages: book, the private manage link (move, cancel, .ics), bad input."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from counter.appointments.models import Booking, BookingState
from frontyard.database import session_scope, utcnow
from frontyard.logs import REDACTED, redact
from tests.appointments_helpers import TZ, make_bookable

EN = {"Accept-Language": "en"}


def _tomorrow_slots(client, base):  # type: ignore[no-untyped-def]
    day = (utcnow().astimezone(TZ) + timedelta(days=1)).date()
    page = client.get(f"{base}?day={day.isoformat()}", headers=EN)
    assert page.status_code == 200
    return re.findall(r'name="slot" value="([^"]+)"', page.text)


@pytest.fixture
def bookable(engine, world):  # type: ignore[no-untyped-def]
    make_bookable(engine, world.services["insurance"], "mon-sun 09:00-11:00 30 1")
    return "/book/test/insurance"


def _book(client, base, slot, name="Hanako", contact="090-1111-2222"):  # type: ignore[no-untyped-def]
    return client.post(base, data={"slot": slot, "name": name, "contact": contact},
                       headers=EN, follow_redirects=False)


def test_book_then_manage_move_and_cancel(client, engine, bookable):
    assert "Insurance" in client.get("/book", headers=EN).text
    free = _tomorrow_slots(client, bookable)
    assert len(free) == 4
    booked = _book(client, bookable, free[0])
    assert booked.status_code == 303
    link = booked.headers["location"].split("?")[0]
    assert REDACTED in redact(f"GET {link} HTTP/1.1")
    page = client.get(link, headers=EN)
    assert page.status_code == 200 and "Check-in code" in page.text
    assert "Hanako" not in page.text and "1111" not in page.text  # no personal data
    assert page.headers["cache-control"] == "no-store"
    code = re.search(r"data-checkin-code>(\w+)<", page.text).group(1)  # type: ignore[union-attr]
    assert len(code) == 6
    assert len(_tomorrow_slots(client, bookable)) == 3  # the taken place is not offered
    ics = client.get(f"{link}/appointment.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "DTSTART;TZID=Asia/Tokyo:" in ics.text
    moved = client.post(f"{link}/move", data={"slot": free[1]}, headers=EN,
                        follow_redirects=False)
    assert moved.status_code == 303
    assert _tomorrow_slots(client, bookable) == [free[0], *free[2:]]
    assert client.post(f"{link}/cancel", headers=EN, follow_redirects=False).status_code == 303
    assert "Cancelled" in client.get(link, headers=EN).text
    assert len(_tomorrow_slots(client, bookable)) == 4
    with session_scope(engine) as session:
        assert session.exec(select(Booking)).one().state == BookingState.CANCELLED


@pytest.mark.parametrize(("form", "message"), [
    ({"slot": "", "name": "A", "contact": "0901112222"}, "Choose one of the times shown"),
    ({"slot": "yesterday", "name": "A", "contact": "0901112222"}, "Choose one of the times"),
    ({"slot": "2020-01-01T09:00:00+09:00", "name": "A", "contact": "0901112222"},
     "cannot be booked"),
    ({"slot": "FREE0", "name": "", "contact": "0901112222"}, "Give your name"),
    ({"slot": "FREE0", "name": "A", "contact": "12"}, "phone number"),
    ({"slot": "FREE0", "name": "A", "contact": "x@"}, "e-mail"),
])
def test_every_bad_input_is_a_clear_message(client, bookable, form, message):
    free = _tomorrow_slots(client, bookable)
    data = {key: (free[0] if value == "FREE0" else value) for key, value in form.items()}
    response = client.post(bookable, data=data, headers=EN)
    assert response.status_code == 422
    assert message in response.text and 'role="alert"' in response.text


def test_a_full_slot_says_so(client, bookable):
    free = _tomorrow_slots(client, bookable)
    assert _book(client, bookable, free[0]).status_code == 303
    response = _book(client, bookable, free[0], contact="b@example.org")
    assert response.status_code == 409 and "now full" in response.text


def test_unknown_links_and_services_are_404(client, bookable):
    assert client.get("/booking/not-a-token", headers=EN).status_code == 404
    assert client.post("/booking/not-a-token/cancel", headers=EN).status_code == 404
    assert client.get("/book/test/residents", headers=EN).status_code == 404
    assert client.get("/book/nowhere/insurance", headers=EN).status_code == 404


def test_booking_requests_are_rate_limited(client, app, bookable):
    app.state.settings.booking_limit = 2
    for _ in range(2):
        client.post(bookable, data={"slot": ""}, headers=EN)
    refused = client.post(bookable, data={"slot": ""}, headers=EN)
    assert refused.status_code == 429 and "Too many booking requests" in refused.text


def test_every_language_renders(client, bookable):
    for code in ("ja", "ja_easy", "zh_Hans", "ne"):
        assert client.get(bookable, headers={"Accept-Language": code.replace("_", "-")}
                          ).status_code == 200


def test_the_manage_token_never_reaches_the_log(client, bookable, caplog):
    free = _tomorrow_slots(client, bookable)
    token = _book(client, bookable, free[0]).headers["location"].split("/")[2].split("?")[0]
    logging.getLogger("frontyard").info("GET /booking/%s/move", token)
    assert token not in redact(caplog.text)
