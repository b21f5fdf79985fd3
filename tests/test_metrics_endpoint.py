"""/metrics: Prometheus text with request latencies and live queue sizes, for admins only."""

from __future__ import annotations

from datetime import date

from counter.models import Office, Service, Task, TaskState, Visit
from frontyard.database import session_scope, utcnow


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
    assert 'frontyard_waiting_tasks{service="residents"} 3.0' in body
    assert 'frontyard_request_seconds_count{method="GET",route="/locale/{code}",status="3xx"} 1.0' \
        in body
    assert "frontyard_realtime_subscriptions" in body
