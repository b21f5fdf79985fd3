"""The retention rule: personal details are deleted a fixed time after a visit ends.

Events and analytics stay: they never held personal data. A visit that was never closed
(the resident left mid-way and staff forgot to cancel) counts as ended at the end of its
ticket day, so nothing personal lingers because of a forgotten ticket.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlmodel import Session

from counter.models import Visit, VisitDetails
from frontyard import audit


def purge_cutoff(now: datetime, retention_hours: int) -> datetime:
    """Visits that ended before this instant lose their personal details."""
    return now - timedelta(hours=retention_hours)


def purge_personal_data(session: Session, now: datetime, retention_hours: int,
                        tz: ZoneInfo) -> int:
    """Delete expired personal details; returns how many visits were purged (audited)."""
    cutoff = purge_cutoff(now, retention_hours)
    # An unclosed visit ended at the latest when its ticket day ended in the city's zone.
    last_open_day = (cutoff.astimezone(tz) - timedelta(days=1)).date()
    expired = select(Visit.id).where(
        or_(Visit.closed_at < cutoff,
            (Visit.closed_at.is_(None)) & (Visit.ticket_day <= last_open_day))  # type: ignore[union-attr]
    )
    visit_ids = [row for row in session.scalars(
        select(VisitDetails.visit_id).where(VisitDetails.visit_id.in_(expired))  # type: ignore[attr-defined]
    )]
    if visit_ids:
        session.execute(delete(VisitDetails).where(
            VisitDetails.visit_id.in_(visit_ids)))  # type: ignore[attr-defined]
        audit.record(session, None, "purge", None, visits=len(visit_ids),
                     cutoff=cutoff.isoformat())
    return len(visit_ids)

