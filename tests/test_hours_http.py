"""Opening hours over HTTP: the kiosk outside hours explains when the office opens (in the
resident's language) and issues nothing, a closed service is left out of the ticket, the API
refuses with a JSON error (staff may override, audited), the crowding page says closed.

The office is closed today and tomorrow by a closure and open 09:00–17:00 every day, so the
next opening is the day after tomorrow at 09:00 whatever the time of day the tests run."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from counter.hours import Closure, OpeningRange
from counter.models import Office, Service, Task, Visit
from frontyard import database, i18n
from frontyard.audit import AuditEntry
from frontyard.auth import DeviceKind, create_device
from frontyard.settings import Settings
from kiosk.models import KioskSession
from tests import test_kiosk_routes
from tests.test_kiosk_routes import MOVING_IN_ANSWERS, answer_all, begin, choose

TZ = Settings().tz
#: The kiosk tests' fixtures: the demo office (whose catalog the kiosk needs) and a kiosk.
office_id = test_kiosk_routes.office_id
kiosk = test_kiosk_routes.kiosk


def _today():  # type: ignore[no-untyped-def]
    return datetime.now(TZ).date()


def _opening() -> datetime:
    return datetime.combine(_today() + timedelta(days=2), time(9), tzinfo=TZ)


def close_today(engine, office_id: int) -> None:  # type: ignore[no-untyped-def]
    """Open 09:00–17:00 every day; closed today and tomorrow."""
    with database.session_scope(engine) as session:
        session.add_all(OpeningRange(office_id=office_id, weekday=day, opens=540, closes=1020)
                        for day in range(7))
        session.add(Closure(office_id=office_id, first_day=_today(),
                            last_day=_today() + timedelta(days=1), name="工事"))


def only_later(engine, service: Service) -> None:  # type: ignore[no-untyped-def]
    """The service has hours only on the weekday of the day after tomorrow."""
    with database.session_scope(engine) as session:
        session.add(OpeningRange(office_id=service.office_id, service_id=service.id,
                                 weekday=_opening().weekday(), opens=540, closes=1020))


def _when(locale: str) -> str:
    with i18n.use_locale(locale):
        return i18n.fmt_when(_opening(), TZ)


@pytest.mark.parametrize(("locale", "words"), [
    ("en", "The office is closed now. It opens again on"),
    ("ja", "開きます"),
])
def test_the_kiosk_outside_hours_says_when_the_office_opens(kiosk, engine, office_id, locale,
                                                             words):
    """The language is chosen, then the closed screen: no session, no ticket."""
    close_today(engine, office_id)
    response = kiosk.post("/kiosk/start", data={"locale": locale}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/closed"
    page = kiosk.get("/kiosk/closed")
    assert page.status_code == 200 and "data-office-closed" in page.text
    assert words in page.text and _when(locale) in page.text
    assert kiosk.get("/kiosk/events", follow_redirects=False).headers["location"] == "/kiosk"
    with Session(engine) as session:
        assert session.exec(select(KioskSession)).first() is None


def test_the_closed_screen_goes_back_to_the_start_when_open(kiosk):
    """No hours at all: open, so /kiosk/closed sends the resident to the start."""
    response = kiosk.get("/kiosk/closed", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk"


def _reach_confirm(kiosk) -> None:  # type: ignore[no-untyped-def]
    begin(kiosk, "en")
    choose(kiosk, "moving_in")
    answer_all(kiosk, MOVING_IN_ANSWERS)


def test_a_kiosk_ticket_is_refused_when_the_office_closes_mid_way(kiosk, engine, office_id):
    """Closed between the guide and the ticket: the message in place, no visit."""
    _reach_confirm(kiosk)
    close_today(engine, office_id)
    response = kiosk.post("/kiosk/ticket", data={"without_details": "1"},
                          follow_redirects=False)
    assert response.status_code == 422
    assert "The office is closed now. It opens again on" in response.text
    assert _when("en") in response.text
    with Session(engine) as session:
        assert session.exec(select(Visit)).first() is None


def test_a_closed_service_is_marked_in_the_guide_and_left_out_of_the_ticket(kiosk, engine,
                                                                            office_id):
    """The guide says when that procedure takes tickets again; the ticket has the others."""
    _reach_confirm(kiosk)
    guide = kiosk.get("/kiosk/guide").text
    codes = list(dict.fromkeys(re.findall(r'data-service="([a-z_]+)"', guide)))
    assert len(codes) >= 2
    with Session(engine) as session:
        service = session.exec(select(Service).where(Service.code == codes[-1])).one()
    only_later(engine, service)
    guide = kiosk.get("/kiosk/guide").text
    assert f'data-closed-service="{codes[-1]}"' in guide
    assert "No tickets for this now. Tickets again from" in guide and _when("en") in guide
    response = kiosk.post("/kiosk/ticket", data={"without_details": "1"},
                          follow_redirects=False)
    assert response.status_code == 303, response.text
    with Session(engine) as session:
        tasks = session.exec(select(Task)).all()
    assert tasks and service.id not in {task.service_id for task in tasks}


# --- the API ---------------------------------------------------------------------------------


def test_the_api_refuses_outside_hours_with_a_json_error(client, engine, world):
    """409, the message in the asked language, the next opening as ISO 8601."""
    close_today(engine, world.office_id)
    with database.session_scope(engine) as session:
        _device, token, _code = create_device(session, "api-kiosk", DeviceKind.KIOSK,
                                              office_id=world.office_id)
    response = client.post("/api/v1/tickets", json={"services": ["residents"], "locale": "en"},
                           headers={"Authorization": f"Bearer {token}",
                                    "Accept-Language": "en"})
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["detail"].startswith("The office is closed now. It opens again on")
    assert datetime.fromisoformat(body["fields"]["next_opening"]) == _opening()
    refused = client.post("/api/v1/tickets", json={"services": ["residents"],
                                                   "outside_hours": True},
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403  # a kiosk never overrides
    with Session(engine) as session:
        assert session.exec(select(Visit)).first() is None


def test_staff_may_issue_outside_hours_and_it_is_audited(staff_client, engine, world):
    """A resident let in at closing: `outside_hours` from a signed-in staff member."""
    close_today(engine, world.office_id)
    body = {"services": ["insurance"], "office": "test"}
    assert staff_client.post("/api/v1/tickets", json=body).status_code == 409
    response = staff_client.post("/api/v1/tickets", json={**body, "outside_hours": True})
    assert response.status_code == 201, response.text
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry)).one()
    assert entry.action == "ticket_outside_hours" and entry.detail["ticket"] == "B-001"


# --- the crowding page -----------------------------------------------------------------------


def test_the_crowding_page_says_closed_and_when_it_opens(client, engine, world):
    """Closed office: the notice with the opening time; every service shows closed."""
    assert "data-office-closed" not in client.get("/crowding").text
    close_today(engine, world.office_id)
    page = client.get("/crowding", headers={"Accept-Language": "en"})
    assert "The office is closed now. It opens again on" in page.text
    assert _when("en") in page.text
    assert page.text.count("data-service-closed") == 3
    japanese = client.get("/crowding", headers={"Accept-Language": "ja"})
    assert _when("ja") in japanese.text


def test_a_closed_service_shows_closed_instead_of_a_wait(client, engine, world):
    """The office is open; one service takes tickets only later: "Closed" and when."""
    with Session(engine) as session:
        service = session.get(Service, world.services["childcare"])
        office = session.get(Office, world.office_id)
    assert office is not None and service is not None
    only_later(engine, service)
    page = client.get("/crowding", headers={"Accept-Language": "en"})
    assert page.text.count("data-service-closed") == 1
    assert "Tickets again from" in page.text and _when("en") in page.text
    assert "data-office-closed" not in page.text
