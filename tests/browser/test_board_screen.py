"""The call board on real lobby TV sizes: no scrolling at 1080p and 720p, as many whole rows
as fit, numbers readable from 5 m, and the recent calls each once and of today only.

The board shows an office of its own (nine services, its own prefixes, 30 waiting tickets),
so nothing here depends on the demo city.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from counter import queue
from counter.models import Counter, Office, Service
from frontyard import database
from frontyard.auth import Role, User
from tests.browser.conftest import LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser

SCREENS = [(1920, 1080), (1280, 720)]
PREFIXES = "KLMNPQRST"  # nine services; yesterday's ticket is a Z, a prefix used only then


def _seed_busy_office(live_server: LiveServer) -> dict[str, Any]:
    """An office with 9 services, 30 waiting tickets, 5 numbers being called, earlier calls
    of today (one visit called once per procedure) and a call of yesterday."""
    engine = database.make_engine(live_server.settings.resolved_database_url())
    rules = queue.QueueRules.from_settings(live_server.settings)
    tag = secrets.token_hex(3)
    try:
        with database.session_scope(engine) as session:
            office = Office(code=f"board-{tag}", names={"ja": "北庁舎", "en": "North office"})
            session.add(office)
            session.flush()
            services = []
            for order, prefix in enumerate(PREFIXES + "Z"):
                service = Service(office_id=office.id, code=f"s{order}-{tag}", prefix=prefix,
                                  names={"ja": f"手続き{order + 1}",
                                         "en": f"Procedure number {order + 1}"},
                                  sort_order=order)
                session.add(service)
                services.append(service)
            counters, users = [], []
            for number in range(1, 7):
                counter = Counter(office_id=office.id, number=str(number),
                                  names={"ja": f"{number}番窓口", "en": f"Counter {number}"})
                user = User(username=f"board-{tag}-{number}", password_hash="!",
                            role=Role.STAFF)
                session.add_all([counter, user])
                counters.append(counter)
                users.append(user)
            session.flush()
            ids = {s.prefix: s.id for s in services}
            codes = {s.prefix: s.code for s in services}
            now = database.utcnow()

            def serve(counter: Counter, user: User, service_ids: list[int],
                      at: Any = None) -> Any:
                queue.open_counter(session, counter.id, user.id, service_ids, now=at)  # type: ignore[arg-type]
                task = queue.call_next(session, counter.id, user.id, now=at, rules=rules)  # type: ignore[arg-type]
                return task

            def finish(task: Any, user: User, at: Any = None) -> None:
                queue.start(session, task.id, user.id, now=at)  # type: ignore[arg-type]
                queue.complete(session, task.id, user.id, now=at)  # type: ignore[arg-type]

            # Yesterday: a Z ticket called and served (the board must not list it).
            yesterday = now - timedelta(days=1)
            queue.issue_ticket(session, office_id=office.id, service_codes=[codes["Z"]],
                               now=yesterday, rules=rules)
            finish(serve(counters[0], users[0], [ids["Z"]], yesterday), users[0], yesterday)
            services[-1].active = False  # not offered today: the board lists nine services
            session.add(services[-1])
            # Today, earlier: one visit with two procedures, called once for each.
            two = queue.issue_ticket(session, office_id=office.id,
                                     service_codes=[codes["K"], codes["L"]], rules=rules)
            finish(serve(counters[0], users[0], [ids["K"]]), users[0])
            finish(serve(counters[1], users[1], [ids["L"]]), users[1])
            # Other earlier calls, and then five numbers being called now.
            earlier = []
            for prefix in "MNPQ":
                visit = queue.issue_ticket(session, office_id=office.id,
                                           service_codes=[codes[prefix]], rules=rules)
                earlier.append(visit.ticket_number)
                finish(serve(counters[2], users[2], [ids[prefix]]), users[2])
            calling = []
            for index, prefix in enumerate("KLMNP"):
                visit = queue.issue_ticket(session, office_id=office.id,
                                           service_codes=[codes[prefix]], rules=rules)
                calling.append(visit.ticket_number)
                serve(counters[index], users[index], [ids[prefix]])
            for index in range(30):
                queue.issue_ticket(session, office_id=office.id,
                                   service_codes=[codes[PREFIXES[index % 9]]], rules=rules)
            return {"office_id": office.id, "two_procedures": two.ticket_number,
                    "earlier": earlier, "calling": calling}
    finally:
        engine.dispose()


FIT = """() => {
  const page = document.scrollingElement;
  const lists = {};
  for (const list of document.querySelectorAll('.board-live .rows')) {
    const box = list.getBoundingClientRect();
    const rows = [...list.children].map((row) => {
      const r = row.getBoundingClientRect();
      return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height,
              whole: r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
                     && r.left >= box.left - 0.5 && r.right <= box.right + 0.5,
              gone: r.left >= box.right - 0.5 || r.top >= box.bottom - 0.5};
    });
    lists[list.closest('section').className] = {bottom: box.bottom, rows};
  }
  const sizes = (selector) => [...document.querySelectorAll(selector)]
    .filter((node) => { const r = node.getBoundingClientRect();
                        return r.right <= innerWidth && r.bottom <= innerHeight && r.width > 0; })
    .map((node) => parseFloat(getComputedStyle(node).fontSize));
  return {scrollHeight: page.scrollHeight, clientHeight: page.clientHeight,
          scrollWidth: page.scrollWidth, clientWidth: page.clientWidth, lists,
          numbers: sizes('.board-live .number, .board-live .count'),
          second: sizes('.board-live .lang-2')};
}"""


@pytest.mark.parametrize(("width", "height"), SCREENS)
def test_board_fits_a_lobby_tv_with_as_many_whole_rows_as_fit(browser, live_server,
                                                              width, height):
    """1080p and 720p: no scrollbars; every list shows whole rows, then none (each hidden row
    would not have fitted); numbers ≥ 4 % and the second language ≥ 2.5 % of the height."""
    seeded = _seed_busy_office(live_server)
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, live_server, "staff")
    page.goto(f"{live_server.url}/board?office={seeded['office_id']}&lang=en")
    page.click("[data-board-start]")  # the lobby's first touch starts it; the button goes
    page.screenshot(path=f"/tmp/board-{width}x{height}.png")
    measured = page.evaluate(FIT)
    assert measured["scrollHeight"] <= measured["clientHeight"], measured
    assert measured["scrollWidth"] <= measured["clientWidth"], measured
    for name, listed in measured["lists"].items():
        rows = listed["rows"]
        shown = [row for row in rows if row["whole"]]
        assert shown and all(row["whole"] or row["gone"] for row in rows), (name, rows)
        assert rows[:len(shown)] == shown, name  # whole rows first, then only hidden ones
        if len(shown) < len(rows):  # the next row would not have fitted below the last
            assert shown[-1]["bottom"] + rows[len(shown)]["height"] > listed["bottom"], name
    lists = measured["lists"]
    assert all(row["whole"] for row in lists["board-waiting"]["rows"])  # all nine services
    assert len(lists["board-waiting"]["rows"]) == 9
    assert all(row["whole"] for row in lists["board-calling"]["rows"])  # all five calls
    assert min(measured["numbers"]) >= 0.04 * height, measured["numbers"]
    assert min(measured["second"]) >= 0.025 * height, measured["second"]
    # Recent calls: today's only, each number once, none of those being called now.
    recent = page.locator(".board-recent [data-ticket]").evaluate_all(
        "nodes => nodes.map((node) => node.dataset.ticket)")
    assert len(recent) == len(set(recent)) == 5, recent
    assert set(recent) == {seeded["two_procedures"], *seeded["earlier"]}
    assert not any(number.startswith("Z") for number in recent)
    calling = page.locator(".board-calling [data-ticket]").evaluate_all(
        "nodes => nodes.map((node) => node.dataset.ticket)")
    assert sorted(calling) == sorted(seeded["calling"])
    assert_accessible(page)
    context.close()
