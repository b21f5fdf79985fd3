"""What residents' phones and the crowding page say, over HTTP: the procedures still to come
by name, place and order; one name per service on the kiosk and the phone; dates in one form
per language; the crowding page's words when no counter is open, in the page's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from counter import queue
from counter.models import Visit
from frontyard import database, i18n
from tests.screens_support import issue, open_counter
from tests.screens_support import office as office  # a fixture, used by name
from tests.test_kiosk_routes import PERSON, _reach_details
from tests.test_kiosk_routes import kiosk as kiosk  # a fixture, used by name
from tests.test_kiosk_routes import office_id as office_id  # a fixture, used by name

TOKYO = ZoneInfo("Asia/Tokyo")


def _issue_procedures(engine, office_id: int, procedures: list[tuple[str, str]],
                      locale: str = "en") -> str:
    """A ticket for (service, procedure) pairs, as the kiosk issues them; its status token."""
    with database.session_scope(engine) as session:
        visit = queue.issue_ticket(
            session, office_id=office_id, service_codes=[s for s, _ in procedures],
            procedure_codes=[p for _, p in procedures], locale=locale)
        return visit.status_token


def _after_this(page: str) -> list[str]:
    """The lines of "After this", as text."""
    listed = page.split("data-next-procedures>")[1].split("</ol>")[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split())
            for item in re.findall(r"<li>(.*?)</li>", listed, re.S)]


def test_after_this_lists_the_next_procedures_with_their_counter_in_order(client, engine,
                                                                           office):
    """The procedures after the current one, by the catalog's name, each once, in visiting
    order, with the service and the counters it is done at; not the sections again."""
    token = _issue_procedures(engine, office.id, [
        ("residents", "moving_in_notice"), ("residents", "mynumber_card_update"),
        ("insurance", "nhi_join"), ("childcare", "child_allowance_claim")])
    page = client.get(f"/status/{token}").text
    assert "Moving-in notification (転入届)" in page.split("data-procedure>")[1].split("</dd>")[0]
    where = page.split("data-where>")[1].split("</dd>")[0]
    assert "Resident Registration" in where and "Counters 1–3 (1st floor)" in where
    lines = _after_this(page)
    assert len(lines) == 3, lines
    assert lines[0].startswith("Updating your My Number card")
    assert "Resident Registration · Counters 1–3" in lines[0]
    assert lines[1].startswith("Joining the National Health Insurance")
    assert "Health Insurance and Pension" in lines[1]
    assert lines[2].startswith("Child allowance claim") and "Child and Family Support" in lines[2]


def test_after_this_in_a_city_without_a_catalog(client, engine, world):
    """A city with no procedure guide: the services' names, each procedure once."""
    with database.session_scope(engine) as session:
        visit = queue.issue_ticket(session, office_id=world.office_id,
                                   service_codes=["residents", "insurance", "childcare"],
                                   locale="en")
        token = visit.status_token
    page = client.get(f"/status/{token}").text
    assert "step 1 of 3: Residents" in page
    assert _after_this(page) == ["Insurance", "Childcare"]


def test_one_name_per_service_on_the_kiosk_and_the_phone(kiosk, client, engine):
    """The kiosk's ticket names each service as the phone does (the service's own name, not
    the catalog's section name)."""
    _reach_details(kiosk)
    kiosk.post("/kiosk/details", data=PERSON)
    kiosk.post("/kiosk/ticket", data={"consent": "yes"})
    ticket = kiosk.get("/kiosk/ticket").text
    with Session(engine) as session:
        visit = session.exec(select(Visit)).one()
    phone = client.get(f"/status/{visit.status_token}").text
    kiosk_where = ticket.split('data-service="residents">')[1].split(" · ")[0]
    assert kiosk_where == "Resident Registration"
    assert "Citizens Division" not in ticket
    assert f"data-where>{kiosk_where} · " in phone


EXPECTED_DATES = {  # 2026-03-31 23:30 UTC is 08:30 on 1 April in Tokyo
    "ja": "2026年4月1日 8:30", "en": "Apr 1, 2026, 8:30\u202fAM",
    "zh_Hans": "2026年4月1日 08:30", "ko": "2026년 4월 1일 오전 8:30",
    "vi": "08:30 1 thg 4, 2026", "pt_BR": "1 de abr. de 2026 08:30",
    "es": "1 abr 2026, 8:30", "ne": "2026 अप्रिल 1, 08:30", "id": "1 Apr 2026 08.30",
}


@pytest.mark.parametrize("locale", [language.code for language in i18n.LANGUAGES])
def test_dates_have_one_form_per_language_with_the_full_year(locale):
    """Every screen's date: the full year, the month by name or in the language's order."""
    instant = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    with i18n.use_locale(locale):
        text = str(i18n.fmt_when(instant, TOKYO))
        assert i18n.fmt_datetime(instant, TOKYO, "short") == text  # the filters agree
        assert str(i18n.fmt_date(instant.astimezone(TOKYO))) in text
    assert "2026" in text and not re.search(r"\b26\b", text)
    if locale in EXPECTED_DATES:
        assert text == EXPECTED_DATES[locale]


def test_status_page_and_ticket_show_the_issue_time_in_that_form(client, engine, office):
    """The status page's issue time is the helper's, in the page's language."""
    token = _issue_procedures(engine, office.id, [("tax", "income_certificate")])
    with Session(engine) as session:
        issued = session.exec(select(Visit)).one().issued_at
    for locale in ("ja", "en", "ne"):
        page = client.get(f"/status/{token}?lang={locale}").text
        with i18n.use_locale(locale):
            assert str(i18n.fmt_when(issued, TOKYO)) in page, locale


def test_crowding_page_says_no_counter_is_open_in_nepali(app, client, staff_client, office):
    """People waiting and no counter open: "no counter is open", not "not crowded"; the
    office is named in Nepali."""
    issue(app, office, ["tax"])
    nepali = {"Accept-Language": "ne"}
    page = client.get("/crowding", headers=nepali).text
    assert "नगरपालिका (मुख्य भवन)" in page and "City Hall" not in page
    tax = page.split('data-lamp="closed"')
    assert len(tax) > 1 and "कुनै काउन्टर खुला छैन" in tax[1]
    open_counter(staff_client, office, "7", ["tax"])
    page = client.get("/crowding", headers=nepali).text
    assert "less" not in page and "10 मिनेटभन्दा कम" in page
