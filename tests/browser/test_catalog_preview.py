"""The admin previews a catalog version on a kiosk-sized screen (1080×1920) in a chosen
language: the kiosk's own screens under a preview bar, no ticket, nothing for axe to find."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_admin_previews_the_catalog_at_kiosk_size(context, live_server):
    """Catalog page → version → preview in Vietnamese → a life event → the questions."""
    page = context.new_page()
    page.set_viewport_size({"width": 1080, "height": 1920})
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/offices/main/catalog")
    assert_accessible(page)
    page.click("table a[href='/admin/offices/main/catalog/1']")
    assert page.locator("#version-valid").is_visible()
    assert_accessible(page)
    page.click("a[href$='/catalog/1/preview']")
    page.select_option("#preview-lang", "vi")
    page.click("#preview-bar button[type=submit]")
    page.wait_for_url("**/preview?lang=vi")
    assert page.locator("html").get_attribute("lang") == "vi"
    bar = page.locator("#preview-bar")
    assert bar.is_visible() and "1" in bar.inner_text()
    assert page.locator(".tile").count() >= 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 1080
    assert_accessible(page)
    page.locator("label.tile").first.click()
    page.click("form[action$='/preview/events'] button[type=submit]")
    page.wait_for_url("**/preview/**")
    assert page.locator("#preview-bar").is_visible()
    for action in ("/kiosk/events", "/kiosk/questions", "/kiosk/ticket", "/kiosk/reset"):
        assert page.locator(f"form[action='{action}']").count() == 0  # the live kiosk's
    assert_accessible(page)
