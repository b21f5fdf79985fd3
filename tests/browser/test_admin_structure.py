"""The admin sets up a new office on a 1366×768 terminal through the pages: the office, two
services and a counter, with a refused entry on the way; axe finds nothing on any page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_admin_creates_an_office_two_services_and_a_counter(context, live_server):
    """From the home page to a working office, with no developer and no SQL."""
    page = context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/")
    page.click("a[href='/admin']")
    assert_accessible(page)
    page.click("a[href='/admin/offices']")
    page.fill("#f-code", "higashi")
    page.fill("#f-name_ja", "東出張所")
    page.fill("#f-name_en", "East branch")
    page.fill("#f-address", "東町3-3")
    assert_accessible(page)
    page.click("form.admin-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/offices/higashi")
    assert "East branch" in page.locator("h1").inner_text()
    assert_accessible(page)
    for code, prefix, name in [("zeimu", "Z", "税務"), ("fukushi", "F", "福祉")]:
        page.click("a[href='/admin/offices/higashi/services/new']")
        page.fill("#f-code", code)
        page.fill("#f-prefix", prefix.lower() if code == "zeimu" else prefix)
        page.fill("#f-name_ja", name)
        page.fill("#f-colour", "#1a6fb0")
        page.click("form.admin-form button[type=submit]")
        if code == "zeimu":  # a lower-case prefix is refused in the page, entries kept
            assert page.locator("#f-prefix-error").is_visible()
            assert page.locator("#f-prefix").get_attribute("aria-invalid") == "true"
            assert page.locator("#f-name_ja").input_value() == name
            page.screenshot(path=str(live_server.settings.data_dir / "admin-refused.png"))
            assert_accessible(page)
            page.fill("#f-prefix", prefix)
            page.click("form.admin-form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/offices/higashi")
    page.click("a[href='/admin/offices/higashi/counters/new']")
    page.fill("#f-number", "5")
    page.fill("#f-name_ja", "5番窓口")
    page.fill("#f-zone", "1F")
    page.check("#f-service-zeimu")
    assert_accessible(page)
    page.click("form.admin-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/offices/higashi")
    rows = page.locator("table tbody tr")
    assert rows.count() == 3  # two services, one counter
    assert "5番窓口" in page.content() and "fukushi" in page.content()
    page.screenshot(path=str(live_server.settings.data_dir / "admin-office.png"), full_page=True)
    assert_accessible(page)
