"""The procedure navigator on a resident's phone (390×844, headless Chromium): the moving-in
questions answered by touch and keyboard, the procedures with what to bring and an online
alternative with its condition, no horizontal scrolling, axe-core clean, in English and in
Japanese; the result's address opened again shows the same list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from composition.demo import seed_structure
from composition.factory import create_app
from frontyard import database
from frontyard.settings import Settings
from tests.browser.conftest import _free_port, assert_accessible, serving

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"
#: Moving in with a partner and a one-year-old; yes/no answers by option index (0 yes, 1 no).
AGES = "34, 1"
YES_NO = {"mynumber_card": 0, "register_seal": 1, "national_health_insurance": 0,
          "longterm_care_certified": 1, "daycare": 1, "pregnant": 1, "dog": 1}


@dataclass
class NavigatorServer:
    """A running Frontyard with an office whose services the bundled catalog names."""

    url: str


@pytest.fixture(scope="module")
def navigator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NavigatorServer]:
    """Frontyard on SQLite, served by uvicorn in a thread."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path_factory.mktemp("navigator"),
                        secret_key="navigator-secret", base_url=url)
    database.upgrade(settings.resolved_database_url())
    app = create_app(settings)
    with serving(app, port):
        with database.session_scope(app.state.engine) as session:
            seed_structure(session)
        yield NavigatorServer(url)


def phone_page(browser, locale: str):  # type: ignore[no-untyped-def]
    """A phone-sized page whose browser asks for `locale`."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale=locale)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def fits(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing wider than the phone, and axe-core finds no WCAG violation."""
    assert page.evaluate(NO_OVERFLOW), f"{page.url} overflows at 390 px"
    assert_accessible(page)


def answer_moving_in(page, server: NavigatorServer) -> None:  # type: ignore[no-untyped-def]
    """Choose moving in (by keyboard) and answer every question shown, screen by screen."""
    page.goto(f"{server.url}/navigator")
    page.wait_for_url("**/navigator/main")
    fits(page)
    page.focus("#event-moving_in")
    page.keyboard.press("Space")  # a check box tile works by keyboard
    assert page.is_checked("#event-moving_in")
    page.locator("form button[type=submit]").click()
    for _ in range(5):
        page.wait_for_load_state()
        if "/procedures?" in page.url:
            return
        assert "/questions?" in page.url
        fits(page)
        ages = page.locator("#q-household_ages-0")
        if ages.count():
            ages.fill(AGES)
        for question, option in YES_NO.items():
            label = page.locator(f'label[for="q-{question}-{option}"]')
            if label.count():
                label.click()
        page.locator("form button[type=submit]").click()
    raise AssertionError("the questions never ended")


@pytest.mark.parametrize(("locale", "words"), [
    ("en-US", {"online": "Can be done online instead", "condition": "signature PIN",
               "bring": "Documents to bring", "procedure": "Moving-in notification",
               "alternative": "Mynaportal (Pittari service)"}),
    ("ja-JP", {"online": "オンラインでも手続きできます", "condition": "署名用電子証明書の暗証番号",
               "bring": "持ち物", "procedure": "転入届",
               "alternative": "マイナポータル（ぴったりサービス）"}),
])
def test_moving_in_on_a_phone(browser, navigator_server, locale, words):
    """Answer the questions for moving in; see the procedures with what to bring and the
    online alternative with its condition; the page fits and passes axe; its address, opened
    again, is the same list."""
    context, page = phone_page(browser, locale)
    try:
        answer_moving_in(page, navigator_server)
        fits(page)
        body = page.locator("main")
        assert body.get_by_text(words["procedure"], exact=False).first.is_visible()
        assert page.get_by_role("heading", name=words["bring"]).is_visible() or \
            words["bring"] in body.inner_text()
        online = page.locator(".online-alternative").first
        assert online.is_visible()
        assert words["online"] in online.inner_text()
        assert words["condition"] in online.inner_text()
        link = online.get_by_role("link", name=words["alternative"])
        assert link.get_attribute("href") == "https://myna.go.jp/"
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44
        assert page.locator(".step .facts ul li").count() > 5  # documents per procedure
        steps = page.locator(".step h3").all_inner_texts()
        shared = page.url
        assert page.locator(".share-link a").inner_text() == shared
        page.screenshot(path=f"/tmp/navigator-{locale}.png", full_page=True)
        page.emulate_media(media="print")  # the printed list: no header, buttons or chooser
        assert page.locator(".site-header").is_hidden()
        assert page.get_by_role("button").first.is_hidden()
        assert page.locator(".online-alternative .print-only").first.is_visible()  # the URL
        assert page.locator(".print-heading").is_visible()
        page.emulate_media(media="screen")
        other_context, other = phone_page(browser, locale)
        try:
            other.goto(shared)
            assert other.locator(".step h3").all_inner_texts() == steps
        finally:
            other_context.close()
    finally:
        context.close()


def test_the_language_chooser_keeps_the_answers(browser, navigator_server):
    """Switching to easy Japanese on the result keeps the same list, with readings."""
    context, page = phone_page(browser, "en-US")
    try:
        answer_moving_in(page, navigator_server)
        count = page.locator(".step").count()
        page.locator(".language-chooser summary").click()
        page.get_by_role("link", name="やさしい にほんご").click()
        page.wait_for_selector('html[lang="ja"]')
        assert "/procedures?" in page.url
        assert page.locator(".step").count() == count
        assert page.locator("main rt").count() > 10
        fits(page)
    finally:
        context.close()
