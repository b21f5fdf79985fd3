"""Routing multi-step visits: a task joins its queue, the visit moves on, a task changes service.

Separate because one-stop service (one number, several procedures in turn) is its own concept:
finishing or cancelling a task, issuing a ticket and transferring all hand over to it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from counter.models import EventKind, Service, Task, TaskState, Visit
from counter.queue.eventlog import _record, _record_task
from counter.queue.permissions import check_may_serve
from counter.queue.rows import _lock_task, _visit_tasks
from counter.queue.rules import (
    ACTIVE_STATES,
    DEFAULT_RULES,
    Action,
    Placement,
    QueueRules,
    _now,
    _require,
)
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _


def _enqueue(session: Session, task: Task, visit: Visit, now: datetime, user_id: int | None,
             *, ranked_at: datetime | None = None, **data: Any) -> None:
    """Put a task into its service's queue (state waiting) and log it."""
    task.state = TaskState.WAITING
    task.queued_at = now
    task.ranked_at = ranked_at or now
    task.counter_id = None
    task.staff_user_id = None
    task.hold_reason = None
    _record_task(session, EventKind.QUEUED, now, task, visit, user_id, with_step=True, **data)


def _route(session: Session, visit: Visit, now: datetime, user_id: int | None) -> Task | None:
    """One-stop routing: when no task of the visit is active, queue its next one or close it.

    Returns the task that entered a queue, if any.
    """
    tasks = _visit_tasks(session, visit.id, lock=True)
    if any(task.state in ACTIVE_STATES for task in tasks):
        return None
    pending = [task for task in tasks if task.state == TaskState.PENDING]
    if pending:
        _enqueue(session, pending[0], visit, now, user_id)
        return pending[0]
    visit.closed_at = now
    session.add(visit)
    _record(session, EventKind.VISIT_CLOSED, now, office_id=visit.office_id, visit=visit,
            user_id=user_id)
    session.flush()
    return None


def _front_of(session: Session, service_id: int, now: datetime) -> datetime:
    first = session.exec(select(func.min(Task.ranked_at)).where(
        Task.service_id == service_id,
        col(Task.state).in_([TaskState.WAITING, TaskState.ON_HOLD]))).first()
    return min(first - timedelta(milliseconds=1), now) if first else now


def transfer(session: Session, task_id: int, target_service_id: int, user_id: int,
             now: datetime | None = None, *, rules: QueueRules = DEFAULT_RULES) -> Task:
    """Move a task to another service of the office; the visit keeps its number.

    An active task joins the target queue (waiting, placed by `rules.transfer_placement`) and
    starts that service from its first step; a pending task just changes service. Raises
    ValidationFailed for the same or an unknown service. Returns the task.
    """
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.TRANSFER)
    target = session.get(Service, target_service_id)
    if (target is None or target.office_id != visit.office_id or not target.active
            or target.id == task.service_id):
        message = _("Choose another service of this office.")
        raise ValidationFailed(message, target_service_id=message)
    source_id, counter_id, was_pending = task.service_id, task.counter_id, (
        task.state == TaskState.PENDING)
    task.service_id = target.id  # type: ignore[assignment]
    task.step_index = 0
    task.started_at = None
    task.called_at = None
    task.call_count = 0
    _record_task(session, EventKind.TRANSFERRED, now, task, visit, user_id,
                 counter_id=counter_id, service_id=source_id, to_service_id=target.id,
                 placement=str(rules.transfer_placement))
    if not was_pending:
        ranked_at = {
            Placement.FRONT: _front_of(session, target.id, now),  # type: ignore[arg-type]
            Placement.ORIGINAL: task.ranked_at or now,
            Placement.BACK: now,
        }[rules.transfer_placement]
        _enqueue(session, task, visit, now, user_id, ranked_at=ranked_at, transfer=True)
    return task
