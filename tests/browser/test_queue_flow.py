"""One visit end to end in real browsers: a ticket is issued, a member of staff calls it with a
keyboard shortcut, the board shows and speaks it (one call at a time, number highlighted),
and the resident's phone says which counter to go to — all live, no reload."""

from __future__ import annotations

import pytest
from sqlmodel import select

from counter import queue
from counter.models import Office
from counter.screens import spoken_number
from frontyard import database
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

# Speech and vibration are stubbed: the test decides when an utterance ends, so it can check
# that the board never starts a second one before the first has finished.
SPEECH_STUB = """
window.__spoken = [];
window.__pending = [];
window.__vibrations = [];
window.__finishSpeech = () => { const u = window.__pending.shift(); if (u && u.onend) u.onend(); };
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speak(u) { window.__spoken.push({text: u.text, lang: u.lang}); window.__pending.push(u); },
  cancel() {}, getVoices() { return []; }, addEventListener() {},
}});
Object.defineProperty(navigator, "vibrate", {configurable: true,
  value: (pattern) => { window.__vibrations.push(pattern); return true; }});
"""
CONNECTED = "() => (window.frontyardLive || []).some((s) => s.lastParts.size > 0)"


def _issue(live_server, codes: list[str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    engine = database.make_engine(live_server.settings.resolved_database_url())
    try:
        with database.session_scope(engine) as session:
            office = session.exec(select(Office)).first()
            visit = queue.issue_ticket(session, office_id=office.id, service_codes=codes,
                                       locale="en")
            return visit.ticket_number, visit.status_token
    finally:
        engine.dispose()


def test_issue_call_board_announces_and_phone_shows_counter(browser, live_server):
    """The whole chain of one call, across three browser contexts."""
    number, token = _issue(live_server, ["school"])

    lobby = browser.new_context(locale="en-US")
    lobby.add_init_script(SPEECH_STUB)
    board = lobby.new_page()
    board.goto(live_server.pairing_links["demo-board"])  # asks; its button pairs the device
    board.get_by_role("button").last.click()
    board.wait_for_url(f"{live_server.url}/board")
    board.goto(f"{live_server.url}/board?lang=en")
    board.wait_for_function(CONNECTED)

    phone_context = browser.new_context(locale="en-US")
    phone_context.add_init_script(SPEECH_STUB)
    phone = phone_context.new_page()
    phone.goto(f"{live_server.url}/status/{token}")
    assert number in phone.locator(".ticket-number").inner_text()
    phone.wait_for_function(CONNECTED)
    assert_accessible(phone)

    desk_context = browser.new_context(locale="en-US")
    desk = desk_context.new_page()
    sign_in(desk, live_server, "manager")  # the demo staff member already serves counter 1
    desk.goto(f"{live_server.url}/counter")
    desk.get_by_role("link", name="Counter 8").click()
    desk.get_by_role("button", name="Sign in to Counter 8").click()
    desk.wait_for_url(f"{live_server.url}/counter")
    assert number in desk.locator(".waiting-list").inner_text()
    desk.wait_for_function(CONNECTED)
    desk.keyboard.press("n")  # call next, by keyboard shortcut
    desk.wait_for_selector(f'.current-ticket [data-ticket="{number}"]')
    assert_accessible(desk)

    # The board shows the number with its counter and announces it, one utterance at a time.
    board.wait_for_selector(f'.board-calling [data-ticket="{number}"]')
    board.wait_for_function("() => window.__spoken.length === 1")
    assert board.locator(f'.board-calling [data-ticket="{number}"].speaking').count() == 1
    assert board.locator(".board-flash.on").count() == 1  # the visible cue
    spoken = board.evaluate("window.__spoken")
    assert spoken[0]["lang"] == "ja-JP" and "8" in spoken[0]["text"]

    desk.keyboard.press("r")  # recall while the board is still speaking the first call
    board.wait_for_selector('[data-board][data-queued="1"]', state="attached")
    assert board.evaluate("window.__spoken.length") == 1  # queued, not talking over
    board.evaluate("window.__finishSpeech()")
    board.wait_for_function("() => window.__spoken.length === 2")
    english = f"Ticket number {spoken_number(number)}, please come to counter 8."
    assert board.evaluate("window.__spoken[1]") == {"lang": "en-US", "text": english}
    board.evaluate("window.__finishSpeech()")
    board.wait_for_function("() => window.__spoken.length === 3")  # the recall, in Japanese
    assert "もう一度" in board.evaluate("window.__spoken[2].text")
    assert_accessible(board)

    # The resident's phone: told where to go, and it vibrated.
    phone.wait_for_selector("text=Please go to counter 8.")
    assert phone.evaluate("window.__vibrations.length") >= 1

    desk.keyboard.press("s")  # start serving: the phone follows
    phone.wait_for_selector("text=You are being served at counter 8.")
    for context in (lobby, phone_context, desk_context):
        context.close()
