"""The dashboard's "Appointments and walk-ins" section: the period's figures for the office,
and nothing of it for an office without bookings."""

from __future__ import annotations

import csv
import io

from counter.appointments import booking as bookings
from counter.appointments import checkin
from counter.models import Office
from frontyard.database import session_scope
from tests.appointments_helpers import NOW, RULES, at, make_bookable
from tests.test_appointments_serving import _booked, _calls, _open, _walk_in

DAY = f"start={NOW.date().isoformat()}&end={NOW.date().isoformat()}"


def test_the_dashboard_compares_appointments_and_walk_ins(engine, world, manager_client):
    make_bookable(engine, world.services["insurance"], "wed 09:00-12:00 15 5")
    _open(engine, world)
    _walk_in(engine, world, at(9, 30))
    _booked(engine, world, at(10), at(9, 50), 0)  # checked in 10 minutes early
    with session_scope(engine) as session:
        service = bookings.bookable_service(session, world.office_id, "insurance")
        bookings.book(session, service=service, start=at(11), name="N", contact="n@example.org",
                      locale="ja", rules=RULES, now=NOW)
    with session_scope(engine) as session:
        checkin.mark_no_shows(session, RULES, now=at(11, 30))
        other = Office(code="quiet", names={"en": "Quiet branch"})
        session.add(other)
        session.flush()
        other_id = other.id
    _calls(engine, world, 2, at(10, 5))  # the booking waited 15 minutes, the walk-in 35
    headers = {"Accept-Language": "en"}
    page = manager_client.get(f"/analytics?{DAY}&office={world.office_id}", headers=headers)
    assert page.status_code == 200, page.text
    text = page.text
    assert "Appointments and walk-ins" in text
    for name, value in [("booked", "2"), ("checked-in", "1"), ("missed", "1"),
                        ("cancelled", "0"), ("arrival", "-10 min"),
                        ("wait-booked", "15 min"), ("wait-walk-in", "35 min")]:
        assert f"<dd data-{name}>{value}</dd>" in text, name
    assert "/analytics/export/appointments.csv" in text
    export = manager_client.get(f"/analytics/export/appointments.csv?{DAY}"
                                f"&office={world.office_id}")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0] == ["booked", "checked_in", "no_shows", "cancelled", "mean_arrival_seconds",
                       "mean_wait_booked_seconds", "mean_wait_walk_in_seconds"]
    assert [float(value) for value in rows[1]] == [2, 1, 1, 0, -600, 900, 2100]
    japanese = manager_client.get(f"/analytics?{DAY}&office={world.office_id}",
                                  headers={"Accept-Language": "ja"}).text
    assert "予約来庁と予約なし来庁" in japanese
    quiet = manager_client.get(f"/analytics?{DAY}&office={other_id}", headers=headers)
    assert quiet.status_code == 200
    assert "Appointments and walk-ins" not in quiet.text and "data-booked" not in quiet.text
    assert "/analytics/export/appointments.csv" not in quiet.text
