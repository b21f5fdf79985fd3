"""Residents' phones at 390×844 in headless Chromium: the status and crowding pages fit the
screen in every language, one compact language chooser, readings of at least 12 px (larger on
the kiosk), and a call that fills the screen, vibrates and chimes.

The phone's own server (not the shared demo one): the tests call tickets through the engine
and announce them, so no other test's counters or queues are touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from composition.demo import seed_structure
from composition.factory import create_app
from counter import queue
from counter.models import Counter, Service, Task
from counter.topics import topic_of
from frontyard import database, i18n
from frontyard.auth import Role, create_user
from frontyard.realtime import announce
from frontyard.settings import Settings
from tests.browser.conftest import _free_port, assert_accessible, serving

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CONNECTED = "() => (window.frontyardLive || []).some((s) => s.lastParts.size > 0)"
# Vibration and sound are recorded: a phone in a pocket must notice the call.
CALL_STUB = """
window.__vibrations = [];
Object.defineProperty(navigator, "vibrate", {configurable: true,
  value: (pattern) => { window.__vibrations.push(pattern); return true; }});
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (this.src.includes("chime")) window.__chimes = (window.__chimes || []).concat([this.src]);
  return play.call(this);
};
"""
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"
SMALLEST_READING = """() => Math.min(...Array.from(document.querySelectorAll("rt"),
  (rt) => parseFloat(getComputedStyle(rt).fontSize)))"""


@dataclass
class PhoneServer:
    """A running Frontyard with the demo office's structure and no tickets."""

    url: str
    app: Any
    office_id: int


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhoneServer]:
    """Frontyard on SQLite, served by uvicorn in a thread; the test keeps the app to announce."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path_factory.mktemp("phone"), secret_key="phone-secret",
                        base_url=url)
    database.upgrade(settings.resolved_database_url())
    app = create_app(settings)
    with serving(app, port):
        with database.session_scope(app.state.engine) as session:
            office_id = seed_structure(session).id
        yield PhoneServer(url, app, office_id)  # type: ignore[arg-type]


def _issue(server: PhoneServer, locale: str = "en") -> tuple[str, int]:
    """A ticket for four procedures (long names), as the kiosk issues it: (token, first task)."""
    with database.session_scope(server.app.state.engine) as session:
        visit = queue.issue_ticket(
            session, office_id=server.office_id,
            service_codes=["residents", "residents", "insurance", "childcare"],
            procedure_codes=["moving_in_from_abroad", "mynumber_card_application",
                             "nhi_join", "child_allowance_claim"], locale=locale)
        announce(session, server.app.state.hub, topic_of(server.office_id), {"type": "issued"})
        task = session.exec(select(Task.id).where(Task.visit_id == visit.id)
                            .order_by(Task.position)).first()
        return visit.status_token, task  # type: ignore[return-value]


def _call(server: PhoneServer, task_id: int) -> None:
    """A member of staff opens counter 2 for residents and calls this ticket."""
    with database.session_scope(server.app.state.engine) as session:
        counter = session.exec(select(Counter).where(Counter.number == "2")).one()
        service = session.exec(select(Service).where(Service.code == "residents")).one()
        staff = create_user(session, f"phone-staff-{task_id}", "phone-staff-password",
                            Role.STAFF)
        queue.open_counter(session, counter.id, staff.id, [service.id])  # type: ignore[arg-type]
        queue.call_task(session, task_id, counter.id, staff.id)  # type: ignore[arg-type]
        announce(session, server.app.state.hub, topic_of(server.office_id), {"type": "called"})


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    """A phone-sized page with vibration and sound recorded."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-US")
    context.set_default_timeout(10_000)
    context.add_init_script(CALL_STUB)
    yield context.new_page()
    context.close()


def _header_fits(page) -> None:  # type: ignore[no-untyped-def]
    """One compact chooser: the header is one row, the languages hidden until asked for."""
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 80, header
    assert page.locator(".language-chooser summary").count() == 1
    assert page.locator(".language-chooser nav a").first.is_hidden()


def test_status_and_crowding_pages_fit_a_phone_in_every_language(phone, phone_server):
    """No horizontal scrolling at 390 px, in each of the twelve languages, on both pages."""
    token, _ = _issue(phone_server)
    for language in i18n.LANGUAGES:
        phone.goto(f"{phone_server.url}/status/{token}?lang={language.code}")
        assert phone.locator("[data-next-procedures] li").count() == 3
        assert phone.evaluate(NO_OVERFLOW), f"status page overflows in {language.code}"
        _header_fits(phone)
        phone.goto(f"{phone_server.url}/locale/{language.code}?next=/crowding")
        assert phone.locator(f'html[lang="{language.html_lang}"]').count() == 1
        assert phone.evaluate(NO_OVERFLOW), f"crowding page overflows in {language.code}"
        _header_fits(phone)
    phone.goto(f"{phone_server.url}/status/{token}?lang=ne")
    phone.screenshot(path="/tmp/phone-status-ne.png", full_page=True)


def test_the_language_chooser_opens_switches_and_is_accessible(phone, phone_server):
    """One button opens the twelve languages, each a 44 px target; choosing one switches."""
    token, _ = _issue(phone_server, locale="en")
    phone.goto(f"{phone_server.url}/status/{token}")
    phone.locator(".language-chooser summary").click()
    links = phone.locator(".language-chooser nav a")
    assert links.count() == len(i18n.LANGUAGES)
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44
    assert phone.evaluate(NO_OVERFLOW)
    assert_accessible(phone)
    phone.screenshot(path="/tmp/phone-chooser.png")
    phone.get_by_role("link", name="नेपाली").click()
    phone.wait_for_selector('html[lang="ne"]')
    assert "?lang=ne" in phone.url


def test_easy_japanese_readings_are_at_least_12px_and_larger_on_the_kiosk(phone, phone_server):
    """Every <rt> measured with getComputedStyle; the reconnect message has readings too."""
    token, _ = _issue(phone_server, locale="ja_easy")
    phone.goto(f"{phone_server.url}/status/{token}")
    assert phone.locator("rt").count() > 5
    assert phone.evaluate(SMALLEST_READING) >= 12
    phone.wait_for_function(CONNECTED)
    phone.evaluate("window.frontyardLive[0].socket.close()")  # the connection drops
    size = phone.wait_for_function("""() => {
        const rt = document.querySelector("[data-live-status] ruby rt");
        return rt ? parseFloat(getComputedStyle(rt).fontSize) : 0; }""").json_value()
    assert size >= 12
    phone.goto(f"{phone_server.url}/locale/ja_easy?next=/crowding")
    assert phone.locator("rt").count() > 5 and phone.evaluate(SMALLEST_READING) >= 12
    phone.evaluate("document.body.classList.add('kiosk')")  # the kiosk's stylesheet rules
    assert phone.evaluate(SMALLEST_READING) >= 16


def test_a_call_fills_the_screen_vibrates_and_chimes(phone, phone_server):
    """Called: the call covers the whole phone screen, the phone vibrates and the chime plays
    (the board's static/sounds/chime.wav); closing it shows the page again."""
    token, task_id = _issue(phone_server, locale="en")
    phone.goto(f"{phone_server.url}/status/{token}")
    phone.wait_for_function(CONNECTED)
    phone.locator("h1").click()  # a first touch: browsers allow sound after one
    _call(phone_server, task_id)
    phone.wait_for_selector(".status-live.call-open", state="attached")
    card = phone.locator('.status-card[data-state="called"]').bounding_box()
    assert card == {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}
    assert phone.get_by_text("Please go to counter 2.").is_visible()
    assert phone.evaluate("window.__vibrations.length") == 1
    phone.wait_for_function("() => (window.__chimes || []).length >= 2")  # unlock, then call
    assert "sounds/chime" in phone.evaluate("window.__chimes[1]")
    assert_accessible(phone)
    phone.screenshot(path="/tmp/phone-called.png")
    phone.get_by_role("button", name="Close").click()
    phone.wait_for_selector(".status-live:not(.call-open)", state="attached")
    assert phone.locator(".status-card").bounding_box()["height"] < PHONE["height"]  # type: ignore[index]
    assert phone.evaluate("window.__vibrations.length") == 1  # once per call
