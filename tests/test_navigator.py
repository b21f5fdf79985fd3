"""The public procedure navigator over HTTP: every language, the shareable address, refusals
of bad addresses in the resident's language, and no session, cookie or database write."""

from __future__ import annotations

import re
import sys
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import event

from composition.demo import seed_structure
from counter import queue
from frontyard import database, i18n
from kiosk import flow
from kiosk.catalog import KIOSK_LOCALES
from tests.conftest import make_client

MOVING_IN = {"household_ages": "34, 1", "mynumber_card": "yes", "register_seal": "no",
             "national_health_insurance": "yes", "longterm_care_certified": "no",
             "daycare": "no", "pregnant": "no", "dog": "no"}
#: The canonical address: life events, then the answers in the catalog's question order.
RESULT = ("/navigator/main/procedures?event=moving_in&household_ages=34,1"
          "&national_health_insurance=yes&mynumber_card=yes&register_seal=no"
          "&longterm_care_certified=no&daycare=no&pregnant=no&dog=no")
MOVING_OUT = ("/navigator/main/procedures?event=moving_out&household_ages=40"
              "&national_health_insurance=no&seal_registered=no&longterm_care_certified=no")


@pytest.fixture
def office_id(engine) -> int:  # type: ignore[no-untyped-def]
    """An office with the services the bundled catalog names (its code is `main`)."""
    with database.session_scope(engine) as session:
        return seed_structure(session).id  # type: ignore[return-value]


def _in_retention_purge() -> bool:
    """Whether this statement comes from the app's own retention purge, which starts with the
    app in a thread of its own and may still be running when the pages are asked for."""
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_name == "purge_once" and frame.f_code.co_filename.endswith(
                "factory.py"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@pytest.fixture
def writes(app, office_id):  # type: ignore[no-untyped-def]
    """Every statement that would change the database, as the app's engine runs it, once the
    office's catalog is served (whatever serving it first takes is the catalog's, not ours)."""
    from counter.models import Office

    with database.session_scope(app.state.engine) as session:
        flow.office_catalog(session, session.get(Office, office_id))
    found: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if re.match(r"\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)", statement, re.IGNORECASE) \
                and not _in_retention_purge():
            found.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    yield found
    event.remove(app.state.engine, "before_cursor_execute", record)


def in_language(client, code: str) -> None:  # type: ignore[no-untyped-def]
    """Choose a language the way the chooser does (a cookie that holds only the code)."""
    assert client.get(f"/locale/{code}?next=/", follow_redirects=False).status_code == 303


def walk_to_result(client, events: list[str], answers: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    """Answer the questions screen by screen, as the form does; returns the result's address."""
    response = client.get("/navigator/main/questions", params={"event": events},
                          follow_redirects=False)
    for _ in range(6):
        if response.status_code == 303 and "/procedures?" in response.headers["location"]:
            return str(response.headers["location"])
        if response.status_code == 303:
            response = client.get(response.headers["location"], follow_redirects=False)
            continue
        assert response.status_code == 200, response.text
        hidden = re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">',
                            response.text)
        asked = [value for name, value in hidden if name == "asked"]
        carried = [(name, value) for name, value in hidden if name != "asked"]
        params = carried + [("asked", qid) for qid in asked] + [
            (qid, answers[qid]) for qid in asked]
        response = client.get("/navigator/main/questions", params=params,
                              follow_redirects=False)
    raise AssertionError("the questions never ended")


def text_of(html: str) -> str:
    """A page's visible text, tags and readings left out."""
    html = re.sub(r"<rt>.*?</rt>|<rp>.*?</rp>", "", html)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# --- the pages -------------------------------------------------------------------------------


def test_the_only_office_is_chosen_for_the_resident(client, office_id):
    """/navigator goes straight to the one office's life events."""
    response = client.get("/navigator", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/navigator/main"
    page = client.get("/navigator/main", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'name="event" value="moving_in"' in page.text
    assert 'action="/navigator/main/questions"' in page.text and 'method="get"' in page.text


def test_several_offices_are_listed(client, office_id, engine):
    """With a branch, the resident chooses the office first."""
    from counter.models import Office

    with database.session_scope(engine) as session:
        session.add(Office(code="branch", names={"en": "North Branch", "ja": "北支所"}))
    page = client.get("/navigator", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'href="/navigator/main"' in page.text and 'href="/navigator/branch"' in page.text
    assert "North Branch" in page.text


def test_moving_in_result_lists_procedures_documents_counters_and_online(client, office_id):
    """The result: each procedure with where to go, what to bring, the time at the counter,
    and the online alternative with its link and condition."""
    page = client.get(RESULT, headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "Moving-in notification (転入届)" in text
    assert "Counters 1–3 (1st floor)" in text  # the counter hint
    assert "Moving-out certificate (転出証明書) from your previous city" in text  # to bring
    assert "Time at the counter" in text and "about 30 minutes" in text  # catalog estimate
    assert "Can be done online instead" in text
    assert 'href="https://myna.go.jp/"' in page.text and 'rel="noopener noreferrer"' in page.text
    assert "Needs a My Number card and its signature PIN" in text
    assert "1 of these can be done online instead of at the counter." in text
    assert 'rel="stylesheet" href="/static/css/navigator-print.css' in page.text
    assert 'media="print"' in page.text


def test_moving_out_offers_the_online_notification(client, office_id):
    """転出届 through マイナポータル, in Japanese, with the card and PIN as the condition."""
    page = client.get(MOVING_OUT, headers={"Accept-Language": "ja"})
    assert page.status_code == 200
    text = text_of(page.text)
    assert "マイナポータル（引越しワンストップサービス）" in text
    assert "署名用電子証明書の暗証番号" in text


@pytest.mark.parametrize("code", [language.code for language in i18n.LANGUAGES])
def test_every_language_renders_every_page(app, office_id, code):
    """Events, questions and result in each of the 12 languages: translated, with the page's
    language set and the chooser keeping the address (answers included)."""
    with make_client(app) as client:
        in_language(client, code)
        language = i18n.BY_CODE[code]
        for url in ("/navigator/main", "/navigator/main/questions?event=moving_in", RESULT):
            page = client.get(url)
            assert page.status_code == 200, (code, url)
            assert f'<html lang="{language.html_lang}"' in page.text
            with i18n.use_locale(code):
                assert i18n.gettext("Procedure navigator").__html__() in page.text \
                    if code in i18n.RUBY_LOCALES else i18n.gettext("Procedure navigator") \
                    in page.text
        assert "/locale/en?next=%2Fnavigator%2Fmain%2Fprocedures%3Fevent%3Dmoving_in" in page.text
        if code == "ja_easy":
            assert "<ruby>" in page.text
        if code in KIOSK_LOCALES and code not in ("ja", "ja_easy"):
            assert "転入届" in page.text  # the procedure's Japanese name stays beside


def test_the_result_address_is_the_shareable_link(client, office_id):
    """Answering screen by screen ends on a tidy address; opened elsewhere (no cookie, another
    client) it shows the same list, and the page shows that very address to share."""
    location = walk_to_result(client, ["moving_in"], MOVING_IN)
    assert location == RESULT
    first = client.get(location, headers={"Accept-Language": "en"})
    with make_client(client.app) as other:
        second = other.get(location, headers={"Accept-Language": "en"})
    assert first.status_code == second.status_code == 200
    steps = re.findall(r'<li class="step" id="step-([a-z_]+)"', first.text)
    assert steps == re.findall(r'<li class="step" id="step-([a-z_]+)"', second.text)
    assert steps[:2] == ["moving_in_notice", "mynumber_card_update"]
    assert f'<link rel="canonical" href="http://testserver{RESULT.replace("&", "&amp;")}">' \
        in first.text
    # The address holds the choices and answers only.
    keys = {key for key, _ in parse_qsl(urlsplit(location).query)}
    assert keys == {"event", *MOVING_IN}


def test_a_reordered_or_decorated_link_still_works(client, office_id):
    """Answers in another order, a city's tracking parameter, spaces in the ages: same list."""
    shuffled = ("/navigator/main/procedures?dog=no&pregnant=no&daycare=no&utm_source=city"
                "&longterm_care_certified=no&national_health_insurance=yes&register_seal=no"
                "&mynumber_card=yes&household_ages=34%2C+1&event=moving_in")
    page = client.get(shuffled, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert f"http://testserver{RESULT}".replace("&", "&amp;") in page.text


def test_an_unanswered_question_is_asked_again_in_place(client, office_id):
    """Submitting the questions with one left blank shows it again with a message (422)."""
    response = client.get("/navigator/main/questions",
                          params=[("event", "moving_in"), ("asked", "household_ages"),
                                  ("asked", "mynumber_card"), ("household_ages", "34")],
                          headers={"Accept-Language": "en"}, follow_redirects=False)
    assert response.status_code == 422
    assert "Please answer this question." in response.text
    assert 'id="err-mynumber_card"' in response.text
    assert 'value="34"' in response.text  # what was typed is kept


def test_a_typed_answer_that_is_not_a_number_is_shown_in_place(client, office_id):
    """A form's own bad answer is the resident's typing: 422 with the message, in Spanish."""
    response = client.get("/navigator/main/questions",
                          params=[("event", "moving_in"), ("asked", "household_ages"),
                                  ("household_ages", "treinta")],
                          headers={"Accept-Language": "es"}, follow_redirects=False)
    assert response.status_code == 422
    with i18n.use_locale("es"):
        assert i18n.gettext("Enter a whole number.") in response.text


def test_no_life_event_chosen_asks_for_one(client, office_id):
    """Next without a life event: the events page again, with its message."""
    response = client.get("/navigator/main/questions", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "Choose at least one life event." in response.text


def test_an_incomplete_link_goes_back_to_the_questions(client, office_id):
    """A result address without every answer asks the rest (nothing is guessed)."""
    response = client.get("/navigator/main/procedures?event=moving_in&mynumber_card=yes",
                          follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == \
        "/navigator/main/questions?event=moving_in&mynumber_card=yes"


# --- bad addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "status", "message"), [
    ("/navigator/nowhere", 404,
     "There is no office at this address. Choose your office again."),
    ("/navigator/" + "x" * 500 + "/procedures?event=moving_in", 404,
     "There is no office at this address. Choose your office again."),
    ("/navigator/ma%00in/questions?event=moving_in", 404,
     "There is no office at this address. Choose your office again."),
    ("/navigator/%E6%9C%AC%E5%BA%81", 404,
     "There is no office at this address. Choose your office again."),
    ("/navigator/main/procedures?event=space_travel", 400,
     "This link names a life event this office does not offer. Please choose again."),
    ("/navigator/main?event=space_travel", 400,
     "This link names a life event this office does not offer. Please choose again."),
    (RESULT.replace("dog=no", "dog=maybe"), 400,
     "This link holds an answer that is not valid. Please answer the questions again."),
    (RESULT.replace("34,1", "34,999"), 400,
     "This link holds an answer that is not valid. Please answer the questions again."),
    (RESULT.replace("34,1", "9" * 5000), 400,
     "This link is too long to be one of the navigator's. Please start again."),
    (RESULT.replace("34,1", "9" * 1000), 400,
     "This link holds an answer that is not valid. Please answer the questions again."),
    (RESULT + "&x=1" * 120, 400,
     "This link is too long to be one of the navigator's. Please start again."),
    ("/navigator/main/procedures?household_ages=3", 400,
     "This link names no life event. Please choose again."),
    ("/navigator/main/questions?event=moving_in&dog=maybe", 400,
     "This link holds an answer that is not valid. Please answer the questions again."),
    ("/navigator/main/procedures?event=moving_in&event=%00%ff", 400,
     "This link names a life event this office does not offer. Please choose again."),
])
def test_bad_addresses_get_a_clear_page(client, office_id, url, status, message):
    """Tampered, truncated or invented addresses: a 400/404 page that says what to do, with a
    way back to the start; never a 500."""
    response = client.get(url, headers={"Accept-Language": "en"}, follow_redirects=False)
    assert response.status_code == status, response.text[:500]
    assert message in text_of(response.text)
    assert "Start the navigator again" in response.text


def test_bad_addresses_are_explained_in_the_residents_language(client, office_id):
    """The refusal is in the language chosen (here Vietnamese), and in easy Japanese."""
    response = client.get("/navigator/main/procedures?event=space_travel",
                          headers={"Accept-Language": "vi"})
    assert response.status_code == 400
    with i18n.use_locale("vi"):
        assert i18n.gettext("This link cannot be used") in response.text
    in_language(client, "ja_easy")
    response = client.get("/navigator/nowhere")
    assert response.status_code == 404 and "<ruby>役所<rp>" in response.text


def test_no_cookie_session_or_database_write(client, office_id, writes):
    """Every GET page of the navigator: no Set-Cookie (no session at all) and no statement
    that writes, not even a purge."""
    urls = ["/navigator", "/navigator/main", "/navigator/main/questions?event=moving_in",
            "/navigator/main/questions?event=moving_in&asked=dog&dog=no", RESULT, MOVING_OUT,
            "/navigator/nowhere", "/navigator/main/procedures?event=space_travel"]
    for url in urls:
        response = client.get(url, follow_redirects=False)
        assert response.status_code < 500
        assert "set-cookie" not in response.headers, url
    assert writes == []
    assert not client.cookies


def test_the_result_names_no_personal_data_and_is_not_cached(client, office_id):
    """The page carries no name or address field and says it is live (no-cache)."""
    page = client.get(RESULT)
    assert page.headers["cache-control"] == "no-cache"
    assert "<form" not in page.text.split("<main", 1)[1]  # nothing to type on the result


# --- waits now ------------------------------------------------------------------------------


def test_the_wait_now_is_shown_per_service(client, office_id, engine):
    """Two residents waiting at the register: the result says so for that service."""
    with database.session_scope(engine) as session:
        for _ in range(2):
            queue.issue_ticket(session, office_id=office_id, service_codes=["residents"],
                               procedure_codes=["moving_in_notice"], locale="ja")
    page = client.get(RESULT, headers={"Accept-Language": "en"})
    text = text_of(page.text)
    assert "Waiting now" in text and "2 people waiting" in text
    # No history at all: nothing is said about busy or quieter times.
    assert "Usually busiest" not in text and "Usually quieter" not in text


def test_a_bookable_service_gets_no_booking_link_until_booking_exists(client, office_id,
                                                                       engine):
    """Booking comes later: the place is kept, but no link leads nowhere today."""
    from sqlmodel import select

    from counter.models import Service, ServiceKind

    with database.session_scope(engine) as session:
        service = session.exec(select(Service).where(Service.code == "childcare")).one()
        service.kind = ServiceKind.APPOINTMENT
    page = client.get(RESULT, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Book a visit time" not in page.text


# --- what other parts of issue 15 add -------------------------------------------------------


def test_links_to_details_at_home_and_booking_appear_once_their_pages_exist(app, office_id,
                                                                             engine):
    """"Enter your details at home" (route `at_home`) carries the result's answers; "Book a
    visit time" (route `booking_book`) is offered for a service the admin made bookable only."""
    from sqlmodel import select

    from counter.appointments.slots import set_bookable
    from counter.models import Service

    with database.session_scope(engine) as session:
        service = session.exec(select(Service).where(Service.code == "childcare")).one()
        set_bookable(session, service.id, True, [])
    with make_client(app) as client:
        page = client.get(RESULT, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    query = RESULT.split("?", 1)[1].replace("&", "&amp;")
    assert f'href="/navigator/main/details?{query}">Enter your details at home' in page.text
    assert page.text.count("Book a visit time") == 2  # the two childcare procedures
    assert 'href="/book/main/childcare"' in page.text


def test_a_catalog_that_must_be_stored_first_is_loaded_once_in_a_writing_transaction(
        client, office_id, monkeypatch):
    """Should serving the catalog need a first write (refused by the read-only transaction,
    as PostgreSQL does), that load is done again in a transaction that may write: no 500."""
    from sqlalchemy.exc import InternalError

    from navigator.routes import page as page_module

    real = page_module.office_guide
    calls: list[bool] = []

    def office_guide(session, code):  # type: ignore[no-untyped-def]
        read_only = bool(session.get_bind().get_execution_options().get(
            database.READ_ONLY))
        calls.append(read_only)
        if read_only:
            raise InternalError("INSERT …", {}, Exception("read-only transaction"))
        return real(session, code)

    monkeypatch.setattr(page_module, "office_guide", office_guide)
    assert client.get("/navigator/main").status_code == 200
    assert calls == [True, False]


def test_any_query_is_a_page_below_500_and_writes_nothing(client, office_id, writes):
    """Hypothesis: any mix of life events, question ids and junk with any values, on each
    page: a 2xx, 303, 400, 404 or 422 page, never a 500, and no statement that writes."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    keys = st.sampled_from(["event", "asked", "household_ages", "mynumber_card", "dog",
                            "daycare", "seal_registered", "x", ""])
    values = st.one_of(
        st.sampled_from(["moving_in", "moving_out", "birth", "yes", "no", "34,1", "-1",
                         "9" * 3000, "%00", "\x00", "<b>", "ｙｅｓ", "3、 7", ""]),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=40))

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(page=st.sampled_from(["", "/questions", "/procedures"]),
           pairs=st.lists(st.tuples(keys, values), max_size=12))
    def run(page: str, pairs: list[tuple[str, str]]) -> None:
        response = client.get(f"/navigator/main{page}", params=pairs, follow_redirects=False)
        assert response.status_code in {200, 303, 400, 404, 422}, (pairs, response.text[:300])
        if response.is_redirect:
            assert response.headers["location"].startswith("/navigator/main/")

    run()
    assert writes == []
