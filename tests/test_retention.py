"""The retention rule deletes personal details on time and keeps events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from counter.models import Event, EventKind, Office, Visit, VisitDetails
from counter.retention import purge_personal_data
from frontyard.audit import AuditEntry
from frontyard.database import session_scope

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo


def _visit(session, office, number, day, closed_at):  # type: ignore[no-untyped-def]
    visit = Visit(office_id=office.id, ticket_number=number, ticket_day=day,
                  status_token=f"token-{number}", closed_at=closed_at,
                  issued_at=datetime.combine(day, datetime.min.time(), tzinfo=TOKYO))
    session.add(visit)
    session.flush()
    session.add(VisitDetails(visit_id=visit.id, data={"name": f"Resident {number}"}))
    session.add(Event(kind=EventKind.ISSUED, office_id=office.id, visit_id=visit.id,
                      at=visit.issued_at))
    return visit


def test_purge_deletes_only_expired_details_and_keeps_events(engine):
    """Closed long ago or abandoned on an earlier day: purged. Recent or open today: kept."""
    with session_scope(engine) as session:
        office = Office(code="o", names={"ja": "庁舎"})
        session.add(office)
        session.flush()
        old = _visit(session, office, "A-001", date(2026, 4, 7), NOW - timedelta(hours=49))
        recent = _visit(session, office, "A-002", date(2026, 4, 9), NOW - timedelta(hours=47))
        abandoned = _visit(session, office, "A-003", date(2026, 4, 7), None)
        today = _visit(session, office, "A-004", date(2026, 4, 10), None)
    with session_scope(engine) as session:
        assert purge_personal_data(session, NOW, 48, TOKYO) == 2
    with session_scope(engine) as session:
        remaining = {d.visit_id for d in session.exec(select(VisitDetails))}
        assert remaining == {recent.id, today.id}
        assert old.id not in remaining and abandoned.id not in remaining
        assert len(session.exec(select(Event)).all()) == 4
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "purge")).one()
        assert entry.detail["visits"] == 2
    with session_scope(engine) as session:
        assert purge_personal_data(session, NOW, 48, TOKYO) == 0


def test_running_service_purges_at_start(app, engine):
    """The in-process job applies the rule when the service starts (then hourly)."""
    import time

    from tests.conftest import make_client

    long_ago = datetime.now(UTC) - timedelta(days=10)
    with session_scope(engine) as session:
        office = Office(code="o2", names={"ja": "庁舎"})
        session.add(office)
        session.flush()
        _visit(session, office, "B-001", long_ago.date(), long_ago)
    with make_client(app):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with session_scope(engine) as session:
                if not session.exec(select(VisitDetails)).all():
                    break
            time.sleep(0.05)
    with session_scope(engine) as session:
        assert session.exec(select(VisitDetails)).all() == []
