"""The admin page of a service's appointments: bookable, weekly hours, every bad line, audit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from counter.appointments import slots
from frontyard.audit import AuditEntry
from frontyard.database import session_scope

EN = {"Accept-Language": "en"}
PAGE = "/admin/offices/test/services/insurance/appointments"


def test_the_admin_makes_a_service_bookable(admin_client, engine, world):
    page = admin_client.get(PAGE, headers=EN)
    assert page.status_code == 200 and "Weekly hours" in page.text
    saved = admin_client.post(PAGE, data={"enabled": "on", "hours": "mon-fri 09:00-12:00 15 2"},
                              headers=EN, follow_redirects=False)
    assert saved.status_code == 303
    assert "mon 09:00-12:00 15 2" in admin_client.get(PAGE, headers=EN).text
    with session_scope(engine) as session:
        assert slots.is_bookable(session, world.services["insurance"])
        entry = session.exec(select(AuditEntry).where(
            AuditEntry.action == "appointments_changed")).one()
    assert entry.detail["before"] == {"bookable": False, "hours": []}
    assert entry.detail["after"]["bookable"] is True and len(entry.detail["after"]["hours"]) == 5


@pytest.mark.parametrize(("hours", "message"), [
    ("every day 9-12", "write it as"), ("mon 09:00-12:00 7 2", "divide"),
    ("mon 09:00-12:00 15 99", "places per slot"), ("mon 10:00-09:00 15 2", "end after"),
    ("mon 09:00-12:00 15 2\nmon 09:30-10:00 15 2", "overlap"),
])
def test_every_bad_line_is_a_clear_message_and_nothing_is_saved(admin_client, engine, world,
                                                                 hours, message):
    response = admin_client.post(PAGE, data={"enabled": "on", "hours": hours}, headers=EN)
    assert response.status_code == 422
    assert message in response.text and "Nothing was saved" in response.text
    assert hours.splitlines()[0] in response.text  # the entry is kept
    with session_scope(engine) as session:
        assert not slots.is_bookable(session, world.services["insurance"])
        assert session.exec(select(AuditEntry).where(
            AuditEntry.action == "appointments_changed")).first() is None


def test_only_admins(staff_client, world):
    assert staff_client.get(PAGE, follow_redirects=False).status_code in {403, 303}


def test_unknown_service_is_404(admin_client, world):
    assert admin_client.get("/admin/offices/test/services/nope/appointments").status_code == 404


def test_a_service_not_yet_created_has_no_appointments_page(admin_client, world):
    """"new" names the form of a new service, not a service: a 404, not a 500."""
    url = "/admin/offices/test/services/new/appointments"
    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url, data={"enabled": "on"}).status_code == 404
