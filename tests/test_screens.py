"""The queue's pages over HTTP: staff terminal and its actions, call board, crowding page,
residents' status pages (roles, 404s, no personal data, audit of every details view)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from counter import statuses
from counter.models import Event, EventKind, Task, TaskState, Visit
from counter.screens import (
    GONE,
    StatusMessages,
    render_fragment,
    speech_lang,
    spoken_number,
    state_message,
    status_context,
)
from counter.views import TERMINAL_WAITING_LIMIT, Lamp, lamp_for
from frontyard import database, i18n
from frontyard.audit import AuditEntry
from frontyard.auth import DeviceKind, create_device
from tests.conftest import make_client
from tests.screens_support import HTMX, issue, open_counter, user_id
from tests.screens_support import office as office  # a fixture, used by name

RESIDENT = {"name": "山田 花子", "phone": "090-1234-5678"}


@pytest.fixture
def staff_client(staff_client):  # type: ignore[no-untyped-def]
    """The signed-in staff client, reading English (assertions below quote English text)."""
    staff_client.headers["Accept-Language"] = "en"
    return staff_client


def _task(engine, task_id: int) -> Task:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


# --- Staff terminal ------------------------------------------------------------------------


def test_terminal_needs_a_staff_sign_in(client):
    """Anonymous visitors are sent to the sign-in form."""
    response = client.get("/counter", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_staff_chooses_a_counter_and_its_services(staff_client, office):
    """Without a counter the terminal lists them; choosing one pre-checks its services."""
    page = staff_client.get("/counter")
    assert page.status_code == 200 and "Counter 1" in page.text
    form = staff_client.get(f"/counter?counter={office.counters['5']}")
    checked = [line for line in form.text.splitlines() if "checked" in line]
    assert len(checked) == 2  # counter 5 remembers insurance and long-term care
    open_counter(staff_client, office, "5", ["insurance"])
    terminal = staff_client.get("/counter")
    assert 'data-live-socket="/ws/counter"' in terminal.text
    assert "Nobody is waiting" in terminal.text


def test_call_next_start_and_complete_through_htmx(app, staff_client, office, engine):
    """The buttons post with htmx and get the terminal back; one-stop routing shows next."""
    ticket = issue(app, office, ["residents", "insurance"], details=RESIDENT)
    open_counter(staff_client, office, "1", ["residents"])
    page = staff_client.get("/counter")
    assert ticket.number in page.text and 'data-shortcut="1"' in page.text

    called = staff_client.post("/counter/call-next", headers=HTMX)
    assert called.status_code == 200 and "<html" not in called.text
    assert f'data-ticket="{ticket.number}"' in called.text
    assert 'data-state="called"' in called.text
    assert "step 1 of 2" in called.text and "Reception (1/3)" in called.text  # 受付, in English
    task_id = ticket.task_ids[0]
    assert staff_client.post(f"/counter/tasks/{task_id}/start", headers=HTMX).status_code == 200
    done = staff_client.post(f"/counter/tasks/{task_id}/complete", headers=HTMX)
    assert done.status_code == 200 and "No ticket at this counter" in done.text
    assert _task(engine, ticket.task_ids[1]).state == TaskState.WAITING  # routed to insurance
    with Session(engine) as session:
        kinds = [e.kind for e in session.exec(select(Event).where(Event.task_id == task_id))]
    assert kinds[-3:] == [EventKind.CALLED, EventKind.STARTED, EventKind.DONE]


def test_terminal_lists_the_first_tickets_in_line_and_counts_the_rest(app, staff_client,
                                                                       office):
    """A busy queue: the terminal lists the next ones (what staff act on), says how many more
    wait, and stays light to render on every change."""
    tickets = [issue(app, office, ["insurance"]) for _ in range(TERMINAL_WAITING_LIMIT + 3)]
    open_counter(staff_client, office, "4", ["insurance"])
    page = staff_client.get("/counter").text
    listed = [t.number for t in tickets if f"<th scope=\"row\">{t.number}" in page]
    assert listed == [t.number for t in tickets[:TERMINAL_WAITING_LIMIT]]
    assert "and 3 more waiting" in page
    assert f"{TERMINAL_WAITING_LIMIT + 3} people" in page


def test_illegal_action_shows_the_409_message_in_place(app, staff_client, office, engine):
    """Completing a ticket that was only called is refused with the engine's message."""
    ticket = issue(app, office, ["insurance"])
    open_counter(staff_client, office, "4", ["insurance"])
    staff_client.post("/counter/call-next", headers=HTMX)
    refused = staff_client.post(f"/counter/tasks/{ticket.task_ids[0]}/complete", headers=HTMX)
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text and ticket.number in refused.text
    assert "<html" not in refused.text  # a fragment for the terminal, not an error page
    assert _task(engine, ticket.task_ids[0]).state == TaskState.CALLED


def test_without_htmx_actions_redirect_and_errors_are_pages(app, staff_client, office):
    """The forms work without JavaScript: redirect on success, translated page on refusal."""
    ticket = issue(app, office, ["insurance"])
    open_counter(staff_client, office, "4", ["insurance"])
    ok = staff_client.post("/counter/call-next", follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/counter"
    again = staff_client.post("/counter/call-next")
    assert again.status_code == 409 and "<html" in again.text
    assert ticket.number in again.text


def test_actions_need_an_open_counter_and_stay_at_it(app, staff_client, office, engine):
    """No counter: 409. Another counter's ticket: 409. Unknown action or ticket: 404."""
    ticket = issue(app, office, ["insurance"])
    assert staff_client.post("/counter/call-next", headers=HTMX).status_code == 409
    with database.session_scope(engine) as session:
        from counter import queue

        other = user_id(engine, "manager1")
        queue.open_counter(session, office.counters["4"], other, [office.services["insurance"]])
        queue.call_next(session, office.counters["4"], other)
    open_counter(staff_client, office, "5", ["insurance"])
    refused = staff_client.post(f"/counter/tasks/{ticket.task_ids[0]}/no-show", headers=HTMX)
    assert refused.status_code == 409 and "not at your counter" in refused.text
    assert staff_client.post(f"/counter/tasks/{ticket.task_ids[0]}/fly",
                             headers=HTMX).status_code == 404
    assert staff_client.post("/counter/tasks/99999/start", headers=HTMX).status_code == 404


def test_transfer_keeps_the_number_and_moves_the_ticket(app, staff_client, office, engine):
    """Transfer to another service from the terminal; a missing target is a 422."""
    ticket = issue(app, office, ["insurance"])
    open_counter(staff_client, office, "4", ["insurance"])
    staff_client.post("/counter/call-next", headers=HTMX)
    task_id = ticket.task_ids[0]
    missing = staff_client.post(f"/counter/tasks/{task_id}/transfer", headers=HTMX)
    assert missing.status_code == 422
    moved = staff_client.post(f"/counter/tasks/{task_id}/transfer", headers=HTMX,
                              data={"service_id": str(office.services["tax"])})
    assert moved.status_code == 200
    task = _task(engine, task_id)
    assert task.service_id == office.services["tax"] and task.state == TaskState.WAITING


def test_viewing_details_is_audited_and_needs_the_ticket_at_the_counter(
        app, staff_client, office, engine):
    """Details appear only on request, for the counter's own ticket, and each view is logged."""
    ticket = issue(app, office, ["insurance"], details=RESIDENT)
    open_counter(staff_client, office, "4", ["insurance"])
    too_early = staff_client.get(f"/counter/tasks/{ticket.task_ids[0]}/details")
    assert too_early.status_code == 409 and RESIDENT["name"] not in too_early.text
    called = staff_client.post("/counter/call-next", headers=HTMX)
    assert RESIDENT["name"] not in called.text  # the live terminal never carries them
    for _ in range(2):
        shown = staff_client.get(f"/counter/tasks/{ticket.task_ids[0]}/details")
        assert shown.status_code == 200 and RESIDENT["name"] in shown.text
        assert shown.headers["cache-control"] == "no-store"
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "view_details")).all()
    assert len(entries) == 2
    assert {e.visit_id for e in entries} == {ticket.visit_id}
    assert {e.user_id for e in entries} == {user_id(engine, "staff1")}


FAMILY = {"name": "Maria Santos", "sex": "female", "relationship": "wife",
          "residence_status": "special_permanent_resident", "nationality": "PH",
          "household_members": [
              {"name": "Jose Santos", "sex": "male", "relationship": "head"},
              {"name": "Ana Santos", "sex": "female", "relationship": "child",
               "date_of_birth": "2015-06-01"}]}


def test_details_show_translated_labels_a_household_table_and_the_form_page(
        app, staff_client, office):
    """Codes become the kiosk's labels in the staff member's language, the household is a table
    with a row per person, and the visit's form page is one click away."""
    ticket = issue(app, office, ["insurance"], details=FAMILY)
    with database.session_scope(app.state.engine) as session:
        public_id = session.get(Visit, ticket.visit_id).public_id
    open_counter(staff_client, office, "4", ["insurance"])
    called = staff_client.post("/counter/call-next", headers=HTMX)
    assert f'href="/forms/visit/{public_id}"' in called.text
    shown = staff_client.get(f"/counter/tasks/{ticket.task_ids[0]}/details")
    assert shown.status_code == 200
    for label in ("Sex", "Female", "Wife", "Special Permanent Resident", "Philippines",
                  "Relationship to the head of household", "Head of household"):
        assert label in shown.text
    for code in ("special_permanent_resident", ">wife<", ">female<", ">PH<", ">head<"):
        assert code not in shown.text
    rows = shown.text.split('class="data details-household"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 3 and "Jose Santos" in rows and "Ana Santos" in rows
    assert "Child" in rows and "2015-06-01" in rows
    assert f'href="/forms/visit/{public_id}"' in shown.text
    staff_client.headers["Accept-Language"] = "ja"
    japanese = staff_client.get(f"/counter/tasks/{ticket.task_ids[0]}/details")
    assert "特別永住者" in japanese.text and "妻" in japanese.text
    assert staff_client.get(f"/forms/visit/{public_id}").status_code == 200


# --- Call board ----------------------------------------------------------------------------


def test_board_needs_a_board_device_or_staff(app, client, staff_client, engine, office):
    """Anonymous: sign in; a kiosk token: 403; a board token or staff: the board."""
    assert client.get("/board", follow_redirects=False).status_code == 303
    with database.session_scope(engine) as session:
        _, board_token, _ = create_device(session, "lobby", DeviceKind.BOARD, office.id)
        _, kiosk_token, _ = create_device(session, "kiosk", DeviceKind.KIOSK, office.id)
    with make_client(app) as device:
        assert device.get("/board", headers={
            "Authorization": f"Bearer {kiosk_token}"}).status_code == 403
        page = device.get("/board", headers={"Authorization": f"Bearer {board_token}"})
        assert page.status_code == 200 and 'lang="ja"' in page.text
    assert staff_client.get("/board").status_code == 200


def test_board_shows_calls_in_japanese_and_the_second_language(app, staff_client, office):
    """The called number with its counter; labels in ja and the chosen second language."""
    ticket = issue(app, office, ["insurance"])
    open_counter(staff_client, office, "4", ["insurance"])
    staff_client.post("/counter/call-next", headers=HTMX)
    page = staff_client.get("/board?lang=en")
    assert '<span lang="ja" class="lang-1">呼び出し中</span>' in page.text
    assert '<span lang="en" class="lang-2">Now calling</span>' in page.text
    calling = page.text.split('class="board-calling"')[1].split("</section>")[0]
    assert ticket.number in calling and "4番窓口" in calling and "Counter 4" in calling
    korean = staff_client.get("/board?lang=ko")
    assert 'lang="ko"' in korean.text
    calling = korean.text.split('class="board-calling"')[1].split("</section>")[0]
    assert "창구 4" in calling and "Counter 4" not in calling  # the counter in Korean too
    unknown = staff_client.get("/board?lang=xx")
    assert 'lang="en"' in unknown.text  # an unknown code falls back to English


def test_spoken_forms():
    """Numbers are read without dash and zeros; speech gets full language tags."""
    assert spoken_number("A-007") == "A 7" and spoken_number("B-120") == "B 120"
    assert speech_lang("ja") == "ja-JP" and speech_lang("zh_Hans") == "zh-CN"
    assert speech_lang("tl") == "fil-PH" and speech_lang("pt_BR") == "pt-BR"


# --- Crowding page -------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "lamp"), [(0, Lamp.GREEN), (19, Lamp.GREEN),
                                               (20, Lamp.YELLOW), (40, Lamp.YELLOW),
                                               (41, Lamp.RED)])
def test_lamp_thresholds(minutes, lamp):
    """Green under 20 minutes, yellow 20 to 40, red above."""
    assert lamp_for(timedelta(minutes=minutes)) == lamp


def test_crowding_page_is_public_with_counts_waits_and_lamps(app, client, staff_client,
                                                             office):
    """Per service: waiting count, estimated wait as a range, a lamp with words; a service
    with people waiting and no counter open says so instead of "not busy"."""
    for _ in range(5):
        issue(app, office, ["tax"])
    page = client.get("/crowding", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    tax = page.text.split("Taxation")[1].split("</li>")[0]
    assert "5 people" in tax
    assert 'data-lamp="closed"' in tax and "No counter is open" in tax
    assert "the wait cannot be estimated" in tax and "minutes" not in tax
    assert "Not crowded" not in tax
    open_counter(staff_client, office, "7", ["tax"])
    page = client.get("/crowding", headers={"Accept-Language": "en"})
    tax = page.text.split("Taxation")[1].split("</li>")[0]
    # One counter, 5 minutes each → the engine's 25 minutes, shown as 20–30.
    assert "about 20–30 minutes" in tax and 'data-lamp="yellow"' in tax
    assert "Somewhat crowded" in tax
    japanese = client.get("/crowding", headers={"Accept-Language": "ja"})
    assert "混雑" in japanese.text and "窓口が開いていません" in japanese.text


# --- Status page ---------------------------------------------------------------------------


def test_unknown_status_token_is_a_translated_404(client, office):
    """A wrong or malformed token gives the 404 page in the browser's language."""
    for token in ["x" * 43, "bad token", "a"]:
        response = client.get(f"/status/{token}", headers={"Accept-Language": "ja"})
        assert response.status_code == 404
        assert "ページが見つかりません" in response.text


def test_status_page_shows_the_visit_without_personal_data(app, client, office, users):
    """Number, step, people ahead, wait; never the resident's details or a staff name."""
    issue(app, office, ["residents"])
    ticket = issue(app, office, ["residents", "insurance"], locale="en", details=RESIDENT)
    response = client.get(f"/status/{ticket.token}", headers={"Accept-Language": "ja"})
    assert response.status_code == 200
    page = response.text
    assert '<html lang="en">' in page  # the visit's language beats the browser's
    assert ticket.number in page and "step 1 of 2" in page
    assert 'data-people-ahead="1"' in page
    assert "No counter is open for this now, so the wait cannot be estimated." in page
    after = page.split("After this")[1]
    assert "Health Insurance and Pension" in after  # what comes after
    for personal in [*RESIDENT.values(), "Test staff"]:
        assert personal not in page
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    switched = client.get(f"/status/{ticket.token}?lang=ja")
    assert '<html lang="ja">' in switched.text


def test_status_page_says_which_counter_to_go_to(app, client, staff_client, office):
    """Once called, the page says "please go to counter 4"."""
    ticket = issue(app, office, ["insurance"], locale="en")
    open_counter(staff_client, office, "4", ["insurance"])
    staff_client.post("/counter/call-next", headers=HTMX)
    page = client.get(f"/status/{ticket.token}").text
    assert "Please go to counter 4." in page and 'data-state="called"' in page


def test_easy_japanese_call_has_ruby_on_screen_and_plain_text_for_notifications(
        app, client, staff_client, office):  # type: ignore[no-untyped-def]
    """The page shows readings over 番; the title and notification take the attribute's text,
    which has none (textContent would read "4番(ばん)の…")."""
    ticket = issue(app, office, ["insurance"], locale="ja_easy")
    open_counter(staff_client, office, "4", ["insurance"])
    staff_client.post("/counter/call-next", headers=HTMX)
    page = client.get(f"/status/{ticket.token}").text
    assert 'data-call-message="4番の まどぐちへ いって ください。"' in page
    assert ">4<ruby>番<rp>(</rp><rt>ばん</rt><rp>)</rp></ruby>の まどぐちへ" in page


def test_status_page_names_services_in_the_residents_language(app, client, office):
    """Service names come from the seed catalog in every kiosk language: Vietnamese for a
    Vietnamese resident, with readings in easy Japanese (plain in the page title)."""
    vietnamese = issue(app, office, ["residents", "tax"], locale="vi")
    page = client.get(f"/status/{vietnamese.token}").text
    assert "Phòng Công dân" in page and "Phòng Thuế" in page
    assert "Resident Registration" not in page and "Taxation" not in page
    assert "(Tiếp nhận)" in page and "受付" not in page  # the step, translated too
    easy = issue(app, office, ["tax"], locale="ja_easy")
    page = client.get(f"/status/{easy.token}").text
    assert "<ruby>税務課<rp>(</rp><rt>ぜいむか</rt><rp>)</rp></ruby>" in page
    assert "《" not in page


def test_streamed_status_messages_equal_a_direct_rendering(app, staff_client, office):
    """The live status message made from one rendering per shape (stand-ins replaced per
    visit) is exactly the fragment rendered for that visit alone, in every state and in
    languages with and without readings; a deleted visit gets "gone"."""
    waiting = [issue(app, office, ["insurance"], locale=locale)
               for locale in ("en", "ja", "ja_easy", "vi", "en", "ja_easy")]
    two_steps = issue(app, office, ["residents", "insurance"], locale="pt_BR")
    open_counter(staff_client, office, "4", ["insurance"])
    staff_client.post("/counter/call-next", headers=HTMX)  # the first one is called
    tickets = [*waiting, two_steps]
    with database.read_session(app.state.engine) as session:
        reading = statuses.StatusReading(session, [t.visit_id for t in tickets] + [10**6],
                                      database.utcnow())
    messages = StatusMessages(app, reading)
    states = set()
    for ticket, locale in zip(tickets, ["en", "ja", "ja_easy", "vi", "ko", "ja_easy", "pt_BR"],
                              strict=True):
        status = reading.status(ticket.visit_id)
        assert status is not None
        states.add(status.state)
        with i18n.use_locale(locale):
            context = status_context(status)  # the wait's words are in the page's language
        direct = state_message({"status-live": render_fragment(
            app, "counter/_status_live.html", locale, context)})
        assert messages.message(ticket.visit_id, locale) == direct, (ticket.number, locale)
    assert states == {TaskState.CALLED, TaskState.WAITING}
    assert messages.message(10**6, "en") == GONE
