"""The screens' bulk read models agree with the queue engine's own per-visit answers."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from counter import queue, views
from counter.models import Visit
from counter.statuses import resident_statuses
from frontyard import database
from tests.screens_support import office as office  # a fixture, used by name
from tests.screens_support import user_id


def test_resident_statuses_match_the_engine(engine, users, office):
    """People ahead, estimated wait, step and counter equal `queue.visit_progress` for every
    visit at once, priority tickets and an open counter with a handling history included."""
    start = database.utcnow() - timedelta(hours=1)
    staff = user_id(engine, "staff1")
    with database.session_scope(engine) as session:
        visits = []
        for minute, (codes, priority) in enumerate([
                (["residents", "insurance"], False), (["residents"], True), (["residents"], False),
                (["residents"], False),
                (["insurance"], False), (["residents"], True), (["tax"], False)]):
            visits.append(queue.issue_ticket(
                session, office_id=office.id, service_codes=codes, priority=priority,
                now=start + timedelta(minutes=minute)).id)
        queue.open_counter(session, office.counters["1"], staff, [office.services["residents"]],
                           start)
        counter = office.counters["1"]
        served = queue.call_next(session, counter, staff, start + timedelta(minutes=10))
        assert served is not None
        queue.start(session, served.id, staff, start + timedelta(minutes=11))
        queue.complete(session, served.id, staff, start + timedelta(minutes=19))
        queue.call_next(session, counter, staff, start + timedelta(minutes=20))
    now = start + timedelta(minutes=30)
    with Session(engine) as session:
        statuses = resident_statuses(session, visits, now)
        for visit_id in visits:
            visit = session.get(Visit, visit_id)
            expected = queue.visit_progress(session, visit, now)  # type: ignore[arg-type]
            status = statuses[visit_id]
            assert (status.state, status.people_ahead, status.estimated_wait) == (
                expected.state, expected.people_ahead, expected.estimated_wait), visit_id
            assert (status.task_number, status.task_count, status.step_name) == (
                expected.task_number, expected.task_count, expected.step_name)
            assert (status.counter.id if status.counter else None) == (
                expected.counter.id if expected.counter else None)
    assert {s.state for s in statuses.values()} >= {"waiting", "called"}
    assert any(s.people_ahead and s.people_ahead > 1 for s in statuses.values())


def test_wait_formula_matches_the_engine(engine, office):
    """`views.wait_for` is the engine's n × h / c rounded up to minutes."""
    with Session(engine) as session:
        for ahead in range(0, 7):
            assert views.wait_for(ahead, queue.DEFAULT_HANDLING, 1.0) == queue.estimated_wait(
                session, office.services["tax"], ahead=ahead)
