"""The staff terminal at 1366×768: a resident's pre-filled details read as labels in the staff
member's language with the household as a table, and the visit's form page is one click away."""

from __future__ import annotations

import pytest
from sqlmodel import select

from counter import queue
from counter.models import Office
from frontyard import database
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

FAMILY = {"name": "Maria Santos", "sex": "female", "relationship": "wife",
          "residence_status": "special_permanent_resident", "nationality": "PH",
          "household_members": [
              {"name": "Jose Santos", "sex": "male", "relationship": "head"},
              {"name": "Ana Santos", "sex": "female", "relationship": "child"}]}


def _issue(live_server) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    engine = database.make_engine(live_server.settings.resolved_database_url())
    try:
        with database.session_scope(engine) as session:
            office = session.exec(select(Office)).first()
            visit = queue.issue_ticket(session, office_id=office.id, service_codes=["tax"],
                                       locale="en", priority=True, details=FAMILY)
            return visit.public_id, visit.ticket_number
    finally:
        engine.dispose()


def test_terminal_shows_labelled_details_a_household_table_and_opens_the_forms(
        browser, live_server):
    """Translated labels (no raw codes), one table row per person, the form page opens."""
    visit_id, number = _issue(live_server)
    context = browser.new_context(locale="ja-JP", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    desk = context.new_page()
    desk.goto(f"{live_server.url}/locale/ja?next=/")
    sign_in(desk, live_server, "admin")
    desk.goto(f"{live_server.url}/counter")
    desk.get_by_role("link", name="7番窓口").click()
    desk.locator("form[action='/counter/open'] button[type=submit]").click()
    desk.wait_for_url(f"{live_server.url}/counter")
    desk.locator("form.call-next button").click()
    desk.wait_for_selector(f'.current-ticket [data-ticket="{number}"]')
    desk.keyboard.press("d")
    details = desk.locator("#terminal-details [data-details-task]")
    details.wait_for()
    text = details.inner_text()
    for label in ("女", "妻", "特別永住者", "フィリピン", "世帯主との続柄"):
        assert label in text, label
    for code in ("female", "wife", "special_permanent_resident", "PH\n", "head"):
        assert code not in text, code
    household = details.locator("table.details-household")
    assert household.locator("tbody tr").count() == 2
    assert household.locator("thead th").count() >= 4
    assert "世帯主" in household.locator("tbody tr").first.inner_text()
    assert_accessible(desk)

    with context.expect_page() as opened:
        desk.locator(".current-ticket a[data-form-page]").click()
    forms = opened.value
    forms.wait_for_load_state()
    assert forms.url == f"{live_server.url}/forms/visit/{visit_id}"
    assert "Maria Santos" in forms.locator("main").inner_text()
    context.close()
