"""The city's own kiosk on its real screens: a four-language kiosk of an office unlike the demo
shows exactly those four, in its order, with the city's name and logo, on a portrait
1080×1920 screen without scrolling; the call board with the name and logo still fits a
1080p TV that cannot scroll."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from counter.models import Office
from frontyard import branding, images
from frontyard.auth import DeviceKind, create_device
from kiosk import offer
from tests.browser.conftest import LiveServer, assert_accessible, sign_in
from tests.browser.test_board_screen import FIT, _seed_busy_office
from tests.browser.test_kiosk_flow import live_db

pytestmark = pytest.mark.browser

KIOSK = {"width": 1080, "height": 1920}
TV = {"width": 1920, "height": 1080}
FOUR = ["ja", "vi", "pt_BR", "en"]
CITY = {"ja": "北山市", "en": "Kitayama City", "vi": "Thành phố Kitayama"}


def _logo(colour: str) -> images.CleanImage:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 160), colour).save(buffer, "PNG")
    return images.clean_logo(buffer.getvalue())


@contextmanager
def city_brand(live_server: LiveServer) -> Iterator[None]:
    """The city's name and logo while the block runs (the live server is shared)."""
    with live_db(live_server) as session:
        branding.set_city_names(session, CITY)
        branding.store_logo(session, None, _logo("navy"))
    try:
        yield
    finally:
        with live_db(live_server) as session:
            branding.set_city_names(session, {})
            branding.remove_logo(session, None)


@pytest.fixture
def four_language_kiosk(browser, live_server: LiveServer) -> Iterator[Any]:
    """A paired kiosk of a new office offering Japanese, Vietnamese, Portuguese and English."""
    with live_db(live_server) as session:
        office = Office(code=f"yama-{secrets.token_hex(3)}", names={"ja": "山の上支所"})
        session.add(office)
        session.flush()
        offer.save(session, office.id, languages=FOUR, welcome={}, privacy={})  # type: ignore[arg-type]
        _, _, code = create_device(session, f"kiosk-{office.code}", DeviceKind.KIOSK,
                                   office_id=office.id)
    context = browser.new_context(locale="en-US", viewport=KIOSK)
    page = context.new_page()
    page.goto(f"{live_server.url}/device/pair/{code}")
    page.get_by_role("button").last.click()
    page.wait_for_url(f"{live_server.url}/kiosk")
    yield page
    context.close()


def test_a_four_language_kiosk_shows_those_four_and_the_city_name(four_language_kiosk,
                                                                   live_server):
    """Exactly the four languages in the office's order; the city's name and logo above the
    welcome; nothing scrolls on the portrait screen; axe finds nothing."""
    page = four_language_kiosk
    with city_brand(live_server):
        page.reload()
        page.screenshot(path="/tmp/kiosk-four-languages.png")
        codes = page.locator("button[name=locale]").evaluate_all(
            "nodes => nodes.map((node) => node.value)")
        assert codes == FOUR
        assert page.locator("[data-city-name]").inner_text() == "Kitayama City"
        assert page.locator("h1").inner_text() == "Welcome to Kitayama City"
        logo = page.locator(".kiosk-start .brand-logo")
        assert logo.evaluate("node => node.complete && node.naturalWidth") == 480
        assert page.evaluate("document.scrollingElement.scrollHeight") <= KIOSK["height"]
        tiles = page.locator("button[name=locale]").evaluate_all(
            "nodes => nodes.map((n) => n.getBoundingClientRect().bottom)")
        assert max(tiles) <= KIOSK["height"]
        assert_accessible(page)


def test_the_board_with_the_city_name_and_logo_still_fits_a_tv(browser, live_server):
    """1080p: the name and logo in a top row, no scrollbars, every service's row whole."""
    seeded = _seed_busy_office(live_server)
    with city_brand(live_server):
        with live_db(live_server) as session:
            office = session.exec(select(Office).where(Office.id == seeded["office_id"])).one()
            branding.store_logo(session, office.id, _logo("darkgreen"))
        context = browser.new_context(locale="en-US", viewport=TV)
        page = context.new_page()
        sign_in(page, live_server, "staff")
        page.goto(f"{live_server.url}/board?office={seeded['office_id']}&lang=vi")
        page.click("[data-board-start]")
        page.screenshot(path="/tmp/board-branded-1920x1080.png")
        assert page.locator("[data-city-name]").inner_text().startswith("北山市")
        assert "Thành phố Kitayama" in page.locator("[data-city-name]").inner_text()
        brand = page.locator(".board-brand").bounding_box()
        assert brand is not None and brand["height"] <= 0.07 * TV["height"]
        measured = page.evaluate(FIT)
        assert measured["scrollHeight"] <= measured["clientHeight"], measured
        assert measured["scrollWidth"] <= measured["clientWidth"], measured
        waiting = measured["lists"]["board-waiting"]["rows"]
        assert len(waiting) == 9 and all(row["whole"] for row in waiting)
        assert all(row["whole"] for row in measured["lists"]["board-calling"]["rows"])
        assert_accessible(page)
        context.close()
        with live_db(live_server) as session:
            branding.remove_logo(session, seeded["office_id"])


def test_the_admin_sets_the_kiosk_languages_and_logo_through_the_pages(context, live_server,
                                                                       tmp_path):
    """On a 1366×768 terminal: order numbers (no drag and drop), a refused upload shown in the
    page, a good one shown back; axe finds nothing on either page."""
    with live_db(live_server) as session:
        office = Office(code=f"umi-{secrets.token_hex(3)}", names={"ja": "海辺支所"})
        session.add(office)
        session.flush()
        code = office.code
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/offices/{code}")
    page.click(f"a[href='/admin/offices/{code}/kiosk']")
    assert_accessible(page)
    page.uncheck("#f-offer_ko")
    page.check("#f-offer_vi")
    page.fill("#f-order_vi", "1")
    page.fill("#f-order_ja", "2")
    page.fill("#f-welcome_en", "Welcome to the seaside branch")
    with page.expect_navigation():
        page.click("form.admin-form button[type=submit] >> nth=0")
    assert page.locator("#f-order_vi").input_value() == "1"
    assert page.locator("#f-offer_ko").is_checked() is False
    (tmp_path / "logo.gif").write_bytes(b"GIF89a\x01\x00\x01\x00")
    page.set_input_files("#f-logo", str(tmp_path / "logo.gif"))
    with page.expect_navigation():
        page.click("form[action$='/logo'] button[type=submit]")
    assert page.locator("#f-logo-error").is_visible()
    assert page.locator("#f-logo").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    Image.new("RGB", (200, 80), "orange").save(tmp_path / "logo.png")
    page.set_input_files("#f-logo", str(tmp_path / "logo.png"))
    with page.expect_navigation():
        page.click("form[action$='/logo'] button[type=submit]")
    assert page.locator("img.admin-logo").evaluate("node => node.naturalWidth") == 200
    page.goto(f"{live_server.url}/admin/branding")
    assert_accessible(page)
    with live_db(live_server) as session:
        found = session.exec(select(Office).where(Office.code == code)).one()
        assert offer.offered_languages(session, found.id)[:2] == ("vi", "ja")  # type: ignore[arg-type]
        branding.remove_logo(session, found.id)
