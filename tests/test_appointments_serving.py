"""The serving rule: a checked-in appointment whose time has come goes ahead of walk-ins,
at most FRONTYARD_PRIORITY_STREAK in a row while walk-ins wait; without bookings, as before."""

from __future__ import annotations

from datetime import timedelta

from counter import queue
from counter.appointments import booking as bookings
from counter.appointments import checkin
from counter.models import Service, Task, Visit
from frontyard.database import session_scope, utcnow
from tests.appointments_helpers import NOW, RULES, TZ, at, make_bookable
from tests.screens_support import issue, open_counter
from tests.screens_support import office as office  # a fixture, used by name

QUEUE_RULES = queue.QueueRules(tz=TZ, priority_streak=2)


def _walk_in(engine, world, now):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return queue.issue_ticket(session, office_id=world.office_id,
                                  service_codes=["insurance"], now=now).ticket_number


def _booked(engine, world, start, arrive, index):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        service = bookings.bookable_service(session, world.office_id, "insurance")
        code = bookings.book(session, service=service, start=start, name="R",
                             contact=f"r{index}@example.org", locale="ja", rules=RULES,
                             now=NOW).checkin_code
    with session_scope(engine) as session:
        return checkin.check_in(session, office_id=world.office_id, code=code, rules=RULES,
                                queue_rules=QUEUE_RULES, now=arrive)[1].ticket_number


def _calls(engine, world, count, now):  # type: ignore[no-untyped-def]
    counter, user = world.counters[0], world.staff[0]
    numbers = []
    for _ in range(count):
        with session_scope(engine) as session:
            task = queue.call_next(session, counter, user, now, rules=QUEUE_RULES)
            if task is None:
                break
            numbers.append(_number(session, task))
            queue.start(session, task.id, user, now)
            queue.complete(session, task.id, user, now)
    return numbers


def _number(session, task: Task) -> str:  # type: ignore[no-untyped-def]
    return session.get(Visit, task.visit_id).ticket_number


def _open(engine, world):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        queue.open_counter(session, world.counters[0], world.staff[0],
                           [world.services["insurance"]], now=at(9))


def test_due_appointments_go_ahead_of_walk_ins_within_the_streak(engine, world):
    make_bookable(engine, world.services["insurance"], "wed 09:00-12:00 15 5")
    _open(engine, world)
    walk_ins = [_walk_in(engine, world, at(9, 30) + timedelta(minutes=n)) for n in range(3)]
    booked = [_booked(engine, world, at(10), at(9, 40) + timedelta(minutes=n), n)
              for n in range(3)]
    # At 10:00 the three appointments are due: two go ahead, then a walk-in, then the third.
    assert _calls(engine, world, 6, at(10)) == [booked[0], booked[1], walk_ins[0], booked[2],
                                                walk_ins[1], walk_ins[2]]


def test_appointments_not_yet_due_wait_in_line(engine, world):
    make_bookable(engine, world.services["insurance"], "wed 09:00-12:00 15 5")
    _open(engine, world)
    walk_in = _walk_in(engine, world, at(9, 30))
    booked = _booked(engine, world, at(10), at(9, 40), 0)
    assert _calls(engine, world, 2, at(9, 45)) == [walk_in, booked]


def test_without_bookings_the_order_is_unchanged(engine, world):
    _open(engine, world)
    walk_ins = [_walk_in(engine, world, at(9, 30) + timedelta(minutes=n)) for n in range(3)]
    assert _calls(engine, world, 3, at(10)) == walk_ins


def test_the_waiting_list_marks_booked_tickets_and_orders_them_like_call_next(engine, world):
    make_bookable(engine, world.services["insurance"], "wed 09:00-12:00 15 5")
    walk_in = _walk_in(engine, world, at(9, 30))
    booked = _booked(engine, world, at(10), at(9, 40), 0)
    with session_scope(engine) as session:
        early = queue.waiting_list(session, service_ids=[world.services["insurance"]],
                                   now=at(9, 45))
        due = queue.waiting_list(session, service_ids=[world.services["insurance"]],
                                 now=at(10))
    assert [(e.ticket_number, e.booked_at) for e in early] == [(walk_in, None), (booked, at(10))]
    assert [e.ticket_number for e in due] == [booked, walk_in]



def test_the_terminal_shows_the_booked_badge(app, staff_client, office, engine):
    """A checked-in booked ticket carries a badge with its booked time on the terminal."""
    make_bookable(engine, office.services["insurance"], "mon-sun 00:00-24:00 15 5")
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=30)
    start = start.replace(minute=start.minute - start.minute % 15)
    with session_scope(engine) as session:
        service = session.get(Service, office.services["insurance"])
        code = bookings.book(session, service=service, start=start, name="R",
                             contact="r@example.org", locale="en", rules=RULES,
                             now=start - timedelta(hours=2)).checkin_code
    with session_scope(engine) as session:
        number = checkin.check_in(session, office_id=office.id, code=code, rules=RULES,
                                  queue_rules=QUEUE_RULES)[1].ticket_number
    walk_in = issue(app, office, ["insurance"])
    open_counter(staff_client, office, "4", ["insurance"])
    page = staff_client.get("/counter", headers={"Accept-Language": "en"}).text
    local = start.astimezone(TZ).strftime("%H:%M").lstrip("0")
    assert f'<th scope="row">{number} <span class="badge booked"' in page
    assert "Booked for" in page and local.split(":")[1] in page
    assert f'<th scope="row">{walk_in.number}</th>' in page or walk_in.number in page


def test_analytics_compare_appointments_and_walk_ins(engine, world):
    from analytics.appointments import appointment_figures

    make_bookable(engine, world.services["insurance"], "wed 09:00-12:00 15 5")
    _open(engine, world)
    walk_in = _walk_in(engine, world, at(9, 30))
    _booked(engine, world, at(10), at(9, 50), 0)  # checked in 10 minutes early
    with session_scope(engine) as session:
        service = bookings.bookable_service(session, world.office_id, "insurance")
        bookings.book(session, service=service, start=at(11), name="N", contact="n@example.org",
                      locale="ja", rules=RULES, now=NOW)
    with session_scope(engine) as session:
        checkin.mark_no_shows(session, RULES, now=at(11, 30))
    assert _calls(engine, world, 2, at(10, 5))[1] == walk_in  # the due booking went first
    with session_scope(engine) as session:
        figures = appointment_figures(session, world.office_id, at(0), at(23))
    assert (figures.booked, figures.checked_in, figures.no_shows, figures.cancelled) == (2, 1, 1, 0)
    assert figures.mean_arrival_minutes == -10
    assert figures.mean_wait_booked == 15 and figures.mean_wait_walk_in == 35
