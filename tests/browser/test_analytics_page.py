"""The managers' analytics page in Chromium, over a demo history: charts render, axe-clean in
Japanese and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise

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
    page.locator("#arrivals > summary").click()  # the details are folded
    heatmap = page.locator("#chart-heatmap svg[role=img]")
    assert heatmap.is_visible()
    assert heatmap.locator("title").first.text_content()
    assert page.locator("#chart-wait svg[role=img]").count() == 1
    assert page.locator("#chart-staffing svg[role=img]").count() == 1
    page.locator("#arrivals .table-details summary").click()  # the same data as a table
    assert page.locator("#arrivals table.data tbody tr").count() > 5
    assert_accessible(page)


def test_filters_and_whatif_in_the_browser(page, with_history):
    """Submitting the filter form keeps its values; the what-if page simulates and is axe-clean."""
    server = with_history
    page.goto(f"{server.url}/locale/en?next=/")
    sign_in(page, server, "manager")
    page.goto(f"{server.url}/analytics")
    page.locator("details.analytics-filters > summary").click()
    page.check("input[name=weekday][value='0']")
    page.fill("#level", "90")
    page.click(".analytics-filters form button[type=submit]")
    page.wait_for_load_state()
    assert "weekday=0" in page.url and "level=90" in page.url
    assert page.locator("input[name=weekday][value='0']").is_checked()
    page.click("text=Open the what-if simulation")
    page.wait_for_load_state()
    page.click("button:has-text('Simulate')")
    page.wait_for_load_state()
    assert page.locator("#chart-whatif svg[role=img]").count() == 1
    assert_accessible(page)


def _overlapping(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    """Pairs of boxes (left to right) whose horizontal extents overlap on the same line."""
    return [(i, i + 1) for i, (a, b) in enumerate(pairwise(boxes))
            if abs(a["y"] - b["y"]) < 2 and a["x"] + a["width"] > b["x"] + 0.5]


def test_page_leads_with_the_two_answers_at_a_terminal_in_japanese(page, with_history):
    """At 1366×768: next week's counters per service and hour, then the longest waits, all
    else folded; measured and model shares labelled; one decimal; no overlapping labels."""
    server = with_history
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{server.url}/locale/ja?next=/")
    sign_in(page, server, "manager")
    page.goto(f"{server.url}/analytics")
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:2] == ["来週必要な窓口数", "住民の待ち時間が長いところ"]
    assert page.locator("#week-ahead").bounding_box()["y"] < 768  # on the first screen
    days = page.locator("#week-ahead details.day-needs")
    assert days.count() >= 5  # a table per coming open day, weekdays apart
    first = days.first.locator("table.week-ahead")
    assert first.is_visible() and first.locator("tbody tr").count() >= 3  # services
    assert first.locator("thead th").count() >= 6  # service and the hours
    assert page.locator("#waits ol.longest-waits li").count() == 5
    folded = page.locator("main details.fold")
    assert folded.count() >= 6
    assert all(not d.get_attribute("open") for d in folded.all())
    assert not page.locator("#chart-heatmap").is_visible()
    share = page.locator("[data-no-show-rate]").inner_text()
    assert re.fullmatch(r"\d+\.\d%", share), share
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3 * 768, height  # was about 12,500 px (nine screens)
    page.locator("#staffing > summary").click()
    in_time = page.locator("#staffing table.data").last
    header = in_time.locator("thead").inner_text()
    assert "実測" in header and "モデル" in header
    page.locator("#forecast > summary").click()
    notes = page.locator("#chart-forecast text.note")
    assert notes.count() >= 5
    boxes = [box for box in (note.bounding_box() for note in notes.all()) if box]
    assert not _overlapping(sorted(boxes, key=lambda box: (box["y"], box["x"])))
    labels = page.locator("#chart-forecast text.axis")
    axis = sorted((box for box in (lab.bounding_box() for lab in labels.all()) if box),
                  key=lambda box: (box["y"], box["x"]))
    assert not _overlapping(axis)
    assert_accessible(page)
