"""The admin's users and devices pages and the pairing confirmation in a real Chromium, at
the terminal's size: axe-clean, and the flows a person clicks through."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser
TERMINAL = {"width": 1366, "height": 768}


def test_admin_adds_a_user_and_a_device_and_a_screen_pairs(browser, live_server, tmp_path):
    """Add an account (temporary password shown), add a board (code + QR), pair another
    browser by typing the code: every page passes axe."""
    admin = browser.new_context(locale="en-US", viewport=TERMINAL)
    page = admin.new_page()
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/users")
    assert_accessible(page)
    page.fill("#username", "browser-clerk")
    page.select_option("#role", "staff")
    page.click("form[action='/admin/users'] button[type=submit]")
    assert page.locator("#temporary-password").inner_text().count("-") == 3
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "users.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/devices")
    page.fill("#name", "browser-board")
    page.select_option("#kind", "board")
    page.click("form[action='/admin/devices'] button[type=submit]")
    code = page.locator("#pairing-code").inner_text()
    assert page.locator("img.pairing-qr").evaluate("img => img.naturalWidth") > 0
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "devices.png"), full_page=True)

    screen = browser.new_context(locale="en-US", viewport={"width": 1920, "height": 1080})
    lobby = screen.new_page()
    lobby.goto(f"{live_server.url}/device/pair")
    assert_accessible(lobby)
    lobby.fill("#code", code.lower())
    lobby.click("button[type=submit]")
    lobby.wait_for_url(f"{live_server.url}/board")
    page.goto(f"{live_server.url}/admin/devices")
    row = page.locator("tr", has_text="browser-board")
    assert "Paired" in row.inner_text() and "Never" not in row.inner_text()
    screen.close()
    admin.close()
