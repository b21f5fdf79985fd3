"""What happens to a ticket once called: serving, its steps, completion, and the exceptions.

Separate from calling (`counters`) because these act on one task and its visit only: no
counter is locked, and a finished or cancelled task hands its visit over to `routing`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from counter.models import EventKind, Task, TaskState
from counter.queue.eventlog import _record_task
from counter.queue.permissions import check_may_serve
from counter.queue.routing import _route
from counter.queue.rows import _lock_task, _service, _visit_tasks
from counter.queue.rules import FINAL_STATES, MAX_REASON, Action, LastStep, _now, _require
from frontyard.i18n import gettext as _

# ---------------------------------------------------------------------------------------------
# Serving
# ---------------------------------------------------------------------------------------------


def start(session: Session, task_id: int, user_id: int, now: datetime | None = None) -> Task:
    """The resident has arrived at the counter: serving begins (at the task's current step)."""
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.START)
    task.state = TaskState.SERVING
    task.started_at = now
    task.staff_user_id = user_id
    _record_task(session, EventKind.STARTED, now, task, visit, user_id, with_step=True)
    return task


def advance_step(session: Session, task_id: int, user_id: int,
                 now: datetime | None = None) -> Task:
    """Move a task being served to its service's next step (受付 → 確認 → 審査 → 交付).

    Raises LastStep when it is at the last step (or the service has no steps).
    """
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.ADVANCE)
    service = _service(session, task.service_id)
    if task.step_index + 1 >= len(service.steps):
        raise LastStep(_("%(number)s is at the last step; complete it instead.")
                       % {"number": visit.ticket_number})
    task.step_index += 1
    _record_task(session, EventKind.STEP, now, task, visit, user_id, with_step=True,
                 index=task.step_index)
    return task


def complete(session: Session, task_id: int, user_id: int, now: datetime | None = None) -> Task:
    """Finish a task; the visit's next task joins its queue, or the visit closes after the last.

    Returns the finished task (read `visit_progress` for what comes next).
    """
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.COMPLETE)
    task.state = TaskState.DONE
    task.done_at = now
    _record_task(session, EventKind.DONE, now, task, visit, user_id, with_step=True)
    _route(session, visit, now, user_id)
    return task

# ---------------------------------------------------------------------------------------------
# Exceptions to the happy path
# ---------------------------------------------------------------------------------------------


def no_show(session: Session, task_id: int, user_id: int, now: datetime | None = None) -> Task:
    """The called resident did not come; the counter is free again. `return_to_queue` undoes."""
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.NO_SHOW)
    counter_id = task.counter_id
    task.state = TaskState.NO_SHOW
    task.counter_id = None
    _record_task(session, EventKind.NO_SHOW, now, task, visit, user_id, counter_id=counter_id,
                 count=task.call_count)
    return task


def return_to_queue(session: Session, task_id: int, user_id: int,
                    now: datetime | None = None) -> Task:
    """Put a no-show (who came back) or a called ticket back in line, at its old place."""
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.RETURN)
    counter_id, previous = task.counter_id, task.state
    task.state = TaskState.WAITING
    task.counter_id = None
    task.staff_user_id = None
    task.queued_at = now
    _record_task(session, EventKind.RETURNED, now, task, visit, user_id, counter_id=counter_id,
                 previous=str(previous))
    return task


def hold(session: Session, task_id: int, user_id: int, now: datetime | None = None,
         reason: str | None = None) -> Task:
    """Put a ticket aside (e.g. the resident fetches a document); it keeps its place in line.

    Allowed while waiting, called or being served (the counter becomes free).
    """
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.HOLD)
    reason = (reason or "").strip()[:MAX_REASON] or None
    counter_id, previous = task.counter_id, task.state
    task.state = TaskState.ON_HOLD
    task.counter_id = None
    task.hold_reason = reason
    _record_task(session, EventKind.HELD, now, task, visit, user_id, counter_id=counter_id,
                 reason=reason, previous=str(previous))
    return task


def release(session: Session, task_id: int, user_id: int, now: datetime | None = None) -> Task:
    """Put a held ticket back in line at the place it had."""
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.RELEASE)
    task.state = TaskState.WAITING
    task.hold_reason = None
    task.staff_user_id = None
    task.queued_at = now
    _record_task(session, EventKind.RELEASED, now, task, visit, user_id)
    return task


def cancel(session: Session, task_id: int, user_id: int, now: datetime | None = None,
           reason: str | None = None, whole_visit: bool = False) -> Task:
    """Cancel a task (the procedure is not needed, or the resident left).

    With `whole_visit`, every unfinished task of the visit is cancelled and the visit closes;
    otherwise the visit's next task joins its queue if this one was the active one.
    """
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.CANCEL)
    reason = (reason or "").strip()[:MAX_REASON] or None
    targets = [task]
    if whole_visit:
        targets = [other for other in _visit_tasks(session, visit.id, lock=True)
                   if other.state not in FINAL_STATES]
    for target in targets:
        counter_id = target.counter_id
        target.state = TaskState.CANCELLED
        target.counter_id = None
        _record_task(session, EventKind.CANCELLED, now, target, visit, user_id,
                     counter_id=counter_id, reason=reason)
    _route(session, visit, now, user_id)
    return task
