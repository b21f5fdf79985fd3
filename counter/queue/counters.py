"""Counters: signing staff in and out, and calling tickets to a counter (next, chosen, again).

Separate from the other transitions because these are the ones a counter takes part in: its
lock comes first, its priority streak decides the order, and it must be open and free.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, exists
from sqlmodel import Session, col, select

from counter.appointments.models import Booking
from counter.models import Counter, CounterService, EventKind, Service, Task, TaskState, Visit
from counter.queue.eventlog import _record, _record_task
from counter.queue.permissions import allowed, check_may_serve
from counter.queue.rows import _counter_service_ids, _lock_counter, _lock_task
from counter.queue.rules import (
    AT_COUNTER_STATES,
    DEFAULT_RULES,
    Action,
    CounterBusy,
    CounterClosed,
    IllegalTransition,
    QueueRules,
    _now,
    _require,
)
from frontyard.database import plain_rows
from frontyard.errors import NotFound, ValidationFailed
from frontyard.i18n import gettext as _

# ---------------------------------------------------------------------------------------------
# Counters
# ---------------------------------------------------------------------------------------------


def open_counter(session: Session, counter_id: int, user_id: int, service_ids: Iterable[int],
                 now: datetime | None = None) -> Counter:
    """Sign a staff member in to a counter, serving the chosen services.

    Calling it again while signed in to the same counter changes the services. Raises
    CounterClosed when someone else is signed in there, CounterBusy when the staff member is
    signed in to another counter, ValidationFailed for services of another office.
    Returns the counter.
    """
    now = _now(now)
    counter = _lock_counter(session, counter_id)
    wanted = sorted(set(service_ids))
    valid = set(session.exec(select(Service.id).where(
        Service.office_id == counter.office_id, col(Service.active).is_(True),
        col(Service.id).in_(wanted))))
    if not wanted or set(wanted) - valid:
        message = _("Choose one or more services of this office.")
        raise ValidationFailed(message, service_ids=message)
    check_may_serve(session, user_id, wanted, counter.id)
    if counter.is_open and counter.staff_user_id != user_id:
        raise CounterClosed(_("Someone else is signed in to counter %(counter)s.")
                            % {"counter": counter.number})
    elsewhere = session.exec(select(Counter).where(
        col(Counter.is_open).is_(True), Counter.staff_user_id == user_id,
        Counter.id != counter.id)).first()
    if elsewhere is not None:
        raise CounterBusy(_("You are signed in to counter %(counter)s; close it first.")
                          % {"counter": elsewhere.number})
    for link in session.exec(select(CounterService).where(CounterService.counter_id == counter_id)):
        session.delete(link)
    session.flush()
    session.add_all(CounterService(counter_id=counter_id, service_id=service_id)
                    for service_id in wanted)
    kind = EventKind.COUNTER_SERVICES if counter.is_open else EventKind.COUNTER_OPENED
    if not counter.is_open:
        counter.is_open = True
        counter.staff_user_id = user_id
        counter.opened_at = now
        counter.priority_streak = 0
    session.add(counter)
    session.flush()
    _record(session, kind, now, office_id=counter.office_id, counter_id=counter.id,
            user_id=user_id, service_ids=wanted)
    return counter


def close_counter(session: Session, counter_id: int, user_id: int,
                  now: datetime | None = None) -> Counter:
    """Sign the staff member out of a counter (anyone may close a forgotten one).

    Raises CounterClosed when it is not open and CounterBusy while it has a ticket in hand.
    The chosen services are remembered for the next opening. Returns the counter.
    """
    now = _now(now)
    counter = _lock_counter(session, counter_id)
    if not counter.is_open:
        raise CounterClosed(_("Counter %(counter)s is already closed.")
                            % {"counter": counter.number})
    _check_free(session, counter)
    signed_in = counter.staff_user_id
    counter.is_open = False
    counter.staff_user_id = None
    counter.opened_at = None
    counter.priority_streak = 0
    session.add(counter)
    session.flush()
    _record(session, EventKind.COUNTER_CLOSED, now, office_id=counter.office_id,
            counter_id=counter.id, user_id=user_id, signed_in_user_id=signed_in)
    return counter


def _check_signed_in(counter: Counter, user_id: int) -> None:
    """A call needs the counter open with this staff member signed in to it."""
    if not counter.is_open or counter.staff_user_id != user_id:
        raise CounterClosed(_("Sign in to counter %(counter)s before calling tickets.")
                            % {"counter": counter.number})


def _check_free(session: Session, counter: Counter) -> None:
    """A counter calls the next ticket, or closes, only once the ticket in hand is finished,
    returned or held."""
    busy = plain_rows(session, _TICKET_AT_COUNTER, {"counter_id": counter.id}).first()
    if busy is not None:
        raise CounterBusy(
            _("Counter %(counter)s still has %(number)s; finish, return or hold it first.")
            % {"counter": counter.number, "number": busy.ticket_number})


# Prebuilt: every call reads it.
_TICKET_AT_COUNTER = (
    select(Visit.ticket_number).join(Task, col(Task.visit_id) == Visit.id)
    .where(Task.counter_id == bindparam("counter_id"),
           col(Task.state).in_(list(AT_COUNTER_STATES)))
    .limit(1))

# ---------------------------------------------------------------------------------------------
# Calling
# ---------------------------------------------------------------------------------------------


def _give_to_counter(session: Session, task: Task, visit: Visit, counter: Counter,
                     user_id: int, now: datetime, *, ahead: bool | None = None) -> Task:
    """Hand a waiting task to a counter; updates the counter's priority streak.

    `ahead`: the task was called ahead of the line (priority, or an appointment whose time
    has come); None counts only priority."""
    task.state = TaskState.CALLED
    task.counter_id = counter.id
    task.staff_user_id = user_id
    task.called_at = now
    task.call_count += 1
    jumped = visit.priority if ahead is None else ahead
    counter.priority_streak = counter.priority_streak + 1 if jumped else 0
    _record_task(session, EventKind.CALLED, now, task, visit, user_id,
                 count=task.call_count, priority=visit.priority)
    return task


def _booking_due(now: datetime) -> Any:
    """SQL: the task's visit checked in for an appointment whose time has come."""
    return exists().where(col(Booking.visit_id) == Task.visit_id,
                          col(Booking.slot_start) <= now)


def _next_candidate(session: Session, service_ids: list[int], *, normal_only: bool,
                    now: datetime) -> Task | None:
    """The first waiting task in call order: priority first, then checked-in appointments
    whose time has come, then by place in line (without appointments: as before).

    On PostgreSQL the row is locked with SKIP LOCKED, so a concurrent call at another counter
    moves on to the next task instead of waiting for (or taking) this one.
    """
    due = _booking_due(now)
    statement = (
        select(Task).join(Visit, col(Visit.id) == Task.visit_id)
        .where(col(Task.service_id).in_(service_ids), Task.state == TaskState.WAITING)
        .order_by(col(Visit.priority).desc(), case((due, 1), else_=0).desc(),
                  col(Task.ranked_at), col(Task.id))
        .limit(1)
        .with_for_update(skip_locked=True, of=Task)
        .execution_options(populate_existing=True)
    )
    if normal_only:
        statement = statement.where(col(Visit.priority).is_(False), ~due)
    return session.exec(statement).first()


def call_next(session: Session, counter_id: int, user_id: int, now: datetime | None = None,
              *, rules: QueueRules = DEFAULT_RULES) -> Task | None:
    """Call the next ticket to a counter; None when nobody waits in its services.

    Order: among the counter's services, priority tickets first, each group by place in line
    (longest waiting first). Fairness: after `rules.priority_streak` priority calls in a row
    at this counter, the longest-waiting normal ticket is called if one waits. A checked-in
    appointment whose booked time has come (`counter.appointments`) goes ahead of walk-ins
    like a priority ticket and counts in the same streak, so walk-ins are never starved.

    Raises CounterClosed unless `user_id` is signed in to the counter, CounterBusy while it
    still has a ticket called or being served. Returns the called task.
    """
    now = _now(now)
    counter = _lock_counter(session, counter_id)
    _check_signed_in(counter, user_id)
    _check_free(session, counter)
    # An admin may have restricted the staff member or the counter since it was opened.
    service_ids = allowed(session, user_id, counter_id, _counter_service_ids(session, counter_id))
    if not service_ids:
        return None
    task = None
    if counter.priority_streak >= rules.priority_streak:
        task = _next_candidate(session, service_ids, normal_only=True, now=now)
    if task is None:
        task = _next_candidate(session, service_ids, normal_only=False, now=now)
    if task is None:
        return None
    # The visit is read, not locked: its number and priority never change, and locking it
    # after the task would invert the counter → visit → task lock order.
    visit = session.get(Visit, task.visit_id)
    assert visit is not None
    if task.state != TaskState.WAITING:  # cannot happen under the locks; never hand it twice
        raise IllegalTransition(task, visit.ticket_number, Action.CALL)
    ahead = visit.priority or session.exec(
        select(Booking.id).where(Booking.visit_id == visit.id,
                                 col(Booking.slot_start) <= now)).first() is not None
    return _give_to_counter(session, task, visit, counter, user_id, now, ahead=ahead)


def call_task(session: Session, task_id: int, counter_id: int, user_id: int,
              now: datetime | None = None) -> Task:
    """Call a specific waiting ticket to a counter, out of order (any service of the office).

    Raises IllegalTransition unless the task is waiting, CounterClosed/CounterBusy as
    `call_next`, NotFound for a task of another office. Returns the called task.
    """
    now = _now(now)
    counter = _lock_counter(session, counter_id)
    _check_signed_in(counter, user_id)
    task, visit = _lock_task(session, task_id)
    if visit.office_id != counter.office_id:
        raise NotFound(_("This ticket does not exist."))
    check_may_serve(session, user_id, [task.service_id], counter.id)
    _require(task, visit, Action.CALL)
    _check_free(session, counter)
    return _give_to_counter(session, task, visit, counter, user_id, now)


def recall(session: Session, task_id: int, user_id: int, now: datetime | None = None) -> Task:
    """Call a called ticket again (the board shows and speaks it once more)."""
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    check_may_serve(session, user_id, [task.service_id])
    _require(task, visit, Action.RECALL)
    task.call_count += 1
    task.called_at = now
    _record_task(session, EventKind.RECALLED, now, task, visit, user_id, count=task.call_count)
    return task
