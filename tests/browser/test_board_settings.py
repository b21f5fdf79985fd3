"""Two call boards of one office set up differently, on a lobby TV (1920×1080, no scrolling):
the ground-floor board limited to two services, the 2nd-floor board to its zone. Each paired
screen shows only its own calls, and its languages after Japanese take turns on the second
line, in every one of which nothing overflows the screen.

The office is the test's own (its own services, prefixes and floors), not the demo's.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from admin import boards
from counter import queue
from counter.models import Counter, Office, Service
from frontyard import database
from frontyard.auth import DeviceKind, Role, User, create_device
from frontyard.realtime import Hub
from tests.browser.conftest import LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _seed(live_server: LiveServer) -> dict[str, Any]:
    """Office with services F, G, H, W; counters 1 and 2 on 1F, 21 and 22 on 2F; a ticket of
    each service called; boards "lobby" (F and G; English, Vietnamese, Portuguese) and
    "floor 2" (zone 2F; Chinese); their one-time pairing codes."""
    engine = database.make_engine(live_server.settings.resolved_database_url())
    rules = queue.QueueRules.from_settings(live_server.settings)
    tag = secrets.token_hex(3)
    try:
        with database.session_scope(engine) as session:
            office = Office(code=f"tv-{tag}", names={"ja": "東支所", "en": "East branch"})
            session.add(office)
            session.flush()
            services = {}
            for order, (prefix, ja, en) in enumerate([
                    ("F", "福祉", "Welfare and long-term care insurance"),
                    ("G", "ごみ・環境", "Waste and environment"),
                    ("H", "保健", "Health"), ("W", "水道", "Water")]):
                services[prefix] = Service(office_id=office.id, code=f"{prefix.lower()}-{tag}",
                                           prefix=prefix, sort_order=order,
                                           names={"ja": ja, "en": en})
            session.add_all(services.values())
            numbers = {}
            for number, zone, prefix in (("1", "1F", "F"), ("2", "1F", "H"),
                                         ("21", "2F", "G"), ("22", "2F", "W")):
                counter = Counter(office_id=office.id, number=number, zone=zone,
                                  names={"ja": f"{number}番窓口", "en": f"Counter {number}"})
                user = User(username=f"tv-{tag}-{number}", password_hash="!", role=Role.STAFF)
                session.add_all([counter, user])
                session.flush()
                visit = queue.issue_ticket(session, office_id=office.id,
                                           service_codes=[services[prefix].code], rules=rules)
                queue.open_counter(session, counter.id, user.id,  # type: ignore[arg-type]
                                   [services[prefix].id])  # type: ignore[list-item]
                queue.call_next(session, counter.id, user.id, rules=rules)  # type: ignore[arg-type]
                numbers[prefix] = visit.ticket_number
            codes, ids = {}, {}
            for name, data in ((f"lobby-{tag}", boards.BoardInput(
                    scope="services", services=[services["F"].code, services["G"].code],
                    languages=["en", "vi", "pt_BR"])),
                               (f"floor2-{tag}", boards.BoardInput(
                                   scope="zone", zone="2F", languages=["zh_Hans"]))):
                device, _token, code = create_device(session, name, DeviceKind.BOARD,
                                                     office_id=office.id)
                boards.save_board(session, Hub(), None, device, data)
                codes[name.split("-")[0]] = code
                ids[name.split("-")[0]] = device.id
            return {"numbers": numbers, "codes": codes, "ids": ids,
                    "services": {prefix: s.code for prefix, s in services.items()}}
    finally:
        engine.dispose()


def _paired_board(browser, live_server: LiveServer, code: str):  # type: ignore[no-untyped-def]
    """A TV's browser paired through the pairing page; it lands on its board."""
    context = browser.new_context(locale="ja-JP", viewport={"width": 1920, "height": 1080})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/device/pair/{code}")
    page.click("form[action='/device/pair'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/board")
    page.click("[data-board-start]")
    return context, page


#: For each language slot given: show it, then what the heading's second line shows and what
#: overflows. One synchronous script, so the rotation's timer cannot move on in between.
EACH_LANGUAGE = """(slots) => {
  const board = document.querySelector('[data-board]');
  const page = document.scrollingElement;
  const displayed = (node) => { const r = node.getBoundingClientRect();
                                return r.width > 0 && r.height > 0; };
  return slots.map((slot) => {
    if (slot) board.dataset.showing = slot;
    const lang = [...document.querySelectorAll('#board-calling-heading span')]
      .filter((span) => displayed(span) && span.lang !== 'ja').map((span) => span.lang).join(',');
    const outside = [...document.querySelectorAll('.board-live *')].filter((node) => {
      if (!displayed(node)) return false;  // not displayed (another language)
      const r = node.getBoundingClientRect();
      const list = node.closest('.rows');
      if (list) {  // rows that do not fit are wrapped into a clipped column on purpose
        const box = list.getBoundingClientRect();
        if (r.left >= box.right - 0.5 || r.top >= box.bottom - 0.5) return false;
      }
      return r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5 || r.left < -0.5;
    }).map((node) => node.outerHTML.slice(0, 120));
    return {slot, lang, outside, fits: page.scrollWidth <= page.clientWidth
                                        && page.scrollHeight <= page.clientHeight};
  });
}"""


def _shown_second_line(page) -> str:  # type: ignore[no-untyped-def]
    """The heading's second-line language shown now."""
    return page.evaluate(EACH_LANGUAGE, [None])[0]["lang"]  # type: ignore[no-any-return]


def test_two_boards_show_only_their_calls_and_rotate_their_languages(browser, live_server):
    """The lobby lists F and G calls (not H nor W), the 2nd floor G and W (not F nor H); the
    lobby's second line goes English → Vietnamese → Portuguese, each fitting the TV."""
    seeded = _seed(live_server)
    numbers = seeded["numbers"]
    lobby_context, lobby = _paired_board(browser, live_server, seeded["codes"]["lobby"])
    floor_context, floor = _paired_board(browser, live_server, seeded["codes"]["floor2"])
    try:
        for page, shown, hidden in ((lobby, "FG", "HW"), (floor, "GW", "FH")):
            calling = page.locator(".board-calling [data-ticket]").evaluate_all(
                "nodes => nodes.map((node) => node.dataset.ticket)")
            assert sorted(calling) == sorted(numbers[p] for p in shown)
            text = page.locator("#board-live").inner_text()
            assert not any(numbers[p] in text for p in hidden), text
        waiting = lobby.locator(".board-waiting [data-service]").count()
        assert waiting == 2  # the lobby lists only its two services' lines

        assert _shown_second_line(floor) == "zh-Hans"  # one language: it stays
        # The rotation moves on by itself (every 8 s) to the next language, and round.
        showing = lobby.locator("[data-board]").get_attribute("data-showing")
        following = {"2": "3", "3": "4", "4": "2"}[showing]  # type: ignore[index]
        lobby.locator(f"[data-board][data-showing='{following}']").wait_for(state="attached",
                                                                           timeout=15_000)
        assert _shown_second_line(lobby) == {"2": "en", "3": "vi", "4": "pt-BR"}[following]
        measured = lobby.evaluate(EACH_LANGUAGE, ["2", "3", "4", "2"])
        assert [m["lang"] for m in measured] == ["en", "vi", "pt-BR", "en"]
        for each in measured:
            assert each["fits"] and each["outside"] == [], each
        [floor_measured] = floor.evaluate(EACH_LANGUAGE, [None])
        assert floor_measured["fits"] and floor_measured["outside"] == [], floor_measured
        assert_accessible(lobby)
    finally:
        lobby_context.close()
        floor_context.close()


def test_the_admin_changes_an_open_board_without_touching_it(browser, live_server):
    """On the board's admin page (keyboard-usable drop-downs, no dragging), the admin limits
    the 2nd-floor board to service F with Korean after English; the open board follows within
    seconds, without a reload."""
    seeded = _seed(live_server)
    numbers = seeded["numbers"]
    floor_context, floor = _paired_board(browser, live_server, seeded["codes"]["floor2"])
    admin_context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    admin = admin_context.new_page()
    try:
        floor.locator(f".board-calling [data-ticket='{numbers['W']}']").wait_for()
        floor.evaluate("document.querySelector('[data-board]').dataset.marker = 'same page'")
        sign_in(admin, live_server, "admin")
        admin.goto(f"{live_server.url}/admin/devices")
        settings_page = f"/admin/devices/{seeded['ids']['floor2']}/board"
        admin.locator(f"a[href='{settings_page}']").click()  # linked from the device list
        admin.wait_for_url(f"{live_server.url}{settings_page}")
        assert_accessible(admin)
        admin.get_by_label("Only the calls of the services chosen below").check()
        admin.locator(f"#f-service-{seeded['services']['F']}").check()
        admin.get_by_label("Language 2").select_option("en")
        admin.get_by_label("Language 3").select_option("ko")
        admin.get_by_role("button", name="Save").click()
        admin.locator("#notice").wait_for()
        # The open board: the new calls and languages, on the same page (no reload).
        floor.locator(f".board-calling [data-ticket='{numbers['F']}']").wait_for(timeout=15_000)
        assert floor.locator(f"[data-ticket='{numbers['W']}']").count() == 0
        assert floor.locator("#board-calling-heading [lang='ko']").count() == 1
        assert floor.evaluate("document.querySelector('[data-board]').dataset.marker") \
            == "same page"
    finally:
        admin_context.close()
        floor_context.close()
