"""The kiosk outside opening hours, in a real Chromium at kiosk size (1080×1920): a resident
who chooses a language sees that the office is closed and when it opens, in that language,
and no ticket can be had; the screen passes axe."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlmodel import col, delete, select

from counter.hours import Closure, OpeningRange
from counter.models import Office, Visit
from frontyard import i18n
from tests.browser.conftest import LiveServer, assert_accessible
from tests.browser.test_kiosk_flow import live_db, pair_kiosk

pytestmark = pytest.mark.browser

KIOSK = {"width": 1080, "height": 1920}


def test_a_resident_outside_hours_sees_the_closed_screen_with_the_next_opening(
        browser, live_server: LiveServer):
    """Closed today and tomorrow, open 09:00–17:00 daily: the opening is the day after
    tomorrow at 09:00, shown in English and in Japanese; nothing is issued."""
    tz = live_server.settings.tz
    today = datetime.now(tz).date()
    opening = datetime.combine(today + timedelta(days=2), time(9), tzinfo=tz)
    with live_db(live_server) as session:
        office = session.exec(select(Office).where(Office.code == "main")).one()
        office_id = office.id
        session.add_all(OpeningRange(office_id=office_id, weekday=day, opens=540, closes=1020)
                        for day in range(7))
        session.add(Closure(office_id=office_id, first_day=today,
                            last_day=today + timedelta(days=1), name="browser test"))
        visits_before = len(session.exec(select(Visit)).all())
    context = browser.new_context(locale="en-US", viewport=KIOSK)
    try:
        page = context.new_page()
        pair_kiosk(page, live_server)
        for code, words in (("en", "The office is closed now. It opens again on"),
                            ("ja", "開きます")):
            page.goto(f"{live_server.url}/kiosk")
            page.locator(f"button[name=locale][value={code}]").click()
            page.wait_for_url(f"{live_server.url}/kiosk/closed")
            with i18n.use_locale(code):
                when = i18n.fmt_when(opening, tz)
            notice = page.locator("[data-office-closed] [role=status]")
            notice.wait_for()
            assert words in notice.inner_text() and when in notice.inner_text()
            assert notice.is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= KIOSK["width"]
            assert_accessible(page)
            page.goto(f"{live_server.url}/kiosk/events")
            assert page.url == f"{live_server.url}/kiosk"  # no session: back to the start
    finally:
        context.close()
        with live_db(live_server) as session:  # the live server is shared: leave it open
            session.execute(delete(OpeningRange).where(col(OpeningRange.office_id) == office_id))
            session.execute(delete(Closure).where(col(Closure.office_id) == office_id))
            assert len(session.exec(select(Visit)).all()) == visits_before
