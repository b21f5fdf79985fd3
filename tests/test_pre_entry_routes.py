"""Details entered at home over HTTP: the phone pages, the code, the kiosk's redeeming, staff
lookups (audited), refusals in place and no personal data on any public page or address."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from counter.models import Task, Visit, VisitDetails
from frontyard import i18n
from frontyard.audit import AuditEntry
from kiosk import pre_entry
from kiosk.pre_entry import PreEntry
from tests.conftest import make_client
from tests.test_kiosk_routes import MOVING_IN_ANSWERS, PERSON, SECRETS, kiosk, office_id

__all__ = ["kiosk", "office_id"]  # fixtures

HOME = "/navigator/main/details"
READY = HOME + "?" + urlencode([("event", "moving_in"), *MOVING_IN_ANSWERS.items()])


@pytest.fixture
def phone(app, office_id):  # type: ignore[no-untyped-def]
    """A resident's phone: no sign-in, English."""
    with make_client(app) as client:
        client.headers["Accept-Language"] = "en"
        yield client


def send_details(phone, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Post the details form reached with the moving-in answers."""
    form = [("event", "moving_in"), *MOVING_IN_ANSWERS.items(),
            *(data if data is not None else {**PERSON, "consent": "yes"}).items()]
    return phone.post(HOME, content=urlencode(form), follow_redirects=False,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})


def get_code(phone) -> str:  # type: ignore[no-untyped-def]
    """Enter the details and read the code off the code page."""
    response = send_details(phone)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == HOME + "/code"
    page = phone.get(HOME + "/code")
    assert page.status_code == 200
    found = re.search(r"data-code>([A-Z0-9]{4}-[A-Z0-9]{4})<", page.text)
    assert found, page.text
    return found[1]


def test_steps_at_home_are_the_kiosks_events_questions_and_details(phone):
    """Life events, then the questions the rules need, then the kiosk's own details form."""
    page = phone.get(HOME)
    assert page.status_code == 200 and 'name="event" value="moving_in"' in page.text
    questions = phone.get(HOME + "?event=moving_in")
    assert questions.status_code == 200 and 'name="asked" value="household_ages"' in questions.text
    details = phone.get(READY)
    assert details.status_code == 200
    assert 'id="f-name"' in details.text and 'name="consent"' in details.text
    assert details.headers["cache-control"] == "no-store"
    assert 'lang="ne"' in details.text  # every kiosk language is offered


def test_bad_choices_and_answers_are_refused_in_place(phone):
    """Unknown life events and unanswered or invalid answers: messages in the page."""
    with i18n.use_locale("en"):
        choose = i18n.gettext("Choose at least one life event.")
        answer = i18n.gettext("Please answer this question.")
    response = phone.get(HOME + "?event=not_an_event")
    assert response.status_code == 422 and choose in response.text
    response = phone.get(HOME + "?event=moving_in&asked=household_ages")
    assert response.status_code == 422 and answer in response.text
    response = phone.get(HOME + "?event=moving_in&household_ages=abc&asked=household_ages")
    assert response.status_code == 422 and 'id="err-household_ages"' in response.text


def test_bad_details_get_the_kiosks_messages_and_nothing_is_kept(phone, engine):
    """The kiosk's validation and messages; no entry until everything is valid and agreed."""
    with i18n.use_locale("en"):
        phone_message = i18n.gettext("Enter a phone number such as 090-1234-5678.")
        consent = i18n.gettext("Tick the box to agree to the use of your details.")
    response = send_details(phone, {**PERSON, "phone": "12345", "consent": "yes"})
    assert response.status_code == 422 and phone_message in response.text
    assert 'id="f-phone-error"' in response.text
    response = send_details(phone, dict(PERSON))
    assert response.status_code == 422 and consent in response.text
    response = send_details(phone, {**PERSON, "name": "x" * 5000, "consent": "yes"})
    assert response.status_code == 422
    with Session(engine) as session:
        assert session.exec(select(PreEntry)).all() == []


def test_code_page_shows_code_and_qr_but_no_personal_data(phone, engine):
    """The code page and every address of the way hold no detail; the entry keeps them."""
    code = get_code(phone)
    page = phone.get(HOME + "/code")
    assert "data:image/svg+xml;base64," in page.text
    for secret in SECRETS:
        assert secret not in page.text
        assert secret not in READY
    with Session(engine) as session:
        stored = session.exec(select(PreEntry)).one()
    assert stored.code == code.replace("-", "") and stored.details["name"] == "山田\u3000太郎"
    assert stored.locale == "en" and stored.redeemed_at is None
    assert code.replace("-", "") not in str(phone.cookies)  # the cookie holds the id only


def test_typed_code_issues_the_ticket_with_the_details(phone, kiosk, engine):
    """Lower case, spaces: the same code; one ticket, the procedures and details attached."""
    code = get_code(phone)
    typed = " " + code.lower().replace("-", " ") + " "
    response = kiosk.post("/kiosk/code", data={"code": typed}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/ticket"
    assert kiosk.get("/kiosk/ticket").status_code == 200
    with Session(engine) as session:
        visit = session.exec(select(Visit)).one()
        stored = session.get(VisitDetails, visit.id)
        entry = session.exec(select(PreEntry)).one()
        tasks = session.exec(select(Task).where(Task.visit_id == visit.id)).all()
    assert stored is not None and stored.source == "pre_entry"
    assert stored.data["furigana"] == "ヤマダ\u3000タロウ"
    assert entry.visit_id == visit.id and entry.redeemed_at is not None
    assert entry.details is None  # now only with the visit
    assert sorted(task.procedure_code for task in tasks) == sorted(entry.procedures)
    assert visit.locale == "en" and visit.issued_by_device_id == kiosk.device_id
    # Used once: the second time is refused with a message.
    with i18n.use_locale("en"):
        used = i18n.gettext("This code has already been used for a ticket. Each code works once.")
    again = kiosk.post("/kiosk/code", data={"code": code})
    assert again.status_code == 422 and used in again.text


def test_bad_codes_are_refused_in_place_in_the_residents_language(phone, kiosk, engine):
    """Malformed, unknown and expired codes: a message on the code screen, no ticket."""
    with i18n.use_locale("en"):
        malformed = i18n.gettext("A code has 8 letters and digits, such as ABCD-EFGH (there is "
                                 "no 0, 1, I, L or O).")
        expired = i18n.gettext("This code has expired. Please enter your details again.")
    kiosk.cookies.set(i18n.LOCALE_COOKIE, "en")
    for typed in ["", "ABC", "ABCD-EFG0", "x" * 100]:
        response = kiosk.post("/kiosk/code", data={"code": typed})
        assert response.status_code == 422 and malformed in response.text
    response = kiosk.post("/kiosk/code", data={"code": "2345-6789"})
    assert response.status_code == 422 and 'id="code-error"' in response.text
    code = get_code(phone)
    with Session(engine) as session:
        entry = session.exec(select(PreEntry)).one()
        entry.created_at = entry.created_at.replace(year=entry.created_at.year - 1)
        session.add(entry)
        session.commit()
    kiosk.cookies.set(i18n.LOCALE_COOKIE, "ja")  # the kiosk in Japanese, the resident in English
    response = kiosk.post("/kiosk/code", data={"code": code})
    assert response.status_code == 422 and expired in response.text
    with Session(engine) as session:
        assert session.exec(select(Visit)).all() == []


def test_code_screen_allows_the_camera_and_offers_the_keys(kiosk):
    """Only the code screen may use the camera; it vendors its decoder (no CDN)."""
    page = kiosk.get("/kiosk/code")
    assert page.status_code == 200
    assert "camera=(self)" in page.headers["permissions-policy"]
    assert "/static/vendor/jsqr/jsQR.js" in page.text and 'data-key="A"' in page.text
    assert "camera=()" in kiosk.get("/kiosk").headers["permissions-policy"]
    assert 'href="/kiosk/code"' in kiosk.get("/kiosk").text


def test_wrong_codes_are_rate_limited_per_kiosk(app, kiosk):
    """Past the limit every code of that kiosk is refused for a while (429 + Retry-After)."""
    app.state.settings.pre_entry_code_limit = 3
    app.state.pre_entry_limits = None
    for _ in range(3):
        assert kiosk.post("/kiosk/code", data={"code": "2345-6789"}).status_code == 422
    response = kiosk.post("/kiosk/code", data={"code": "2345-6789"})
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0


def test_sending_is_rate_limited_and_open_entries_are_capped(app, phone, engine):
    """A client may hold few unused entries, and send few in a window."""
    app.state.settings.pre_entry_open_limit = 2
    get_code(phone)
    get_code(phone)
    response = send_details(phone)
    assert response.status_code == 429
    app.state.settings.pre_entry_open_limit = 100
    app.state.settings.pre_entry_rate_limit = 1
    app.state.pre_entry_limits = None
    get_code(phone)
    response = send_details(phone)
    assert response.status_code == 429 and "retry-after" in response.headers
    with Session(engine) as session:
        assert len(session.exec(select(PreEntry)).all()) == 3


def test_resident_can_delete_the_entry(phone, engine):
    """"Delete my details now" removes the unused entry and its details."""
    get_code(phone)
    response = phone.post(HOME + "/code/delete", follow_redirects=False)
    assert response.status_code == 303
    with Session(engine) as session:
        assert session.exec(select(PreEntry)).all() == []
    assert "data-code>" not in phone.get(HOME + "/code").text


def test_staff_look_a_code_up_and_every_view_is_audited(phone, staff_client, kiosk, engine):
    """Unused: the details on the lookup page (audited); redeemed: the visit's page (audited)."""
    code = get_code(phone)
    page = staff_client.get("/forms/code")
    assert page.status_code == 200 and 'name="code"' in page.text
    response = staff_client.post("/forms/code", data={"code": code.lower()})
    assert response.status_code == 200 and "山田" in response.text
    with Session(engine) as session:
        actions = [row.action for row in session.exec(select(AuditEntry)).all()]
    assert actions == ["pre_entry_viewed"]
    kiosk.post("/kiosk/code", data={"code": code})
    response = staff_client.post("/forms/code", data={"code": code}, follow_redirects=False)
    with Session(engine) as session:
        visit = session.exec(select(Visit)).one()
    assert response.status_code == 303
    assert response.headers["location"] == f"/forms/visit/{visit.public_id}"
    staff_client.get(response.headers["location"])
    with Session(engine) as session:
        actions = [row.action for row in session.exec(select(AuditEntry)).all()]
    assert actions == ["pre_entry_viewed", "details_viewed"]


def test_staff_lookup_refuses_bad_codes_in_place(staff_client, client, office_id):
    """Malformed or unknown: a message in the page; the public cannot look codes up."""
    for typed in ["", "12", "2345-6789"]:
        response = staff_client.post("/forms/code", data={"code": typed})
        assert response.status_code == 422 and 'id="code-error"' in response.text
    assert client.get("/forms/code", follow_redirects=False).status_code in (302, 303, 401)


def test_domain_purge_keeps_recent_entries(engine, office_id):
    """`pre_entry.purge` only drops entries past the retention (see test_pre_entry.py too)."""
    from datetime import timedelta

    from frontyard.database import utcnow

    with Session(engine) as session:
        now = utcnow()
        for days, code in [(1, "AAAAAAAA"), (20, "BBBBBBBB")]:
            session.add(PreEntry(code=code, office_id=office_id, details={"name": "x"},
                                 created_at=now - timedelta(days=days)))
        session.commit()
        assert pre_entry.purge(session, now, 14) == 1
        session.commit()
        assert [row.code for row in session.exec(select(PreEntry)).all()] == ["AAAAAAAA"]


def test_fuzzed_choices_details_and_codes_never_fail(app, phone, kiosk, staff_client, engine):
    """Whatever is sent to the phone pages, the kiosk's code entry or the staff lookup: a page
    or a redirect below 500, and any entry kept is a whole one."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_fuzz_forms import assert_stays_here, value

    app.state.settings.pre_entry_rate_limit = 100_000
    app.state.settings.pre_entry_code_limit = 100_000
    app.state.settings.pre_entry_open_limit = 100_000
    app.state.pre_entry_limits = None
    names = st.sampled_from(["event", "asked", "household_ages", "mynumber_card", "name",
                             "furigana", "date_of_birth", "address", "consent", "action",
                             "household_members.0.name", "household_members.99.sex", "x"])

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(fields=st.lists(st.tuples(names, value), max_size=8), code=value)
    def send(fields: list[tuple[str, str]], code: str) -> None:
        query = urlencode([("event", "moving_in"), *fields])
        for response in (
                phone.get(HOME + "?" + query, follow_redirects=False),
                phone.post(HOME, content=urlencode(
                    [("event", "moving_in"), *MOVING_IN_ANSWERS.items(), *fields]),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    follow_redirects=False),
                kiosk.post("/kiosk/code", data={"code": code}, follow_redirects=False),
                staff_client.post("/forms/code", data={"code": code}, follow_redirects=False)):
            assert response.status_code < 500, response.text[:500]
            assert_stays_here(response)

    send()
    with Session(engine) as session:
        for row in session.exec(select(PreEntry)).all():
            assert row.procedures and row.details and row.details.get("name")


@pytest.mark.parametrize("locale", ["ja", "ja_easy", "zh_Hant", "ne", "pt_BR"])
def test_phone_pages_speak_every_kiosk_language(app, office_id, locale):
    """Chosen with the language switch (easy Japanese too, with its readings)."""
    with make_client(app) as client:
        client.cookies.set(i18n.LOCALE_COOKIE, locale)
        for address in (HOME, HOME + "?event=moving_in", READY, HOME + "/code"):
            page = client.get(address)
            assert page.status_code == 200, address
            assert f'<html lang="{i18n.BY_CODE[locale].html_lang}"' in page.text
        if locale == "ja_easy":
            assert "<ruby>" in client.get(READY).text
