"""Details entered at home in real Chromium: on a phone (390×844) enter the details and get the
code; at the kiosk (1080×1920) type it, or show its QR code to the camera, and get the ticket;
the staff terminal (1366×768) shows the details without anyone typing them again."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import qrcode
from sqlmodel import select

from counter import queue
from counter.models import Counter, Office, Task, TaskState, Visit, VisitDetails
from frontyard.auth import User
from kiosk import pre_entry
from kiosk.details import validate_details
from kiosk.pre_entry import PreEntry
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    assert_accessible,
    sign_in,
)
from tests.browser.test_kiosk_flow import live_db, pair_kiosk

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1080, "height": 1920}
TERMINAL = {"width": 1366, "height": 768}


def answer_at_home(page) -> None:  # type: ignore[no-untyped-def]
    """Answer every question page at home: ages 34 and 0, insurance yes, everything else no."""
    while page.locator("input[name=asked]").count():
        for question_id in page.locator("input[name=asked]").evaluate_all(
                "nodes => nodes.map(node => node.value)"):
            if question_id == "household_ages":
                page.fill("#q-household_ages-0", "34, 0")
            elif question_id == "national_health_insurance":
                page.click(f"label[for=q-{question_id}-0]")
            else:
                page.click(f"label[for=q-{question_id}-1]")
        with page.expect_navigation():
            page.click("main form button[type=submit]")


def enter_at_home(browser, live_server: LiveServer) -> str:  # type: ignore[no-untyped-def]
    """On a phone: life event, questions, details (one mistake first); returns the code."""
    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/navigator/main/details")
    assert_accessible(page)
    page.check("#event-moving_in")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert_accessible(page)
    answer_at_home(page)
    page.fill("#f-name", "Maria Santos")
    page.fill("#f-date_of_birth", "1990-04-01")
    page.fill("#f-address", "Honcho 1-2-3")
    page.fill("#f-phone", "12345")
    page.check("#consent")
    with page.expect_navigation():
        page.click("button[value=check]")
    assert page.locator("#f-phone").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-phone-error").is_visible()
    assert_accessible(page)
    page.fill("#f-phone", "090-1234-5678")
    page.check("#consent")
    with page.expect_navigation():
        page.click("button[value=check]")
    assert page.url.endswith("/navigator/main/details/code")
    assert "Maria" not in page.content() and "090-1234-5678" not in page.url
    # The page fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    code = page.locator("[data-code]").inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code), code
    context.close()
    return code


def terminal_shows(browser, live_server: LiveServer, number: str,  # type: ignore[no-untyped-def]
                   expected: list[str]) -> None:
    """At counter 3 (residents), call the ticket from the list and show its details."""
    context = browser.new_context(locale="en-US", viewport=TERMINAL)
    context.set_default_timeout(10_000)
    desk = context.new_page()
    free_counters(live_server)
    desk.goto(f"{live_server.url}/locale/en?next=/")
    sign_in(desk, live_server, "admin")
    desk.goto(f"{live_server.url}/counter")
    desk.get_by_role("link", name="Counter 3").click()
    desk.locator("form[action='/counter/open'] button[type=submit]").click()
    desk.wait_for_url(f"{live_server.url}/counter")
    assert desk.locator(".terminal-head a[href='/forms/code']").count() == 1  # staff lookup
    row = desk.locator("#terminal-live tbody tr", has=desk.locator(f"th:text-is('{number}')"))
    if not row.count():  # the number's cell also holds badges: match its start
        row = desk.locator("#terminal-live tbody tr").filter(has_text=number)
    row.first.locator("form[action$='/call'] button").click()
    desk.wait_for_selector(f'.current-ticket [data-ticket="{number}"]')
    desk.keyboard.press("d")
    details = desk.locator("#terminal-details [data-details-task]")
    details.wait_for()
    text = details.inner_text()
    for value in expected:
        assert value in text, value
    assert_accessible(desk)
    context.close()
    free_counters(live_server)


def free_counters(live_server: LiveServer, username: str = "admin") -> None:
    """Sign a user out of every counter, ending the tickets in hand: the browser tests share
    the demo office and its admin, and each chooses its own counter from the list."""
    with live_db(live_server) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        for counter in session.exec(select(Counter).where(
                Counter.staff_user_id == user.id)).all():
            for task in session.exec(select(Task).where(Task.counter_id == counter.id)).all():
                if task.state == TaskState.CALLED:
                    queue.no_show(session, task.id, user.id)  # type: ignore[arg-type]
                elif task.state == TaskState.SERVING:
                    queue.complete(session, task.id, user.id)  # type: ignore[arg-type]
            queue.close_counter(session, counter.id, user.id)  # type: ignore[arg-type]


def test_details_at_home_then_typed_code_at_the_kiosk_then_the_terminal(browser, live_server):
    """Phone → code; kiosk types it (lower case, spaces) → ticket; terminal shows details."""
    code = enter_at_home(browser, live_server)
    context = browser.new_context(locale="en-US", viewport=KIOSK, has_touch=True)
    context.set_default_timeout(10_000)
    kiosk = context.new_page()
    pair_kiosk(kiosk, live_server)
    with kiosk.expect_navigation():
        kiosk.click("a[href='/kiosk/code']")
    assert_accessible(kiosk)
    kiosk.fill("#code", "2345 6789")  # unknown: refused in place
    with kiosk.expect_navigation():
        kiosk.click("form[data-code-form] button[type=submit]")
    assert kiosk.locator("#code-error").is_visible()
    assert kiosk.locator("#code").get_attribute("aria-invalid") == "true"
    assert_accessible(kiosk)
    kiosk.fill("#code", code[:4].lower() + " " + code[5:7])
    for symbol in code[7:]:  # the last symbol through the on-screen keys
        kiosk.click(f"[data-key='{symbol}']")
    with kiosk.expect_navigation():
        kiosk.click("form[data-code-form] button[type=submit]")
    assert kiosk.url.endswith("/kiosk/ticket")
    number = kiosk.locator(".ticket-number, [data-ticket]").first.inner_text().strip()
    context.close()
    with live_db(live_server) as session:
        entry = session.exec(select(PreEntry).where(
            PreEntry.code == code.replace("-", ""))).one()
        visit = session.get(Visit, entry.visit_id)
        stored = session.get(VisitDetails, entry.visit_id)
        assert visit is not None and visit.ticket_number in number
        assert stored is not None and stored.source == "pre_entry"
        number = visit.ticket_number
    terminal_shows(browser, live_server, number, ["Maria Santos", "090-1234-5678"])


# --- the camera: a second Chromium, fed a video of the QR code -------------------------------


def _qr_video(text: str, path: Path, frames: int = 30) -> None:
    """An MJPEG file (concatenated JPEG frames) showing the QR code of `text` in a 640×480
    picture: Chromium's fake camera plays it in a loop."""
    from PIL import Image

    code = qrcode.make(text, box_size=10, border=4).get_image().convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    code = code.resize((400, 400))
    frame.paste(code, (120, 40))
    buffer = io.BytesIO()
    for _ in range(frames):
        frame.save(buffer, format="JPEG", quality=90)
    path.write_bytes(buffer.getvalue())


@pytest.fixture
def camera_browser(browser, tmp_path) -> Iterator[tuple[object, Path]]:  # type: ignore[no-untyped-def]
    """A Chromium of its own: the fake camera's video file is a launch flag, so the session's
    shared browser cannot have it. One extra launch (through the session's Playwright), for
    this test only."""
    video = tmp_path / "qr.mjpeg"
    launched = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
              "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    try:
        yield launched, video
    finally:
        launched.close()


def test_the_kiosk_camera_reads_the_qr_code(camera_browser, live_server):
    """The QR code shown to the camera issues the ticket, with no typing at all."""
    launched, video = camera_browser
    with live_db(live_server) as session:
        office = session.exec(select(Office).where(Office.code == "main")).one()
        catalog = pre_entry.office_and_catalog(session, "main")[1]
        entry = pre_entry.create(
            session, office_id=office.id, catalog=catalog, locale="en", events=["certificates"],
            answers={"certificates": ["resident_record"]},
            details=validate_details({"name": "Camera Test", "address": "Honcho 9"}),
            client="camera-test", open_limit=100, retention_days=14)
        code = entry.code
    # The file is read when the camera starts (on the code page), not at launch.
    _qr_video(pre_entry.format_code(code), video)
    context = launched.new_context(locale="en-US", viewport=KIOSK)  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    kiosk = context.new_page()
    pair_kiosk(kiosk, live_server)
    kiosk.goto(f"{live_server.url}/kiosk/code")
    kiosk.wait_for_url(f"{live_server.url}/kiosk/ticket", timeout=20_000)
    context.close()
    with live_db(live_server) as session:
        claimed = session.exec(select(PreEntry).where(PreEntry.code == code)).one()
        assert claimed.visit_id is not None
        stored = session.get(VisitDetails, claimed.visit_id)
        assert stored is not None and stored.data["name"] == "Camera Test"
