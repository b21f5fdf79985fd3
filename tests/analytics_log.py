"""A small builder that writes an event log directly (offices, services, counters, staff, visits,
tasks and their events), so analytics tests depend on the Event table only."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from analytics.rollups import apply_events
from counter.models import Counter, Event, EventKind, Office, Service, Task, Visit
from frontyard.auth import Role, User

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(text: str) -> datetime:
    """An aware instant from Tokyo wall-clock text, e.g. ``"2026-04-06 09:00:30"``."""
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


class EventLog:
    """Writes rows and events; with `incremental`, every event updates the rollups at once."""

    def __init__(self, session: Session, *, incremental: bool = True) -> None:
        self.session = session
        self.incremental = incremental
        self.office = self._add(Office(code=f"office-{secrets.token_hex(3)}"))
        self.events: list[Event] = []

    def _add(self, row: Any) -> Any:
        """Insert a row and give it its id."""
        self.session.add(row)
        self.session.flush()
        return row

    def service(self, code: str, steps: Iterable[str] = ()) -> int:
        """A service (queue) of this office; returns its id."""
        return self._add(Service(office_id=self.office.id, code=code, prefix=code[:1].upper(),
                                 steps=list(steps))).id

    def counter(self, number: str) -> int:
        """A counter of this office; returns its id."""
        return self._add(Counter(office_id=self.office.id, number=number)).id

    def staff(self, username: str) -> int:
        """A staff account (no real password: these tests never sign in); returns its id."""
        return self._add(User(username=username, password_hash="-", role=Role.STAFF)).id

    def visit(self, number: str, issued_at: datetime, service_id: int | None = None,
              *, issue: bool = True) -> int:
        """A visit, with its `issued` event unless `issue` is False; returns the visit id."""
        visit = self._add(Visit(office_id=self.office.id, ticket_number=number,
                                ticket_day=issued_at.astimezone(TOKYO).date(),
                                status_token=secrets.token_hex(16), issued_at=issued_at))
        if issue:
            self.event(EventKind.ISSUED, issued_at, visit_id=visit.id, service_id=service_id)
        return visit.id

    def task(self, visit_id: int, service_id: int, position: int = 0) -> int:
        """A task of a visit at a service; returns the task id."""
        return self._add(Task(visit_id=visit_id, service_id=service_id, position=position)).id

    def event(self, kind: EventKind, at: datetime, **fields: Any) -> Event:
        """Write one event (and update the rollups when incremental)."""
        fields.setdefault("data", {})
        event = self._add(Event(kind=kind, at=at, office_id=self.office.id, **fields))
        self.events.append(event)
        if self.incremental:
            apply_events(self.session, [event])
        return event

    def task_event(self, kind: EventKind, at: datetime, visit_id: int, task_id: int,
                   service_id: int, **fields: Any) -> Event:
        """Write one event of a task."""
        return self.event(kind, at, visit_id=visit_id, task_id=task_id, service_id=service_id,
                          **fields)

    def served(self, visit_id: int, task_id: int, service_id: int, queued: str, called: str,
               started: str, done: str, counter_id: int | None = None,
               staff_user_id: int | None = None, step: str | None = None) -> None:
        """The plain path: queued → called → started → done (Tokyo wall-clock times)."""
        where = {"counter_id": counter_id, "staff_user_id": staff_user_id}
        self.task_event(EventKind.QUEUED, tokyo(queued), visit_id, task_id, service_id,
                        step=step)
        self.task_event(EventKind.CALLED, tokyo(called), visit_id, task_id, service_id,
                        step=step, **where)
        self.task_event(EventKind.STARTED, tokyo(started), visit_id, task_id, service_id,
                        step=step, **where)
        self.task_event(EventKind.DONE, tokyo(done), visit_id, task_id, service_id,
                        step=step, **where)

    def close(self, visit_id: int, at: datetime) -> None:
        """The visit ends."""
        self.event(EventKind.VISIT_CLOSED, at, visit_id=visit_id)

    def open_counter(self, counter_id: int, staff_user_id: int | None, at: datetime,
                     service_ids: Iterable[int] = ()) -> None:
        """A staff member signs in to a counter for some services."""
        self.event(EventKind.COUNTER_OPENED, at, counter_id=counter_id,
                   staff_user_id=staff_user_id, data={"service_ids": list(service_ids)})

    def close_counter(self, counter_id: int, staff_user_id: int | None, at: datetime) -> None:
        """The counter closes."""
        self.event(EventKind.COUNTER_CLOSED, at, counter_id=counter_id,
                   staff_user_id=staff_user_id)


def day(text: str) -> date:
    """A date from ISO text."""
    return date.fromisoformat(text)
