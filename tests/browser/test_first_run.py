"""A first run without the demo on a 1366×768 terminal: `frontyard init` creates only an
admin; the admin signs in with the temporary password, chooses their own, and follows the
set-up checklist to an office, two services and a counter; axe finds nothing on the way."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from composition.cli import main
from composition.factory import create_app
from frontyard.settings import Settings
from tests.browser.conftest import _free_port, assert_accessible, serving

pytestmark = pytest.mark.browser


def _next_step(page) -> str:  # type: ignore[no-untyped-def]
    """The title of the step the checklist marks as the next one."""
    return page.locator("li[aria-current=step] .setup-title").inner_text()


def test_a_fresh_admin_follows_the_checklist(browser, tmp_path):
    """init → sign in → own password → office → two services → counter, by the checklist."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": "",
           "FRONTYARD_BASE_URL": url, "FRONTYARD_SECRET_KEY": "first-run-secret"}
    result = CliRunner().invoke(main, ["init", "--admin", "kanri"], env=env)
    assert result.exit_code == 0, result.output
    assert f"{url}/login" in result.output
    temporary = result.output.split("sign-in): ")[1].split()[0]
    settings = Settings(data_dir=tmp_path, secret_key="first-run-secret", base_url=url)
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    page = context.new_page()
    with serving(create_app(settings), port):
        page.goto(f"{url}/login?next=/admin")
        page.fill("#username", "kanri")
        page.fill("#password", temporary)
        page.click("button[type=submit]")
        page.wait_for_url("**/account/password**")
        page.fill("#current_password", temporary)
        page.fill("#new_password", "our own admin password")
        page.fill("#confirmation", "our own admin password")
        page.click("form[action='/account/password'] button[type=submit]")
        page.wait_for_url(f"{url}/admin")
        assert page.locator("#setup-title").is_visible()
        assert page.locator(".setup-step").count() == 5
        assert _next_step(page) == "Register your office"
        assert "Not yet" in page.locator("li[aria-current=step]").inner_text()
        assert_accessible(page)
        page.click("li[aria-current=step] a")
        page.fill("#f-code", "kita")
        page.fill("#f-name_ja", "北支所")
        page.fill("#f-name_en", "North branch")
        page.click("form.admin-form button[type=submit]")
        page.wait_for_url(f"{url}/admin/offices/kita")
        page.click("a[href='/admin#setup']")
        assert "Completed: 1 office" in page.locator(".setup-step").first.inner_text()
        assert _next_step(page) == "Add the services residents queue for"
        page.click("li[aria-current=step] a")
        for code, prefix, name in [("zeimu", "Z", "税務"), ("fukushi", "FK", "福祉")]:
            if code == "fukushi":
                page.click("a[href='/admin/offices/kita/services/new']")
            page.wait_for_url(f"{url}/admin/offices/kita/services/new")
            page.fill("#f-code", code)
            page.fill("#f-prefix", prefix)
            page.fill("#f-name_ja", name)
            page.click("form.admin-form button[type=submit]")
            page.wait_for_url(f"{url}/admin/offices/kita")
        page.click("a[href='/admin#setup']")
        assert "Completed: 2 services" in page.locator(".setup-step").nth(1).inner_text()
        assert _next_step(page) == "Add the counters and the services each serves"
        page.click("li[aria-current=step] a")
        page.wait_for_url(f"{url}/admin/offices/kita/counters/new")
        page.fill("#f-number", "3")
        page.fill("#f-name_ja", "3番窓口")
        page.check("#f-service-fukushi")
        page.click("form.admin-form button[type=submit]")
        page.wait_for_url(f"{url}/admin/offices/kita")
        page.click("a[href='/admin#setup']")
        assert _next_step(page) == "Pair the kiosks and call boards"
        assert "Completed: 1 counter" in page.locator(".setup-step").nth(2).inner_text()
        page.screenshot(path=str(tmp_path / "first-run-checklist.png"), full_page=True)
        assert_accessible(page)
        page.click("a[href='/admin/config']")
        page.set_input_files("#file", files=[{
            "name": "city.yaml", "mimeType": "application/yaml",
            "buffer": "offices:\n- code: kita\n  names: {ja: 北支所, en: North office}\n"
                      .encode()}])
        page.click("form[action='/admin/config'] button[type=submit]")
        assert "names.en: 'North branch' → 'North office'" in page.locator("#preview").inner_text()
        assert_accessible(page)
    context.close()
