"""The kiosk over HTTP: each step, refusals in place, privacy of the details, the ticket."""

from __future__ import annotations

import base64
import json
import re
from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from composition.demo import seed_structure
from counter.models import Task, Visit, VisitDetails
from frontyard import database, i18n
from frontyard.auth import DeviceKind, create_device
from frontyard.templating import static_url
from kiosk import flow
from kiosk.catalog import catalog_path, load_catalog
from kiosk.guide import build_guide
from kiosk.models import KioskSession
from tests.conftest import make_client

TODAY = date.today()
PERSON = {
    "name": "山田 太郎",
    "furigana": "やまだ たろう",  # hiragana: stored in katakana
    "date_of_birth": "平成2年4月1日",
    "sex": "male",
    "address": "本町1-2-3",
    "building": "グリーンハイツ101",
    "phone": "090-1234-5678",
    "household_head": "山田 太郎",
    "relationship": "head",
    "moving_date": (TODAY - timedelta(days=3)).isoformat(),
    "previous_address": "東京都千代田区1-1",
    "household_members.0.name": "山田 花子",
    "household_members.0.furigana": "ヤマダ ハナコ",
    "household_members.0.date_of_birth": "R5.6.1",
    "household_members.0.sex": "female",
    "household_members.0.relationship": "child",
}
SECRETS = ["山田", "ヤマダ", "やまだ", "090-1234-5678", "本町", "グリーンハイツ"]


@pytest.fixture
def office_id(engine) -> int:  # type: ignore[no-untyped-def]
    """The demo office with every service the seed catalog names."""
    with database.session_scope(engine) as session:
        return seed_structure(session).id  # type: ignore[return-value]


@pytest.fixture
def kiosk(app, engine, office_id):  # type: ignore[no-untyped-def]
    """A client that is a paired kiosk of the office."""
    with database.session_scope(engine) as session:
        device, token, _ = create_device(session, "lobby-1", DeviceKind.KIOSK,
                                         office_id=office_id)
        device_id = device.id
    with make_client(app) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        client.device_id = device_id  # type: ignore[attr-defined]
        yield client


def catalog(engine):  # type: ignore[no-untyped-def]
    """The seed catalog checked against the seeded services."""
    from kiosk.catalog import service_codes_in_database

    with Session(engine) as session:
        codes = service_codes_in_database(session, "main")
    return load_catalog(catalog_path("main"), service_codes=codes)


def begin(client, locale: str = "en") -> None:  # type: ignore[no-untyped-def]
    """Choose a language on the start screen."""
    response = client.post("/kiosk/start", data={"locale": locale}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/events"


def choose(client, *events: str) -> None:  # type: ignore[no-untyped-def]
    """Choose life events."""
    response = client.post("/kiosk/events", data={"event": list(events)}, follow_redirects=False)
    assert response.status_code == 303, response.text


def answer(client, answers: dict[str, str | list[str]]):  # type: ignore[no-untyped-def]
    """Answer the questions on the screen."""
    return client.post("/kiosk/questions", data={**answers, "asked": list(answers)},
                       follow_redirects=False)


def answer_all(client, answers: dict[str, str | list[str]]) -> None:  # type: ignore[no-untyped-def]
    """Answer every question shown until the guide is reached."""
    for _ in range(5):
        page = client.get("/kiosk/questions", follow_redirects=False)
        if page.status_code == 303:
            assert page.headers["location"] == "/kiosk/guide"
            return
        asked = re.findall(r'name="asked" value="([a-z_]+)"', page.text)
        response = answer(client, {qid: answers[qid] for qid in asked})
        assert response.status_code == 303, response.text
    raise AssertionError("the questions never ended")


MOVING_IN_ANSWERS = {"household_ages": "34, 1", "mynumber_card": "yes", "register_seal": "no",
                     "national_health_insurance": "yes", "longterm_care_certified": "no",
                     "daycare": "no", "pregnant": "no", "dog": "no"}


def kiosk_row(engine) -> KioskSession:  # type: ignore[no-untyped-def]
    """The one kiosk session in the database."""
    with Session(engine) as session:
        return session.exec(select(KioskSession)).one()


def test_start_screen_offers_the_eleven_kiosk_languages(kiosk):
    """All kiosk languages, each labelled in its own language; Traditional Chinese is not one."""
    page = kiosk.get("/kiosk")
    assert page.status_code == 200
    codes = re.findall(r'name="locale" value="([A-Za-z_]+)"', page.text)
    assert codes == ["ja", "ja_easy", "en", "zh_Hans", "ko", "vi", "pt_BR", "es", "tl", "ne", "id"]
    assert 'lang="vi"' in page.text and "Tiếng Việt" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_unknown_language_is_refused_and_nothing_is_stored(kiosk, engine):
    """A language the kiosk does not offer is a 422; no session row appears."""
    response = kiosk.post("/kiosk/start", data={"locale": "zh_Hant"}, follow_redirects=False)
    assert response.status_code == 422
    with Session(engine) as session:
        assert session.exec(select(KioskSession)).first() is None


def test_kiosk_pages_need_a_kiosk_or_staff(client, office_id):
    """Anonymous visitors are sent to sign in; nothing is started."""
    for method, path in [("get", "/kiosk"), ("get", "/kiosk/events"), ("post", "/kiosk/start")]:
        response = getattr(client, method)(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_each_step_redirects_to_where_the_resident_is(kiosk):
    """Without a session every step leads back to the start; with events, to the questions."""
    for path in ["/kiosk/events", "/kiosk/questions", "/kiosk/guide", "/kiosk/details",
                 "/kiosk/confirm", "/kiosk/ticket"]:
        response = kiosk.get(path, follow_redirects=False)
        assert response.headers["location"] == "/kiosk", path
    begin(kiosk)
    assert kiosk.get("/kiosk/guide", follow_redirects=False).headers["location"] == "/kiosk/events"
    choose(kiosk, "moving_in")
    assert kiosk.get("/kiosk/guide",
                     follow_redirects=False).headers["location"] == "/kiosk/questions"
    assert kiosk.get("/kiosk/ticket",
                     follow_redirects=False).headers["location"] == "/kiosk/guide"


def test_choosing_no_life_event_is_refused_in_place(kiosk, engine):
    """No event chosen: the same screen again, with the message and aria-invalid; nothing saved."""
    begin(kiosk)
    response = kiosk.post("/kiosk/events", data={}, follow_redirects=False)
    assert response.status_code == 422
    assert "Choose at least one life event." in response.text
    assert 'aria-invalid="true"' in response.text
    response = kiosk.post("/kiosk/events", data={"event": ["not_an_event"]},
                          follow_redirects=False)
    assert response.status_code == 422
    assert kiosk_row(engine).state == {}


def test_questions_are_only_those_the_rules_need(kiosk, engine):
    """Moving in asks about ages and the yes/no questions; a certificate visit asks only which."""
    begin(kiosk)
    choose(kiosk, "certificates")
    page = kiosk.get("/kiosk/questions")
    assert re.findall(r'name="asked" value="([a-z_]+)"', page.text) == ["certificates"]
    assert "Which certificates do you need?" in page.text


def test_unanswered_and_invalid_answers_are_shown_next_to_the_question(kiosk, engine):
    """A blank yes/no and a non-number are refused with their messages; no answer is stored."""
    begin(kiosk)
    choose(kiosk, "death")
    response = answer(kiosk, {"deceased_age": "eighty", "deceased_head": ""})
    assert response.status_code == 422
    assert 'id="err-deceased_age"' in response.text and "Enter a whole number." in response.text
    assert 'aria-invalid="true"' in response.text
    assert kiosk_row(engine).state.get("answers") is None
    response = answer(kiosk, {"deceased_age": "80", "deceased_head": ""})
    assert response.status_code == 422
    assert 'id="err-deceased_head"' in response.text
    assert "Please answer this question." in response.text


def test_guide_lists_procedures_in_visiting_order_with_counters_and_documents(kiosk, engine):
    """The guide shows the engine's steps in order, with section, counter, documents, time."""
    begin(kiosk)
    choose(kiosk, "moving_in", "birth")
    answer_all(kiosk, MOVING_IN_ANSWERS)
    page = kiosk.get("/kiosk/guide")
    assert page.status_code == 200
    expected = build_guide(catalog(engine), ["moving_in", "birth"],
                           {"household_ages": [34, 1], "mynumber_card": True,
                            "register_seal": False, "national_health_insurance": True,
                            "longterm_care_certified": False, "daycare": False,
                            "pregnant": False, "dog": False})
    with i18n.use_locale("en"):
        names = [step.procedure.name["en"] for step in expected.steps]
    positions = [page.text.index(f"<h3>{name}</h3>") for name in names]
    assert positions == sorted(positions) and len(names) >= 6
    assert "Counters 1–3 (1st floor)" in page.text
    assert "Moving-out certificate" in page.text
    assert f"About {expected.total_minutes} minutes" in page.text
    assert "Within 14 days of the birth" in page.text
    assert f'href="{static_url("css/print-a4.css")}" media="print"' in page.text


def test_easy_japanese_puts_ruby_over_kanji(kiosk):
    """In やさしい日本語 catalog texts carry <ruby> readings, and the page is lang=ja."""
    begin(kiosk, "ja_easy")
    page = kiosk.get("/kiosk/events")
    assert '<html lang="ja"' in page.text
    assert "<ruby>引<rp>(</rp><rt>ひ</rt><rp>)</rp></ruby>" in page.text


RUBY_IN_ATTRIBUTE = re.compile(r'=\s*"[^"]*(?:<ruby|<rt>|《|》)[^"]*"')


def test_easy_japanese_screens_put_ruby_only_where_html_can_show_it(kiosk):
    """Every kiosk screen in やさしい日本語: UI texts and catalog texts carry <ruby>, while
    attribute values, the <title> and <option>s get plain text, and no raw 《》 markup leaks
    (a page whose UI strings lost their readings, or an aria-label full of tags, fails)."""
    begin(kiosk, "ja_easy")
    screens = [kiosk.get("/kiosk/events")]
    choose(kiosk, "moving_in")
    screens.append(kiosk.get("/kiosk/questions"))
    answer_all(kiosk, MOVING_IN_ANSWERS)
    screens += [kiosk.get("/kiosk/guide"), kiosk.get("/kiosk/details")]
    kiosk.post("/kiosk/details", data=PERSON)
    screens.append(kiosk.get("/kiosk/confirm"))
    kiosk.post("/kiosk/ticket", data={"consent": "yes"})
    screens.append(kiosk.get("/kiosk/ticket"))
    for screen in screens:
        assert screen.status_code == 200, screen.url
        html = screen.text
        assert "<ruby>" in html, screen.url
        assert not RUBY_IN_ATTRIBUTE.search(html), (screen.url, RUBY_IN_ATTRIBUTE.search(html))
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)  # type: ignore[union-attr]
        assert "<" not in title and "&lt;" not in title, title
        for option in re.findall(r"<option[^>]*>(.*?)</option>", html, re.S):
            assert "<" not in option, option
        visible = re.sub(r"<[^>]+>", "", html)
        assert "《" not in visible and "｜" not in visible, screen.url


def test_display_toggles_are_remembered_for_the_session_only(kiosk):
    """Larger text and high contrast become classes on <html> until the kiosk is reset."""
    begin(kiosk)
    kiosk.post("/kiosk/display", data={"toggle": "large_text", "next": "/kiosk/events"})
    kiosk.post("/kiosk/display", data={"toggle": "high_contrast"},
               headers={"Accept": "application/json"})
    page = kiosk.get("/kiosk/events")
    assert 'class="large-text high-contrast"' in page.text
    assert kiosk.post("/kiosk/display", data={"toggle": "x"}).status_code == 422
    kiosk.post("/kiosk/reset")
    assert '<html lang="ja">' in kiosk.get("/kiosk").text  # no class, default language


def _reach_details(kiosk, events=("moving_in",)) -> None:  # type: ignore[no-untyped-def]
    begin(kiosk)
    choose(kiosk, *events)
    answer_all(kiosk, MOVING_IN_ANSWERS)


def test_bad_details_are_shown_next_to_each_field_and_nothing_is_stored(kiosk, engine):
    """Each error sits by its field (aria-invalid, aria-describedby); the row keeps no details."""
    _reach_details(kiosk)
    form = kiosk.get("/kiosk/details")
    assert form.status_code == 200 and 'id="f-furigana"' in form.text
    bad = {**PERSON, "phone": "12345", "date_of_birth": "平成31年5月1日", "furigana": "Yamada",
           "household_members.0.date_of_birth": "2099-01-01"}
    response = kiosk.post("/kiosk/details", data=bad, follow_redirects=False)
    assert response.status_code == 422
    text = response.text
    assert re.search(r'id="f-phone"[^>]*aria-describedby="f-phone-hint f-phone-error"', text)
    assert re.search(r'id="f-phone"[^>]*aria-invalid="true"', text)
    assert 'id="f-phone-error">Enter a phone number such as 090-1234-5678.' in text
    assert "did you mean 令和元年5月1日" in text
    assert 'id="m-0-date_of_birth-error">The date of birth cannot be in the future.' in text
    assert 'value="12345"' in text  # what was typed comes back into the form
    assert kiosk_row(engine).details is None


def test_details_errors_come_in_the_chosen_language(kiosk):
    """A Japanese resident reads the messages in Japanese."""
    _reach_details(kiosk)
    kiosk.post("/kiosk/start", data={"locale": "ja", "keep": "1", "next": "/kiosk/details"})
    response = kiosk.post("/kiosk/details", data={**PERSON, "name": ""})
    assert response.status_code == 422
    with i18n.use_locale("ja"):
        assert i18n.gettext("Please fill in this field.") in response.text
    assert '<html lang="ja"' in response.text


def test_easy_japanese_refusals_keep_their_readings(kiosk):
    """Messages that pass through exceptions and labels from the code still carry <ruby> (str()
    would drop the readings); the <option>s of the same labels stay plain."""
    _reach_details(kiosk)
    kiosk.post("/kiosk/start", data={"locale": "ja_easy", "keep": "1", "next": "/kiosk/details"})
    response = kiosk.post("/kiosk/details", data={**PERSON, "phone": "12345", "name": "Taro1"})
    assert response.status_code == 422
    text = response.text
    assert 'id="f-phone-error"><ruby>電話<rp>(</rp><rt>でんわ</rt>' in text
    assert 'id="f-name-error"><ruby>名前<rp>' in text
    assert '<label for="f-sex-male"><ruby>男<rp>(</rp><rt>おとこ</rt>' in text  # radio label
    assert re.search(r'<option value="child"[^>]*>子ども</option>', text)
    kiosk.post("/kiosk/details", data=PERSON)
    assert "<ruby>子<rp>(</rp><rt>こ</rt><rp>)</rp></ruby>ども" in kiosk.get("/kiosk/confirm").text


def test_whole_flow_issues_ticket_with_tasks_in_guide_order_and_details(kiosk, engine):
    """Consent given: one visit, tasks in the guide's order, normalised details stored."""
    _reach_details(kiosk)
    response = kiosk.post("/kiosk/details", data=PERSON, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/confirm"
    confirm = kiosk.get("/kiosk/confirm")
    assert "ヤマダ\u3000タロウ" in confirm.text and "平成2年4月1日" in confirm.text
    response = kiosk.post("/kiosk/ticket", data={"consent": "yes"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/ticket"
    with Session(engine) as session:
        visit = session.exec(select(Visit)).one()
        tasks = session.exec(select(Task).where(Task.visit_id == visit.id)
                             .order_by(col(Task.position))).all()
        stored = session.get(VisitDetails, visit.id)
    guide = build_guide(catalog(engine), ["moving_in"],
                        {"household_ages": [34, 1], "mynumber_card": True, "register_seal": False,
                         "national_health_insurance": True, "longterm_care_certified": False,
                         "daycare": False, "pregnant": False, "dog": False})
    assert [task.procedure_code for task in tasks] == [step.procedure.id for step in guide.steps]
    assert visit.locale == "en" and visit.issued_by_device_id == kiosk.device_id
    assert stored is not None and stored.source == "kiosk"
    assert stored.data["furigana"] == "ヤマダ\u3000タロウ"
    assert stored.data["date_of_birth"] == "1990-04-01"
    assert stored.data["household_members"][0]["date_of_birth"] == "2023-06-01"
    assert kiosk_row(engine).details is None  # the details now live only with the visit


def test_ticket_screen_shows_number_procedures_and_qr_to_status_page(kiosk, engine, settings):
    """The QR code holds the absolute status URL; 80 mm print stylesheet; no personal data."""
    _reach_details(kiosk)
    kiosk.post("/kiosk/details", data=PERSON)
    kiosk.post("/kiosk/ticket", data={"consent": "yes"})
    page = kiosk.get("/kiosk/ticket")
    with Session(engine) as session:
        visit = session.exec(select(Visit)).one()
    url = f"{settings.base_url}/status/{visit.status_token}"
    assert f'data-ticket-number>{visit.ticket_number}<' in page.text
    assert f'href="{url}"' in page.text and f'data-status-url="{url}"' in page.text
    qr = re.search(r'<img src="(data:image/svg\+xml;base64,[^"]+)"', page.text)
    assert qr is not None and qr[1] == flow.qr_data_url(url)
    assert b"<svg" in base64.b64decode(qr[1].split(",", 1)[1])
    assert f'href="{static_url("css/print-receipt.css")}" media="print"' in page.text
    assert "Moving-in notification" in page.text
    assert not any(secret in page.text for secret in SECRETS)


def test_details_never_reach_urls_or_cookies(kiosk):
    """Every redirect and cookie on the way is free of the resident's details."""
    _reach_details(kiosk)
    responses = [kiosk.post("/kiosk/details", data=PERSON, follow_redirects=False),
                 kiosk.get("/kiosk/confirm"),
                 kiosk.post("/kiosk/ticket", data={"consent": "yes"}, follow_redirects=False),
                 kiosk.get("/kiosk/ticket")]
    for response in responses:
        exposed = response.headers.get("location", "") + " ".join(
            response.headers.get_list("set-cookie"))
        assert not any(secret in exposed for secret in SECRETS)
        assert response.headers["cache-control"] == "no-store"
    session_cookie = kiosk.cookies["fy_session"]
    payload = json.loads(base64.b64decode(session_cookie.split(".")[0] + "=="))
    assert set(payload) <= {"kiosk_id", "kiosk_display"}
    assert not any(secret in json.dumps(payload, ensure_ascii=False) for secret in SECRETS)


def test_ticket_needs_consent_when_details_were_given(kiosk, engine):
    """Details without the consent box ticked: refused in place, no ticket, details kept."""
    _reach_details(kiosk)
    kiosk.post("/kiosk/details", data=PERSON)
    response = kiosk.post("/kiosk/ticket", data={}, follow_redirects=False)
    assert response.status_code == 422
    assert 'id="consent"' in response.text and 'aria-invalid="true"' in response.text
    with Session(engine) as session:
        assert session.exec(select(Visit)).first() is None
    assert kiosk_row(engine).details is not None


def test_ticket_without_details_stores_none_and_drops_what_was_typed(kiosk, engine):
    """"Without my details": the ticket is issued and the typed details are discarded."""
    _reach_details(kiosk)
    kiosk.post("/kiosk/details", data=PERSON)
    kiosk.post("/kiosk/ticket", data={"without_details": "1"})
    with Session(engine) as session:
        visit = session.exec(select(Visit)).one()
        assert session.get(VisitDetails, visit.id) is None
    assert kiosk_row(engine).details is None


def test_a_double_tap_issues_one_ticket(kiosk, engine):
    """Submitting twice gives the same ticket, and the announcement goes to the office topic."""
    begin(kiosk)
    choose(kiosk, "certificates")
    answer(kiosk, {"certificates": ["resident_record", "tax"]})
    kiosk.post("/kiosk/ticket", data={"without_details": "1"})
    kiosk.post("/kiosk/ticket", data={"without_details": "1"})
    with Session(engine) as session:
        visits = session.exec(select(Visit)).all()
        assert len(visits) == 1
        codes = session.exec(select(Task.procedure_code).where(Task.visit_id == visits[0].id)
                             .order_by(col(Task.position))).all()
    assert codes == ["resident_record_copy", "income_certificate"]


def test_issuing_announces_the_queue_change(kiosk, monkeypatch):
    """The office's queue topic is announced in the issuing transaction (boards update)."""
    import kiosk.routes.journey as routes

    heard = []
    original = routes.realtime.announce
    monkeypatch.setattr(routes.realtime, "announce", lambda session, hub, topic, message: (
        heard.append((topic, message)), original(session, hub, topic, message)))
    begin(kiosk)
    choose(kiosk, "certificates")
    answer(kiosk, {"certificates": ["seal"]})
    kiosk.post("/kiosk/ticket", data={"without_details": "1"})
    assert len(heard) == 1 and heard[0][0].startswith("office:")
    assert heard[0][1] == {"office_id": int(heard[0][0].split(":")[1])}


def test_reset_deletes_the_session_and_everything_in_it(kiosk, engine):
    """Start over: the row with the typed details is gone and every screen leads to start."""
    _reach_details(kiosk)
    kiosk.post("/kiosk/details", data=PERSON)
    response = kiosk.post("/kiosk/reset", follow_redirects=False)
    assert response.headers["location"] == "/kiosk"
    assert 'fy_locale=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers[
        "set-cookie"]
    with Session(engine) as session:
        assert session.exec(select(KioskSession)).first() is None
    assert kiosk.get("/kiosk/confirm", follow_redirects=False).headers["location"] == "/kiosk"


def test_language_can_change_mid_way_without_losing_progress(kiosk, engine):
    """The language button keeps the chosen events; the session's language changes."""
    begin(kiosk)
    choose(kiosk, "birth")
    response = kiosk.post("/kiosk/start", data={"locale": "ja", "keep": "1",
                                                "next": "/kiosk/questions"},
                          follow_redirects=False)
    assert response.headers["location"] == "/kiosk/questions"
    row = kiosk_row(engine)
    assert row.locale == "ja" and row.state["events"] == ["birth"]


def test_stale_sessions_are_purged(engine, office_id):
    """A session untouched for longer than the TTL is deleted on the next start."""
    with database.session_scope(engine) as session:
        old = flow.start_session(session, office_id=office_id, device_id=None, locale="en")
        old.updated_at = database.utcnow() - flow.SESSION_TTL - timedelta(minutes=1)
        old.details = {"name": "x"}
        session.add(old)
    with database.session_scope(engine) as session:
        flow.start_session(session, office_id=office_id, device_id=None, locale="ja")
    with Session(engine) as session:
        assert [row.locale for row in session.exec(select(KioskSession))] == ["ja"]


def test_signed_in_staff_can_use_the_kiosk(staff_client, office_id):
    """Staff (e.g. helping at reception) go through the kiosk without a device."""
    begin(staff_client)
    assert staff_client.get("/kiosk/events").status_code == 200


def test_adding_a_person_keeps_what_was_typed_and_stores_nothing(kiosk, engine):
    """"Add a person" shows one more row with the typed values back; no validation, no storage."""
    _reach_details(kiosk)
    response = kiosk.post("/kiosk/details", data={**PERSON, "action": "add_row"})
    assert response.status_code == 200
    assert 'id="m-2-name"' in response.text and 'value="山田 花子"' in response.text
    assert "field-error" not in response.text
    assert kiosk_row(engine).details is None
