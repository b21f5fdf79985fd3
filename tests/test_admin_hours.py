"""The admin's pages for opening hours, closures and services' hours and cut-offs: saved and
audited, every bad input a clear message in the page with nothing written, admins only."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from counter.hours import Closure, OfficeCalendar, OpeningRange, ServiceCutoff
from counter.models import Office, Service
from frontyard import database
from frontyard.audit import AuditEntry

WEEK = {"day_mon": "08:30-12:00, 13:00-17:15", "day_tue": "08:30-17:15", "day_wed": "",
        "day_thu": "", "day_fri": "08:30-17:15", "day_sat": "", "day_sun": "",
        "rows": "3", "nth_0": "1", "weekday_0": "sat", "ranges_0": "09:00-12:00",
        "nth_1": "3", "weekday_1": "sat", "ranges_1": "09:00-12:00",
        "nth_2": "1", "weekday_2": "sat", "ranges_2": "", "holidays": "on"}


@pytest.fixture(autouse=True)
def english(admin_client) -> None:  # type: ignore[no-untyped-def]
    """The admin reads the pages in English."""
    admin_client.headers["Accept-Language"] = "en"


@pytest.fixture
def office(engine) -> None:  # type: ignore[no-untyped-def]
    """The office `kita` with one service `zei`."""
    with database.session_scope(engine) as session:
        office = Office(code="kita", names={"ja": "北支所", "en": "North branch"})
        session.add(office)
        session.flush()
        session.add(Service(office_id=office.id, code="zei", prefix="Z", names={"ja": "税"}))


def _count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return len(session.exec(select(model)).all())


def _post(client, url: str, data: dict):  # type: ignore[no-untyped-def]
    return client.post(url, data=data, follow_redirects=False)


def test_office_hours_are_saved_shown_and_audited(admin_client, engine, office):
    """Weekday ranges, a lunch gap, first and third Saturdays and the holiday switch."""
    page = admin_client.get("/admin/offices/kita")
    assert 'href="/admin/offices/kita/hours"' in page.text
    assert 'href="/admin/offices/kita/closures"' in page.text
    response = _post(admin_client, "/admin/offices/kita/hours", WEEK)
    assert response.status_code == 303, response.text
    page = admin_client.get(response.headers["location"])
    assert "Saved." in page.text and "08:30-12:00, 13:00-17:15" in page.text
    assert 'value="09:00-12:00"' in page.text and "Monday" in page.text
    with Session(engine) as session:
        rows = session.exec(select(OpeningRange)).all()
        assert len(rows) == 6 and {row.nth for row in rows} == {0, 1, 3}
        entry = session.exec(select(AuditEntry).where(
            AuditEntry.action == "hours_changed")).one()
    assert entry.detail["before"] == {}
    assert entry.detail["after"]["mon"] == "08:30-12:00, 13:00-17:15"
    assert entry.detail["after"]["sat#3"] == "09:00-12:00"
    response = _post(admin_client, "/admin/offices/kita/hours", {**WEEK, "holidays": ""})
    assert response.status_code == 303
    with Session(engine) as session:
        assert session.get(OfficeCalendar, 1).closed_on_national_holidays is False  # type: ignore[union-attr]
        assert session.exec(select(AuditEntry).where(
            AuditEntry.action == "holidays_changed")).one().detail["after"] == {
                "closed_on_national_holidays": False}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("day_tue", "17:00-09:00", "ends before it starts"),
    ("day_tue", "08:30-12:00, 11:00-17:00", "The ranges overlap."),
    ("day_tue", "08:30-25:00", "HH:MM-HH:MM"),
    ("day_tue", "9-17", "HH:MM-HH:MM"),
    ("day_tue", "08:60-12:00", "HH:MM-HH:MM"),
    ("day_tue", "morning", "HH:MM-HH:MM"),
    ("day_tue", ", ".join(["08:00-08:01"] * 7), "At most 6 ranges"),
    ("ranges_0", "12:00-09:00", "ends before it starts"),
])
def test_bad_hours_are_shown_in_the_page(admin_client, engine, office, field, value, message):
    """A refused hours form names the problem next to its field and writes nothing."""
    response = _post(admin_client, "/admin/offices/kita/hours", {**WEEK, field: value})
    assert response.status_code == 422
    assert message in response.text and f'id="f-{field}-error"' in response.text
    assert "Nothing was saved." in response.text
    assert value.replace(">", "&gt;") in response.text  # what the admin typed is kept
    assert _count(engine, OpeningRange) == 0 and _count(engine, AuditEntry) == 0
    assert _count(engine, OfficeCalendar) == 0


def test_a_bad_occurrence_row_is_refused(admin_client, engine, office):
    """An occurrence row with an unknown day or number is refused in the page."""
    response = _post(admin_client, "/admin/offices/kita/hours",
                     {**WEEK, "nth_1": "9", "weekday_1": "xyz"})
    assert response.status_code == 422 and 'id="f-ranges_1-error"' in response.text
    assert _count(engine, OpeningRange) == 0


def test_closures_are_added_listed_removed_and_audited(admin_client, engine, office):
    """The year-end closure across the new year; the next national holidays are listed."""
    response = _post(admin_client, "/admin/offices/kita/closures", {
        "name": "Year-end holidays", "first_day": "2026-12-29", "last_day": "2027-01-03"})
    assert response.status_code == 303, response.text
    page = admin_client.get("/admin/offices/kita/closures")
    assert "Year-end holidays" in page.text and "Dec 29, 2026" in page.text
    assert "Next national holidays" in page.text and 'lang="ja"' in page.text
    with Session(engine) as session:
        closure = session.exec(select(Closure)).one()
    response = _post(admin_client, f"/admin/offices/kita/closures/{closure.id}/remove", {})
    assert response.status_code == 303
    assert _count(engine, Closure) == 0
    with Session(engine) as session:
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
    assert actions == ["closure_added", "closure_removed"]
    assert _post(admin_client, "/admin/offices/kita/closures/99/remove", {}).status_code == 404
    assert _post(admin_client, "/admin/offices/kita/closures/x/remove", {}).status_code == 404


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "x", "first_day": "2027-01-03", "last_day": "2026-12-29"}, "last_day",
     "The end date is before the start date."),
    ({"name": "x", "first_day": "", "last_day": ""}, "first_day", "YYYY-MM-DD"),
    ({"name": "x", "first_day": "tomorrow"}, "first_day", "YYYY-MM-DD"),
    ({"name": "x", "first_day": "20266-01-01"}, "first_day", "YYYY-MM-DD"),
    ({"name": "x", "first_day": "1999-01-01"}, "first_day", "Choose a date between"),
    ({"name": "", "first_day": "2027-01-01"}, "name", "Give the closure a name"),
    ({"name": "x" * 101, "first_day": "2027-01-01"}, "name", "At most 100"),
])
def test_bad_closures_are_shown_in_the_page(admin_client, engine, office, data, field, message):
    """A refused closure says what is wrong next to the field and writes nothing."""
    response = _post(admin_client, "/admin/offices/kita/closures", data)
    assert response.status_code == 422
    assert message in response.text and f'id="f-{field}-error"' in response.text
    assert _count(engine, Closure) == 0 and _count(engine, AuditEntry) == 0


def test_service_hours_and_cutoff(admin_client, engine, office):
    """Mornings only with a 30-minute cut-off, linked from the service page."""
    assert 'href="/admin/offices/kita/services/zei/hours"' in admin_client.get(
        "/admin/offices/kita/services/zei").text
    data = {f"day_{key}": "08:30-12:00" for key in ("mon", "tue", "wed", "thu", "fri")}
    response = _post(admin_client, "/admin/offices/kita/services/zei/hours",
                     {**data, "cutoff": "30", "rows": "1"})
    assert response.status_code == 303, response.text
    page = admin_client.get(response.headers["location"])
    assert 'value="30"' in page.text and "08:30-12:00" in page.text
    with Session(engine) as session:
        assert session.exec(select(ServiceCutoff)).one().minutes == 30
        assert all(row.service_id == 1 for row in session.exec(select(OpeningRange)))
        actions = {entry.action for entry in session.exec(select(AuditEntry))}
    assert actions == {"hours_changed", "cutoff_changed"}


@pytest.mark.parametrize("cutoff", ["abc", "-5", "1441", "9" * 5000, "1e3"])
def test_bad_cutoffs_are_refused(admin_client, engine, office, cutoff):
    """Text, negative and huge numbers: a message in the page, nothing written."""
    response = _post(admin_client, "/admin/offices/kita/services/zei/hours",
                     {"day_mon": "08:30-12:00", "cutoff": cutoff})
    assert response.status_code == 422 and 'id="f-cutoff-error"' in response.text
    assert _count(engine, OpeningRange) == 0 and _count(engine, ServiceCutoff) == 0


def test_unknown_office_or_service_is_not_found(admin_client, office):
    """Addresses naming nothing are 404."""
    assert admin_client.get("/admin/offices/nope/hours").status_code == 404
    assert admin_client.get("/admin/offices/kita/services/nope/hours").status_code == 404
    assert admin_client.get("/admin/offices/nope/closures").status_code == 404


ROUTES = [("GET", "/admin/offices/kita/hours"), ("POST", "/admin/offices/kita/hours"),
          ("GET", "/admin/offices/kita/closures"), ("POST", "/admin/offices/kita/closures"),
          ("POST", "/admin/offices/kita/closures/1/remove"),
          ("GET", "/admin/offices/kita/services/zei/hours"),
          ("POST", "/admin/offices/kita/services/zei/hours")]


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_only_admins_reach_the_hours_pages(client, staff_client, manager_client, engine, office,
                                           method, url):
    """Anonymous: sent to sign in; staff and managers: 403; nothing written."""
    with database.session_scope(engine) as session:
        session.add(Closure(office_id=1, first_day=date(2027, 1, 1),
                            last_day=date(2027, 1, 1), name="x"))
    data = {"day_mon": "08:30-12:00", "name": "y", "first_day": "2027-02-01", "cutoff": "5"}
    anonymous = client.request(method, url, data=data if method == "POST" else None,
                               follow_redirects=False)
    assert anonymous.status_code in (303, 401, 403)
    for signed_in in (staff_client, manager_client):
        response = signed_in.request(method, url, data=data if method == "POST" else None,
                                     follow_redirects=False)
        assert response.status_code == 403
    assert _count(engine, OpeningRange) == 0 and _count(engine, Closure) == 1
    assert _count(engine, AuditEntry) == 0
