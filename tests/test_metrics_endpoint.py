"""/metrics: Prometheus text with request latencies, live queue sizes, today's calls and waits."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, generate_latest

from analytics.live_figures import QueueCollector, wait_buckets
from counter import queue
from counter.models import Office, Service, Task, TaskState, Visit
from frontyard.database import session_scope, utcnow
from tests.screens_support import office as office  # a fixture, used by name

TOKYO = ZoneInfo("Asia/Tokyo")


def test_metrics_refused_to_anonymous_and_staff(client, staff_client):
    """Remote callers must be admins (local scrapers are allowed)."""
    assert client.get("/metrics").status_code == 403
    assert staff_client.get("/metrics").status_code == 403


def test_metrics_show_waiting_tasks_and_request_latency(admin_client, engine):
    """Queue sizes come from the database; request latency is labelled by route template."""
    with session_scope(engine) as session:
        office = Office(code="m", names={"ja": "庁舎"})
        session.add(office)
        session.flush()
        service = Service(office_id=office.id, code="residents", prefix="A",
                          names={"ja": "市民課"})
        session.add(service)
        session.flush()
        for number in range(3):
            visit = Visit(office_id=office.id, ticket_number=f"A-00{number}",
                          ticket_day=date(2026, 4, 1), status_token=f"t{number}")
            session.add(visit)
            session.flush()
            session.add(Task(visit_id=visit.id, service_id=service.id, position=0,
                             state=TaskState.WAITING, queued_at=utcnow()))
    admin_client.get("/locale/en?next=/")
    body = admin_client.get("/metrics").text
    assert 'frontyard_waiting_tasks{office="m",service="residents"} 3.0' in body
    assert 'frontyard_request_seconds_count{method="GET",route="/locale/{code}",status="3xx"} 1.0' \
        in body
    assert "frontyard_realtime_subscriptions" in body


def _at(hour: int, minute: int = 0, second: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 4, day, hour, minute, second, tzinfo=TOKYO).astimezone(UTC)


def test_calls_and_waits_of_the_local_day(engine, world):
    """Calls, recalls and the wait histogram count today's facts only, per office and service."""
    staff, counter = world.staff[0], world.counters[0]
    residents = world.services["residents"]
    with session_scope(engine) as session:
        # Yesterday: one ticket issued and called; it must not count today.
        queue.open_counter(session, counter, staff, [residents], now=_at(9, day=1))
        old = queue.issue_ticket(session, office_id=world.office_id,
                                 service_codes=["insurance"], now=_at(9, 5, day=1))
        queue.open_counter(session, counter, staff, [world.services["insurance"]],
                           now=_at(9, 6, day=1))
        queue.call_next(session, counter, staff, now=_at(9, 10, day=1))
        task = queue.visit_tasks(session, old)[0]
        queue.cancel(session, task.id, staff, now=_at(9, 11, day=1), whole_visit=True)
        # Today: A waits 300 s and is recalled once; B waits 940 s.
        queue.open_counter(session, counter, staff, [residents], now=_at(10, day=2))
        first = queue.issue_ticket(session, office_id=world.office_id,
                                   service_codes=["residents"], now=_at(10, 0, 0, day=2))
        queue.issue_ticket(session, office_id=world.office_id, service_codes=["residents"],
                           now=_at(10, 1, 0, day=2))
        called = queue.call_next(session, counter, staff, now=_at(10, 5, 0, day=2))
        assert called is not None and called.visit_id == first.id
        queue.recall(session, called.id, staff, now=_at(10, 5, 10, day=2))
        queue.cancel(session, called.id, staff, now=_at(10, 6, day=2), whole_visit=True)
        queue.call_next(session, counter, staff, now=_at(10, 16, 40, day=2))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(engine, TOKYO, clock=lambda: _at(12, day=2)))
    body = generate_latest(registry).decode()
    assert 'frontyard_calls_total{kind="call",office="test",service="residents"} 2.0' in body
    assert 'frontyard_calls_total{kind="recall",office="test",service="residents"} 1.0' in body
    assert 'service="insurance"' not in body  # yesterday's call
    wait = 'frontyard_wait_seconds_bucket{le="%s",office="test",service="residents"} %s'
    assert wait % ("60.0", "0.0") in body
    assert wait % ("300.0", "1.0") in body
    assert wait % ("900.0", "1.0") in body
    assert wait % ("1200.0", "2.0") in body
    assert wait % ("+Inf", "2.0") in body
    assert 'frontyard_wait_seconds_sum{office="test",service="residents"} 1240.0' in body


def test_wait_buckets_are_cumulative():
    """Each bucket counts the waits up to its bound; +Inf counts them all."""
    buckets = dict(wait_buckets([30.0, 60.0, 61.0, 10_000.0]))
    assert buckets["60.0"] == 2 and buckets["300.0"] == 3 and buckets["7200.0"] == 3
    assert buckets["+Inf"] == 4


def test_connected_screens_are_counted(admin_client, office):
    """Each open websocket of this worker counts; a closed one no longer does."""
    from tests.screens_support import receive_state

    with admin_client.websocket_connect(f"/ws/board?office={office.id}") as board, \
            admin_client.websocket_connect(f"/ws/crowding?office={office.id}") as crowding:
        receive_state(board)
        receive_state(crowding)
        assert "frontyard_websocket_clients 2.0" in admin_client.get("/metrics").text
    deadline = time.monotonic() + 5  # the server notices the closes asynchronously
    while "frontyard_websocket_clients 0.0" not in admin_client.get("/metrics").text:
        assert time.monotonic() < deadline, "closed sockets are still counted"
        time.sleep(0.05)
