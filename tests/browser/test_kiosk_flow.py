"""The kiosk in a real Chromium: the whole flow to a ticket in ja, en and vi, a staff member
printing the pre-filled form, the idle reset, and axe on every kiosk screen in every locale."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from counter.models import Office, Visit, VisitDetails
from frontyard import database
from frontyard.auth import DeviceKind, create_device
from kiosk.catalog import KIOSK_LOCALES
from kiosk.models import KioskSession
from tests.browser.conftest import LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser

A4_WIDTH_PT = 595.3  # 210 mm
RECEIPT_WIDTH_PT = 226.8  # 80 mm
MOVING_DATE = (date.today() - timedelta(days=2)).isoformat()


@contextmanager
def live_db(live_server: LiveServer) -> Iterator[Session]:
    """A session on the live server's database."""
    engine = database.make_engine(live_server.settings.resolved_database_url())
    try:
        with database.session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def pair_kiosk(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Make this browser a kiosk of the demo office through a fresh pairing link."""
    with live_db(live_server) as session:
        office = session.exec(select(Office).where(Office.code == "main")).one()
        _, _, code = create_device(session, f"kiosk-{secrets.token_hex(4)}", DeviceKind.KIOSK,
                                   office_id=office.id)
    page.goto(f"{live_server.url}/device/pair/{code}")
    page.get_by_role("button").last.click()  # the link only asks; the button pairs
    page.wait_for_url(f"{live_server.url}/kiosk")


def answer_questions(page, check: Callable[[object], None]) -> None:  # type: ignore[no-untyped-def]
    """Answer every question screen: ages 34 and 0, insurance yes, everything else no."""
    checked = False
    while page.url.endswith("/kiosk/questions"):
        if not checked:
            check(page)
            checked = True
        for question_id in page.locator("input[name=asked]").evaluate_all(
                "nodes => nodes.map(node => node.value)"):
            if question_id == "household_ages":
                page.fill("#q-household_ages-0", "34, 0")
            elif question_id == "national_health_insurance":
                page.click(f"label[for=q-{question_id}-0]")
            else:
                page.click(f"label[for=q-{question_id}-1]")
        with page.expect_navigation():
            page.click("form[action='/kiosk/questions'] button[type=submit]")


def fill_details(page, *, phone: str) -> None:  # type: ignore[no-untyped-def]
    """Type the once-only details (hiragana furigana and an era date, as residents do)."""
    page.fill("#f-name", "グエン ヴァン アン")
    page.fill("#f-furigana", "ぐえん ゔぁん あん")
    page.fill("#f-date_of_birth", "平成2年4月1日")
    page.check("#f-sex-male")
    page.fill("#f-address", "本町1-2-3")
    page.fill("#f-phone", phone)
    page.fill("#f-moving_date", MOVING_DATE)
    page.fill("#m-0-name", "グエン ティ ビン")
    page.fill("#m-0-date_of_birth", (date.today() - timedelta(days=40)).isoformat())
    page.select_option("#m-0-relationship", "child")


def walk_to_ticket(page, live_server: LiveServer, locale: str,  # type: ignore[no-untyped-def]
                   check: Callable[[object], None] = assert_accessible,
                   check_variants: bool = True) -> str:
    """From the start screen to the ticket, checking each screen; returns the ticket number.

    `check_variants` also checks the start screen (the same in every language: it is shown
    before one is chosen) and the details form showing errors.
    """
    if check_variants:
        check(page)
    with page.expect_navigation():
        page.click(f"button[name=locale][value={locale}]")
    assert page.url.endswith("/kiosk/events")
    check(page)
    page.click("label[for=event-moving_in]")
    page.click("label[for=event-birth]")
    with page.expect_navigation():
        page.click("form[action='/kiosk/events'] button[type=submit]")
    answer_questions(page, check)
    assert page.url.endswith("/kiosk/guide")
    check(page)
    with page.expect_navigation():
        page.click("a[href='/kiosk/details']")
    check(page)
    fill_details(page, phone="12345")
    with page.expect_navigation():
        page.click("button[value=check]")
    # The error stands next to its field, in the page's language, and the form keeps the input.
    assert page.locator("#f-phone").get_attribute("aria-invalid") == "true"
    assert "f-phone-error" in (page.locator("#f-phone").get_attribute("aria-describedby") or "")
    assert page.locator("#f-phone-error").is_visible()
    assert page.input_value("#f-name") == "グエン ヴァン アン"
    if check_variants:
        check(page)
    page.fill("#f-phone", "090-1234-5678")
    with page.expect_navigation():
        page.click("button[value=check]")
    assert page.url.endswith("/kiosk/confirm"), page.url
    check(page)
    page.check("#consent")
    with page.expect_navigation():
        page.click("form.consent button[type=submit]")
    assert page.url.endswith("/kiosk/ticket")
    check(page)
    return page.locator("[data-ticket-number]").inner_text()


def read_qr(png: bytes) -> str:
    """The text of the one QR code in a screenshot, decoded as a phone's camera would."""
    import io

    import zxingcpp
    from PIL import Image

    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(codes) == 1, f"expected one QR code, found {len(codes)}"
    return codes[0].text  # type: ignore[no-any-return]


def pdf_width(pdf: bytes) -> float:
    """The width of the first page of a PDF, in points."""
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box is not None
    return float(box[1])


@pytest.mark.parametrize("locale", ["ja", "en", "vi"])
def test_whole_flow_to_a_ticket_then_staff_print_the_prefilled_form(
        browser, page, live_server, locale):
    """Kiosk flow in three languages to a ticket whose QR opens the status page; then a staff
    member sees the details given once and prints the 住民異動届 on A4."""
    pair_kiosk(page, live_server)
    number = walk_to_ticket(page, live_server, locale)
    assert page.locator("html").get_attribute("lang") == locale
    assert re.fullmatch(r"[A-Z]-\d{3}", number)
    # The procedures are listed on the ticket in the guide's order, registration first.
    assert page.locator(".ticket .step h3").count() >= 5
    # The QR code and its link both hold the absolute status URL.
    link = page.locator("[data-status-link]").get_attribute("href") or ""
    assert re.fullmatch(rf"{re.escape(live_server.url)}/status/[A-Za-z0-9_-]{{40,}}", link)
    assert page.locator("img[data-status-url]").get_attribute("data-status-url") == link
    assert read_qr(page.locator(".qr img").screenshot()) == link  # what a phone's camera reads
    # Printed on 80 mm receipt paper, without the kiosk's buttons.
    assert abs(pdf_width(page.pdf(prefer_css_page_size=True)) - RECEIPT_WIDTH_PT) < 2
    page.emulate_media(media="print")
    assert not page.locator(".kiosk-bar").is_visible()
    assert page.locator(".ticket-number").is_visible()
    page.emulate_media(media="screen")
    # Nothing personal in the browser: not in storage, not in the address.
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert "本町" not in page.url
    with live_db(live_server) as session:
        visit = session.exec(select(Visit).where(Visit.status_token == link.rsplit("/", 1)[1])
                             ).one()
        assert visit.ticket_number == number and visit.locale == locale
        assert session.get(VisitDetails, visit.id).data["furigana"].startswith("グエン")  # type: ignore[union-attr]
        public_id = visit.public_id
    phone = browser.new_context(locale="en-US").new_page()
    response = phone.goto(link)
    assert response is not None and response.status == 200
    assert phone.locator("[data-ticket]").get_attribute("data-ticket") == number
    assert "グエン" not in phone.content() and "本町" not in phone.content()  # nothing personal
    phone.context.close()

    # The staff member at the counter: details given once, then the form, filled, on A4.
    staff = browser.new_context(locale="ja-JP").new_page()
    sign_in(staff, live_server, "staff")
    staff.goto(f"{live_server.url}/forms/visit/{public_id}")
    assert "グエン　ヴァン　アン" in staff.locator("#details-panel").inner_text()
    assert_accessible(staff)
    with staff.expect_navigation():
        staff.click(f"a[href='/forms/visit/{public_id}/print/resident_move']")
    assert staff.locator("[data-field=address]").inner_text() == "本町1-2-3"
    assert "平成2年4月1日" in staff.locator(".people").inner_text()
    assert staff.locator("[data-kind=moving_in]").get_attribute("class") == "checked"
    assert_accessible(staff)
    staff.emulate_media(media="print")
    assert not staff.locator(".paper-tools").is_visible()
    assert abs(pdf_width(staff.pdf(prefer_css_page_size=True)) - A4_WIDTH_PT) < 2
    staff.context.close()


def test_kiosk_is_touch_sized_and_toggles_display_without_reload(page, live_server):
    """Targets are at least 64 px high; larger text and contrast switch at once and persist."""
    pair_kiosk(page, live_server)
    with page.expect_navigation():
        page.click("button[name=locale][value=en]")
    for selector in [".tile", ".kiosk-bar .button", "form[action='/kiosk/events'] button"]:
        for box in page.locator(selector).evaluate_all(
                "nodes => nodes.map(node => node.getBoundingClientRect().height)"):
            assert box >= 64, selector
    page.click("button[value=large_text]")
    page.wait_for_function("document.documentElement.classList.contains('large-text')")
    assert page.locator("button[value=large_text]").get_attribute("aria-pressed") == "true"
    page.click("label[for=event-certificates]")
    with page.expect_navigation():
        page.click("form[action='/kiosk/events'] button[type=submit]")
    assert "large-text" in (page.locator("html").get_attribute("class") or "")


def test_idle_countdown_then_reset_clears_everything(page, live_server):
    """After idle time a countdown shows; "continue" keeps the page; at zero the session and
    its details are deleted and the start screen returns."""
    pair_kiosk(page, live_server)
    with page.expect_navigation():
        page.click("button[name=locale][value=en]")
    page.click("label[for=event-moving_in]")
    with page.expect_navigation():
        page.click("form[action='/kiosk/events'] button[type=submit]")
    answer_questions(page, lambda _page: None)
    with page.expect_navigation():
        page.click("a[href='/kiosk/details']")
    fill_details(page, phone="090-1234-5678")
    with page.expect_navigation():
        page.click("button[value=check]")
    assert page.url.endswith("/kiosk/confirm")
    kiosk_id = _kiosk_session_with_details(live_server)
    # Shorten the timings (the script reads them each time it re-arms) and touch the screen.
    page.evaluate("""() => { const d = document.getElementById('kiosk-idle');
                              d.dataset.idleSeconds = '1'; d.dataset.countdownSeconds = '3'; }""")
    page.mouse.click(5, 300)
    dialog = page.locator("#kiosk-idle")
    dialog.wait_for(state="visible", timeout=5000)
    assert page.locator("[data-countdown]").inner_text() in {"3", "2"}
    assert page.evaluate("document.activeElement.hasAttribute('data-idle-continue')")
    page.click("[data-idle-continue]")
    assert dialog.is_hidden() and page.url.endswith("/kiosk/confirm")
    dialog.wait_for(state="visible", timeout=5000)
    page.wait_for_url(f"{live_server.url}/kiosk", timeout=10000)
    assert page.locator("button[name=locale]").count() == len(KIOSK_LOCALES)
    with live_db(live_server) as session:
        assert session.get(KioskSession, kiosk_id) is None
    page.goto(f"{live_server.url}/kiosk/confirm")
    assert page.url == f"{live_server.url}/kiosk"
    page.go_back()
    assert "グエン" not in page.content()


def _kiosk_session_with_details(live_server: LiveServer) -> str:
    with live_db(live_server) as session:
        rows = session.exec(select(KioskSession)).all()
        holding = [row.id for row in rows if row.details]
    assert len(holding) == 1
    return holding[0]


OTHER_LOCALES = [code for code in KIOSK_LOCALES if code not in {"ja", "en", "vi"}]


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_axe_finds_nothing_on_any_kiosk_screen_in_the_other_locales(page, live_server, locale):
    """One pass through every screen in each remaining kiosk language (ja, en, vi are above)."""
    pair_kiosk(page, live_server)
    walk_to_ticket(page, live_server, locale, check_variants=False)
    expected = {"ja_easy": "ja", "zh_Hans": "zh-Hans", "pt_BR": "pt-BR", "tl": "fil"}
    assert page.locator("html").get_attribute("lang") == expected.get(locale, locale)
    with page.expect_navigation():
        page.click("button[form=kiosk-reset]")
    assert page.url == f"{live_server.url}/kiosk"
