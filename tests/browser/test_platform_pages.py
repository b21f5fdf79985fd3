"""The shared pages in a real Chromium: sign-in per role, language switcher, 403, axe."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("username", "landing"), [("staff", "/counter"),
                                                   ("manager", "/analytics"),
                                                   ("admin", "/analytics")])
def test_each_role_signs_in_and_reaches_its_page(page, live_server, username, landing):
    """Opening a protected page leads through the login form and back to it."""
    page.goto(f"{live_server.url}{landing}")
    assert "/login" in page.url
    page.fill("#username", username)
    page.fill("#password", live_server.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{landing}")
    assert page.locator("h1").is_visible()
    assert page.locator(".signout .who").inner_text() != ""


def test_wrong_password_shows_message(page, live_server):
    """The error is announced and linked to the fields."""
    page.goto(f"{live_server.url}/login")
    page.fill("#username", "staff")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    alert = page.locator("[role=alert]")
    assert "not correct" in alert.inner_text()
    assert page.locator("#password").get_attribute("aria-invalid") == "true"


def test_staff_gets_403_on_manager_page(page, live_server):
    """Staff see a translated 403 page on analytics."""
    sign_in(page, live_server, "staff")
    response = page.goto(f"{live_server.url}/analytics")
    assert response is not None and response.status == 403
    assert "You do not have access" in page.locator("h1").inner_text()


def test_language_switcher_changes_and_remembers_language(page, live_server):
    """Choosing 日本語 switches the page and the choice sticks across pages."""
    page.goto(f"{live_server.url}/login")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click(".language-switcher a[lang=ja]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "職員ログイン"
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "ja"


def test_switcher_is_keyboard_usable(page, live_server):
    """The skip link comes first and the switcher is reachable with Tab and Enter."""
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.lang") == "ja":
            break
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ja"


PUBLIC_PAGES = ["/", "/login", "/crowding", "/no-such-page"]
STAFF_PAGES = ["/counter", "/board", "/kiosk"]
MANAGER_PAGES = ["/analytics"]
ADMIN_PAGES = ["/admin/audit"]


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_every_page_passes_axe(page, live_server, locale):
    """axe-core finds no WCAG 2.2 A/AA violation on any page that exists, in both languages."""
    page.goto(f"{live_server.url}/locale/{locale}?next=/")
    for path in PUBLIC_PAGES:
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page)
    sign_in(page, live_server, "admin")
    for path in STAFF_PAGES + MANAGER_PAGES + ADMIN_PAGES:
        page.goto(f"{live_server.url}{path}")
        assert page.url.endswith(path)
        assert_accessible(page)
