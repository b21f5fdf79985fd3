"""The event log: how the engine appends its `Event` rows, in the caller's transaction.

Separate because it is the one place the queue announces what happened: every change records
its events here, and each is handed to the listeners of `counter.events` (the composition layer
registers analytics there), so the queue knows nothing of who follows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from counter import events
from counter.models import Event, EventKind, Task, Visit
from counter.queue.rows import _service
from counter.queue.rules import step_name


def _record(session: Session, kind: EventKind, now: datetime, *, office_id: int,
            visit: Visit | None = None, task: Task | None = None,
            service_id: int | None = None, step: str | None = None,
            counter_id: int | None = None, user_id: int | None = None,
            **data: Any) -> Event:
    """Append one event to the log, in the caller's transaction."""
    event = Event(
        at=now, kind=kind, office_id=office_id,
        visit_id=visit.id if visit else (task.visit_id if task else None),
        task_id=task.id if task else None,
        service_id=service_id if service_id is not None else (task.service_id if task else None),
        step=step, counter_id=counter_id, staff_user_id=user_id, data=data,
    )
    session.add(event)
    # Listeners (analytics' rollups) act in this same transaction: they commit with the event.
    events.recorded(session, event)
    return event


def _record_task(session: Session, kind: EventKind, now: datetime, task: Task, visit: Visit,
                 user_id: int | None, *, counter_id: int | None = None,
                 service_id: int | None = None, with_step: bool = False, **data: Any) -> Event:
    """An event about a task, with its service, counter and (optionally) current step.

    Flushes first, so the change the event records reaches the database before it.
    """
    session.flush()
    step = step_name(_service(session, task.service_id), task.step_index) if with_step else None
    return _record(session, kind, now, office_id=visit.office_id, visit=visit, task=task,
                   service_id=service_id, step=step,
                   counter_id=counter_id if counter_id is not None else task.counter_id,
                   user_id=user_id, **data)
