"""The managers' analytics page in Chromium, over a demo history: charts render, axe-clean in
Japanese and English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from composition.demo_history import generate_history
from frontyard import database
from tests.browser.conftest import LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def with_history(live_server: LiveServer) -> Iterator[LiveServer]:
    """The live server's demo office with a week of history played through the engine."""
    engine = database.make_engine(live_server.settings.resolved_database_url())
    today = database.utcnow().astimezone(live_server.settings.tz).date()
    list(generate_history(engine, "main", 7, end=today, seed=11))
    engine.dispose()
    yield live_server


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_analytics_page_renders_and_passes_axe(page, with_history, locale):
    """Heatmap, time bars and staffing charts are drawn as labelled SVG; no axe violation."""
    server = with_history
    page.goto(f"{server.url}/locale/{locale}?next=/")
    sign_in(page, server, "manager")
    page.goto(f"{server.url}/analytics")
    assert page.locator("html").get_attribute("lang") == locale
    heatmap = page.locator("#chart-heatmap svg[role=img]")
    assert heatmap.is_visible()
    assert heatmap.locator("title").first.text_content()
    assert page.locator("#chart-wait svg[role=img]").count() == 1
    assert page.locator("#chart-staffing svg[role=img]").count() == 1
    page.locator("#arrivals summary").click()  # the same data as a table
    assert page.locator("#arrivals table.data tbody tr").count() > 5
    assert_accessible(page)


def test_filters_and_whatif_in_the_browser(page, with_history):
    """Submitting the filter form keeps its values; the what-if page simulates and is axe-clean."""
    server = with_history
    page.goto(f"{server.url}/locale/en?next=/")
    sign_in(page, server, "manager")
    page.goto(f"{server.url}/analytics")
    page.check("input[name=weekday][value='0']")
    page.fill("#level", "90")
    page.click("form.analytics-filters button[type=submit]")
    page.wait_for_load_state()
    assert "weekday=0" in page.url and "level=90" in page.url
    assert page.locator("input[name=weekday][value='0']").is_checked()
    page.click("text=Open the what-if simulation")
    page.wait_for_load_state()
    page.click("button:has-text('Simulate')")
    page.wait_for_load_state()
    assert page.locator("#chart-whatif svg[role=img]").count() == 1
    assert_accessible(page)
