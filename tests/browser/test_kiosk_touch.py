"""The kiosk on its real screen, a portrait 1080×1920 touch screen: the start screen uses the
height (the language tiles low, within thumb reach), every target on every screen is at least
44×44 px, and a megabyte or a control character typed into the details comes back in the form,
translated, with the session kept."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.test_kiosk_flow import (
    answer_questions,
    fill_details,
    pair_kiosk,
    walk_to_ticket,
)

pytestmark = pytest.mark.browser

KIOSK = {"width": 1080, "height": 1920}
MIN_TARGET = 44

#: Every element a finger can act on: links, buttons, fields, and the labels of check boxes and
#: radio buttons (the label is the target when the box itself is hidden behind a tile).
TARGETS = """() => {
  const targets = [];
  const seen = (node) => { const r = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    return r.width > 1 && r.height > 1 && style.visibility !== 'hidden'; };
  const nodes = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, label[for]');
  for (const node of nodes) {
    if (!seen(node) || node.closest('[hidden]')) continue;
    if (node.tagName === 'LABEL') {
      const field = document.getElementById(node.htmlFor);
      if (!field || !['checkbox', 'radio'].includes(field.type)) continue;
    }
    const r = node.getBoundingClientRect();
    targets.push({what: node.outerHTML.slice(0, 90), width: r.width, height: r.height});
  }
  return targets;
}"""


def assert_touch_sized(page) -> None:  # type: ignore[no-untyped-def]
    """Every target on the page is at least 44×44 CSS px (WCAG 2.5.8 asks 24; a kiosk more)."""
    targets: list[dict[str, Any]] = page.evaluate(TARGETS)
    assert targets, page.url
    small = [t for t in targets if t["width"] < MIN_TARGET - 0.5 or t["height"] < MIN_TARGET - 0.5]
    assert not small, f"{page.url}: targets under {MIN_TARGET} px: {small}"


@pytest.fixture
def kiosk_page(browser, live_server: LiveServer):  # type: ignore[no-untyped-def]
    """A paired kiosk on a portrait 1080×1920 screen."""
    context = browser.new_context(locale="en-US", viewport=KIOSK)
    page = context.new_page()
    pair_kiosk(page, live_server)
    yield page
    context.close()


def test_start_screen_uses_the_height_with_the_chooser_within_reach(kiosk_page):
    """The language tiles sit in the lower half and reach towards the bottom; they are big."""
    page = kiosk_page
    page.screenshot(path="/tmp/kiosk-start.png")
    boxes = page.locator("button[name=locale]").evaluate_all(
        "nodes => nodes.map((n) => { const r = n.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, height: r.height, width: r.width}; })")
    height = KIOSK["height"]
    assert len(boxes) >= 2
    assert min(box["top"] for box in boxes) >= height / 2, boxes  # all in the lower half
    assert max(box["bottom"] for box in boxes) >= height * 0.85, boxes  # down to the thumb
    assert max(box["bottom"] for box in boxes) <= height  # and on the screen, not below it
    assert min(box["height"] for box in boxes) >= 120, boxes  # big tiles
    assert page.evaluate("document.scrollingElement.scrollHeight") <= height
    heading = page.locator("h1").bounding_box()
    assert heading is not None and heading["y"] < height / 2


def test_life_event_tiles_are_big_and_fill_the_screen(kiosk_page):
    """The life events use the portrait screen: tall tiles, the Next button low."""
    page = kiosk_page
    with page.expect_navigation():
        page.click("button[name=locale][value=en]")
    page.screenshot(path="/tmp/kiosk-events.png")
    tiles = page.locator("label.tile").evaluate_all(
        "nodes => nodes.map((n) => n.getBoundingClientRect().height)")
    assert min(tiles) >= 120, tiles
    button = page.locator("form[action='/kiosk/events'] button[type=submit]").bounding_box()
    assert button is not None and button["y"] >= KIOSK["height"] / 2


def _touch_sized_with_everything_open(page) -> None:  # type: ignore[no-untyped-def]
    """`assert_touch_sized`, after opening the foreign residents' fields where there are some."""
    closed = page.locator("details.foreign:not([open]) summary")
    if closed.count():
        closed.click()
    assert_touch_sized(page)


def test_every_target_on_every_kiosk_screen_is_at_least_44_px(kiosk_page, live_server):
    """Start, events, questions, guide, details (and with errors), consent, ticket."""
    walk_to_ticket(kiosk_page, live_server, "en", check=_touch_sized_with_everything_open)


def _to_details_in(page, locale: str) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.click(f"button[name=locale][value={locale}]")
    page.click("label[for=event-moving_in]")
    with page.expect_navigation():
        page.click("form[action='/kiosk/events'] button[type=submit]")
    answer_questions(page, lambda _page: None)
    with page.expect_navigation():
        page.click("a[href='/kiosk/details']")


def test_a_megabyte_and_a_control_character_come_back_in_the_form(kiosk_page):
    """In Vietnamese: each is answered next to its field, the other entries stay, and the
    session goes on to the consent screen once corrected."""
    page = kiosk_page
    _to_details_in(page, "vi")
    fill_details(page, phone="090-1234-5678")
    page.evaluate("document.getElementById('f-name').value = 'x'.repeat(1024 * 1024 + 1)")
    page.evaluate("document.getElementById('f-address').value = '本町\\u00001-2-3'")
    with page.expect_navigation():
        page.click("button[value=check]")
    assert page.url.endswith("/kiosk/details")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("#f-name").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-address").get_attribute("aria-invalid") == "true"
    name_error = page.locator("#f-name-error").inner_text()
    address_error = page.locator("#f-address-error").inner_text()
    assert "100" in name_error and "characters" not in name_error  # Vietnamese, with the limit
    assert "NUL" in address_error and "control character" not in address_error, address_error
    assert page.input_value("#f-phone") == "090-1234-5678"  # the rest is still there
    page.screenshot(path="/tmp/kiosk-too-long.png")
    page.fill("#f-name", "Nguyen Van An")  # Latin letters: no katakana needed
    page.fill("#f-furigana", "")
    page.fill("#f-address", "本町1-2-3")
    with page.expect_navigation():
        page.click("button[value=check]")
    assert page.url.endswith("/kiosk/confirm"), page.url
