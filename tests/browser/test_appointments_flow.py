"""Appointments in a real Chromium: a resident books on a phone (390×844), gets the private
link, moves the booking, checks in at the kiosk (1080×1920) within the window and is called
before a walk-in who came later; a check-in outside the window is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from composition.demo import seed_structure
from composition.factory import create_app
from counter import queue
from counter.appointments import booking as bookings
from counter.appointments import slots
from counter.models import Counter, Service, Visit
from frontyard import database
from frontyard.auth import DeviceKind, Role, create_device, create_user
from frontyard.settings import Settings
from tests.browser.conftest import _free_port, assert_accessible, serving

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1080, "height": 1920}
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


@dataclass
class Server:
    url: str
    app: Any
    office_id: int
    service_id: int


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Frontyard with the demo structure; insurance bookable all day, 15-minute slots."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path_factory.mktemp("appointments"),
                        secret_key="appointments-secret", base_url=url)
    database.upgrade(settings.resolved_database_url())
    app = create_app(settings)
    with serving(app, port):
        with database.session_scope(app.state.engine) as session:
            office_id = seed_structure(session).id
            service_id = session.exec(select(Service.id).where(
                Service.code == "insurance")).one()
            slots.set_bookable(session, service_id, True,  # type: ignore[arg-type]
                               slots.parse_hours("mon-sun 00:00-24:00 15 3"))
        yield Server(url, app, office_id, service_id)  # type: ignore[arg-type]


def _new_page(browser, viewport):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport, locale="en-US")
    context.set_default_timeout(10_000)
    return context, context.new_page()


def _walk_in(server: Server) -> str:
    with database.session_scope(server.app.state.engine) as session:
        return queue.issue_ticket(session, office_id=server.office_id,
                                  service_codes=["insurance"]).ticket_number


def _kiosk(browser, server: Server):  # type: ignore[no-untyped-def]
    with database.session_scope(server.app.state.engine) as session:
        _, _, code = create_device(session, "appointments-kiosk", DeviceKind.KIOSK,
                                   office_id=server.office_id)
    context, page = _new_page(browser, KIOSK)
    page.goto(f"{server.url}/device/pair/{code}")
    page.get_by_role("button").last.click()
    page.wait_for_url(f"{server.url}/kiosk")
    return context, page


def test_book_move_check_in_and_be_called(browser, server):
    phone_context, phone = _new_page(browser, PHONE)
    phone.goto(f"{server.url}/book")
    phone.click("a[href='/book/main/insurance']")
    assert phone.evaluate(NO_OVERFLOW)
    assert_accessible(phone)
    phone.locator("input[name=slot]").first.check()
    phone.fill("#f-name", "Hanako Yamada")
    phone.fill("#f-contact", "090-1234-5678")
    phone.click("button[type=submit]")
    phone.wait_for_url("**/booking/**")
    link = phone.url.split("?")[0]
    first_time = phone.locator("[data-booking-time]").inner_text()
    code = phone.locator("[data-checkin-code]").inner_text()
    assert "Hanako" not in phone.content() and "1234" not in phone.content()
    assert phone.evaluate(NO_OVERFLOW)
    assert_accessible(phone)
    # Move to the next free time (still within the next half hour: check-in is open).
    phone.locator("form[action$='/move'] input[name=slot]").nth(1).check()
    phone.click("form[action$='/move'] button[type=submit]")
    phone.wait_for_url(link)
    assert phone.locator("[data-booking-time]").inner_text() != first_time
    phone_context.close()

    earlier = _walk_in(server)
    kiosk_context, kiosk = _kiosk(browser, server)
    kiosk.click("[data-checkin-link]")
    kiosk.fill("#f-code", code.lower())
    kiosk.click("form[action='/kiosk/checkin'] button[type=submit]")
    booked = kiosk.locator("[data-ticket-number]").inner_text()
    assert_accessible(kiosk)
    later = _walk_in(server)

    # Outside the window: a booking three hours ahead cannot check in yet.
    with database.session_scope(server.app.state.engine) as session:
        now = database.utcnow()
        start = (now + timedelta(hours=3)).replace(second=0, microsecond=0)
        start = start.replace(minute=start.minute - start.minute % 15)
        service = session.get(Service, server.service_id)
        early_code = bookings.book(session, service=service, start=start, name="B",  # type: ignore[arg-type]
                                   contact="b@example.org", locale="en",
                                   rules=bookings.BookingRules(tz=server.app.state.settings.tz),
                                   now=now).checkin_code
    kiosk.goto(f"{server.url}/kiosk/checkin")
    kiosk.fill("#f-code", early_code)
    kiosk.click("form[action='/kiosk/checkin'] button[type=submit]")
    message = kiosk.locator("[data-checkin-message]").inner_text()
    assert "Check-in opens at" in message
    assert_accessible(kiosk)
    kiosk_context.close()

    # A counter calls: the walk-in who came first, then the booked resident, then the later one.
    with database.session_scope(server.app.state.engine) as session:
        counter = session.exec(select(Counter).where(Counter.number == "4")).one()
        staff = create_user(session, "appointments-staff", "appointments-password", Role.STAFF)
        queue.open_counter(session, counter.id, staff.id, [server.service_id])  # type: ignore[arg-type]
        counter_id, staff_id = counter.id, staff.id
    called = []
    for _ in range(3):
        with database.session_scope(server.app.state.engine) as session:
            task = queue.call_next(session, counter_id, staff_id)  # type: ignore[arg-type]
            assert task is not None
            called.append(session.get(Visit, task.visit_id).ticket_number)  # type: ignore[union-attr]
            queue.start(session, task.id, staff_id)  # type: ignore[arg-type]
            queue.complete(session, task.id, staff_id)  # type: ignore[arg-type]
    assert called == [earlier, booked, later]


def test_booking_pages_fit_a_phone_in_every_language(browser, server):
    """No horizontal scrolling at 390 px on the booking and manage pages, in all twelve
    languages; easy Japanese carries its readings."""
    from frontyard import i18n

    with database.session_scope(server.app.state.engine) as session:
        now = database.utcnow()
        start = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
        service = session.get(Service, server.service_id)
        token = bookings.book(session, service=service, start=start, name="C",  # type: ignore[arg-type]
                              contact="c@example.org", locale="en",
                              rules=bookings.BookingRules(tz=server.app.state.settings.tz),
                              now=now).manage_token
    context, phone = _new_page(browser, PHONE)
    for language in i18n.LANGUAGES:
        for path in ("/book/main/insurance", f"/booking/{token}"):
            phone.goto(f"{server.url}/locale/{language.code}?next={path}")
            assert phone.evaluate(NO_OVERFLOW), f"{path} overflows in {language.code}"
            assert phone.locator("h1").count() == 1
    phone.goto(f"{server.url}/locale/ja_easy?next=/booking/{token}")
    assert_accessible(phone)
    context.close()
