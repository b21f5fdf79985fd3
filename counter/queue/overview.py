"""Reading the queue for the screens and the API: waiting lists, calls, counts, a visit's progress.

Separate because it only reads: the read models handed to the screens, and the queries that
fill them (no locks, no events).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from counter.appointments.models import Booking
from counter.models import (
    Counter,
    CounterService,
    Event,
    EventKind,
    Service,
    Task,
    TaskState,
    Visit,
)
from counter.queue.estimates import estimated_wait, people_ahead
from counter.queue.rows import _counter_service_ids, _service, _visit_tasks
from counter.queue.rules import AT_COUNTER_STATES, FINAL_STATES, _now, step_name
from frontyard.database import plain_rows
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _

# ---------------------------------------------------------------------------------------------
# Read models handed to the screens
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingEntry:
    """One ticket in a waiting list, in the order `call_next` would take them."""

    task_id: int
    visit_id: int
    ticket_number: str
    service_id: int
    state: TaskState  # waiting or on_hold
    priority: bool
    queued_at: datetime
    minutes_waited: int
    task_number: int  # this task is the n-th of the visit…
    task_count: int  # …out of this many
    procedure_code: str | None
    hold_reason: str | None
    #: The booked time of a resident who checked in for an appointment, else None.
    booked_at: datetime | None = None


@dataclass(frozen=True)
class CallEntry:
    """A ticket at a counter: called (resident on the way) or being served."""

    task_id: int
    visit_id: int
    ticket_number: str
    service_id: int
    counter_id: int
    counter_number: str
    state: TaskState
    called_at: datetime
    call_count: int
    locale: str


@dataclass(frozen=True)
class ServiceOverview:
    """How one service's queue stands now (the crowding page and the board)."""

    service: Service
    waiting: int
    on_hold: int
    counters_open: int
    estimated_wait: timedelta
    longest_wait: timedelta  # of the tickets waiting now; zero when none waits


@dataclass(frozen=True)
class CounterView:
    """A counter with the services it serves and the ticket it has in hand."""

    counter: Counter
    service_ids: list[int]
    current: Task | None


@dataclass(frozen=True)
class VisitProgress:
    """Where a visit stands, for the resident's status page and the staff terminal.

    `task_number` of `task_count` is the visit's "step 2 of 4" (its procedures); `step_name`
    with `step_number` of `step_count` is the step within the current service (受付 → 交付).
    Nothing here is personal data.
    """

    ticket_number: str
    closed: bool
    current_task: Task | None
    current_service: Service | None
    state: TaskState | None  # the current task's state; None once the visit is closed
    task_number: int  # 1-based position of the current task; task_count when closed
    task_count: int
    step_name: str | None
    step_number: int  # 1-based; 0 when the service has no steps
    step_count: int
    people_ahead: int | None  # only while waiting
    estimated_wait: timedelta | None  # only while waiting
    counter: Counter | None  # only while called or being served
    remaining_services: list[Service] = field(default_factory=list)  # after the current one

# ---------------------------------------------------------------------------------------------
# Reading the queue (for the screens and the API)
# ---------------------------------------------------------------------------------------------


def _minutes_between(start: datetime | None, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60)) if start else 0


def waiting_list(session: Session, *, service_ids: Iterable[int] | None = None,
                 counter_id: int | None = None, office_id: int | None = None,
                 include_held: bool = True, limit: int | None = None,
                 now: datetime | None = None) -> list[WaitingEntry]:
    """Tickets waiting (and on hold) in the given services, a counter's services or an office,
    in call order (priority first, then place in line), with minutes waited.

    `limit` keeps only the first tickets in line; tickets on hold are always all listed,
    because only this list lets staff release them.
    """
    now = _now(now)
    if counter_id is not None:
        service_ids = _counter_service_ids(session, counter_id)
    rows = list(session.exec(_waiting_rows(TaskState.WAITING, service_ids, office_id)
                             .limit(limit)).all())
    if include_held:
        rows += session.exec(_waiting_rows(TaskState.ON_HOLD, service_ids, office_id)).all()
        rows.sort(key=lambda row: (not row[1].priority, row[0].ranked_at or now, row[0].id))
    counts = _task_counts(session, [visit.id for _, visit in rows])  # type: ignore[misc]
    booked = _booked_times(session, [visit.id for _, visit in rows])  # type: ignore[misc]
    if booked:  # due appointments go ahead of walk-ins (call_next's rule, streak aside)
        rows.sort(key=lambda row: (not row[1].priority,
                                   not (row[1].id in booked and booked[row[1].id] <= now),
                                   row[0].ranked_at or now, row[0].id))
    return [
        WaitingEntry(
            task_id=task.id, visit_id=visit.id, ticket_number=visit.ticket_number,  # type: ignore[arg-type]
            service_id=task.service_id, state=task.state, priority=visit.priority,
            queued_at=task.queued_at or now,
            minutes_waited=_minutes_between(task.queued_at, now),
            task_number=task.position + 1, task_count=counts.get(visit.id, 1),  # type: ignore[arg-type]
            procedure_code=task.procedure_code, hold_reason=task.hold_reason,
            booked_at=booked.get(visit.id),  # type: ignore[arg-type]
        )
        for task, visit in rows
    ]


def _booked_times(session: Session, visit_ids: list[int]) -> dict[int, datetime]:
    """The booked time of each visit that checked in for an appointment."""
    if not visit_ids:
        return {}
    return {visit_id: start for visit_id, start in session.exec(
        select(Booking.visit_id, Booking.slot_start)
        .where(col(Booking.visit_id).in_(visit_ids))).all()}  # type: ignore[misc]


def _waiting_rows(state: TaskState, service_ids: Iterable[int] | None,
                  office_id: int | None) -> Any:
    """The (task, visit) rows in one state, in call order."""
    statement = (select(Task, Visit).join(Visit, col(Visit.id) == Task.visit_id)
                 .where(Task.state == state))
    if service_ids is not None:
        statement = statement.where(col(Task.service_id).in_(list(service_ids)))
    if office_id is not None:
        statement = statement.where(Visit.office_id == office_id)
    return statement.order_by(col(Visit.priority).desc(), col(Task.ranked_at), col(Task.id))


def _task_counts(session: Session, visit_ids: list[int]) -> dict[int, int]:
    if not visit_ids:
        return {}
    return dict(session.exec(
        select(Task.visit_id, func.count()).where(col(Task.visit_id).in_(visit_ids))
        .group_by(col(Task.visit_id))).all())


def current_calls(session: Session, office_id: int, *,
                  states: Iterable[TaskState] = (TaskState.CALLED,)) -> list[CallEntry]:
    """Tickets at counters now (by default only those called and not yet started), the most
    recently called first: the board's "number → counter" list."""
    # A prebuilt statement returning plain rows: the board reads this on every change.
    rows = plain_rows(
        session, _CURRENT_CALLS, {"office_id": office_id, "states": list(states)})
    return [
        CallEntry(task_id=task_id, visit_id=visit_id, ticket_number=ticket_number,
                  service_id=service_id, counter_id=counter_id, counter_number=counter_number,
                  state=state, called_at=called_at, call_count=call_count, locale=locale)
        for (task_id, visit_id, ticket_number, service_id, counter_id, counter_number, state,
             called_at, call_count, locale) in rows
    ]


_CURRENT_CALLS = (
    select(Task.id, Visit.id, Visit.ticket_number, Task.service_id, Counter.id,
           Counter.number, Task.state, Task.called_at, Task.call_count, Visit.locale)
    .join(Visit, col(Visit.id) == Task.visit_id)
    .join(Counter, col(Counter.id) == Task.counter_id)
    .where(Visit.office_id == bindparam("office_id"),
           col(Task.state).in_(bindparam("states", expanding=True)))
    .order_by(col(Task.called_at).desc(), col(Task.id).desc()))


def recent_calls(session: Session, office_id: int, limit: int = 10) -> list[Event]:
    """The last calls and recalls in the office, newest first (the board's history)."""
    return list(session.exec(
        select(Event).where(Event.office_id == office_id,
                            col(Event.kind).in_([EventKind.CALLED, EventKind.RECALLED]))
        .order_by(col(Event.at).desc(), col(Event.id).desc()).limit(limit)).all())


def waiting_counts(session: Session, office_id: int,
                   services: Iterable[Service] | None = None) -> dict[int, int]:
    """Tasks waiting per service of the office (every active service, zeros included; pass
    the office's active `services` when they are read already)."""
    service_ids = (session.exec(select(Service.id).where(
        Service.office_id == office_id, col(Service.active).is_(True))) if services is None
        else (service.id for service in services))
    counts = dict.fromkeys(service_ids, 0)
    counts.update((service_id, waiting) for service_id, waiting
                  in plain_rows(session, _WAITING_COUNTS, {"office_id": office_id}))
    return counts  # type: ignore[return-value]


_WAITING_COUNTS = (
    select(Task.service_id, func.count()).join(Service, col(Service.id) == Task.service_id)
    .where(Service.office_id == bindparam("office_id"), Task.state == TaskState.WAITING)
    .group_by(col(Task.service_id)))


def queue_overview(session: Session, office_id: int,
                   now: datetime | None = None) -> list[ServiceOverview]:
    """Every active service of the office with its waiting count, counters open, estimated
    wait and the longest current wait, in the office's service order."""
    now = _now(now)
    services = session.exec(select(Service).where(
        Service.office_id == office_id, col(Service.active).is_(True))
        .order_by(col(Service.sort_order), col(Service.id))).all()
    oldest: dict[int | None, datetime | None] = dict(session.exec(
        select(Task.service_id, func.min(Task.queued_at))
        .where(Task.state == TaskState.WAITING).group_by(col(Task.service_id))).all())
    held: dict[int | None, int] = dict(session.exec(
        select(Task.service_id, func.count())
        .where(Task.state == TaskState.ON_HOLD).group_by(col(Task.service_id))).all())
    counts = waiting_counts(session, office_id)
    open_counters: dict[int | None, int] = dict(session.exec(
        select(CounterService.service_id, func.count())
        .join(Counter, col(Counter.id) == CounterService.counter_id)
        .where(col(Counter.is_open).is_(True)).group_by(col(CounterService.service_id))).all())
    result = []
    for service in services:
        first_queued = oldest.get(service.id)
        result.append(ServiceOverview(
            service=service, waiting=counts.get(service.id, 0),  # type: ignore[arg-type]
            on_hold=held.get(service.id, 0), counters_open=open_counters.get(service.id, 0),
            estimated_wait=estimated_wait(session, service.id, now),  # type: ignore[arg-type]
            longest_wait=max(now - first_queued, timedelta()) if first_queued else timedelta(),
        ))
    return result


def _task_at_counter(session: Session, counter_id: int) -> Task | None:
    return session.exec(
        select(Task).where(Task.counter_id == counter_id,
                           col(Task.state).in_(AT_COUNTER_STATES))
    ).first()


def counter_view(session: Session, counter_id: int) -> CounterView:
    """A counter, its services and the ticket it has in hand (called or being served)."""
    counter = session.get(Counter, counter_id)
    if counter is None:
        raise NotFound(_("This counter does not exist."))
    return CounterView(counter=counter, service_ids=_counter_service_ids(session, counter_id),
                       current=_task_at_counter(session, counter_id))


def visit_tasks(session: Session, visit: Visit) -> list[Task]:
    """The visit's tasks in visiting order (the staff terminal's "what is left")."""
    return _visit_tasks(session, visit.id)


def visit_progress(session: Session, visit: Visit, now: datetime | None = None) -> VisitProgress:
    """Where a visit stands: current task and step, people ahead, estimated wait, counter.

    The current task is the first one not done or cancelled; everything is None/0 about it
    once the visit is closed.
    """
    now = _now(now)
    tasks = _visit_tasks(session, visit.id)
    current = next((task for task in tasks if task.state not in FINAL_STATES), None)
    if current is None:
        return VisitProgress(
            ticket_number=visit.ticket_number, closed=True, current_task=None,
            current_service=None, state=None, task_number=len(tasks), task_count=len(tasks),
            step_name=None, step_number=0, step_count=0, people_ahead=None,
            estimated_wait=None, counter=None)
    service = _service(session, current.service_id)
    ahead = wait = None
    if current.state == TaskState.WAITING:
        ahead = people_ahead(session, current)
        wait = estimated_wait(session, current.service_id, now, ahead=ahead)
    counter = None
    if current.state in AT_COUNTER_STATES and current.counter_id is not None:
        counter = session.get(Counter, current.counter_id)
    later = [task.service_id for task in tasks if task.position > current.position
             and task.state not in FINAL_STATES]
    return VisitProgress(
        ticket_number=visit.ticket_number, closed=False, current_task=current,
        current_service=service, state=current.state,
        task_number=tasks.index(current) + 1, task_count=len(tasks),
        step_name=step_name(service, current.step_index),
        step_number=current.step_index + 1 if service.steps else 0,
        step_count=len(service.steps), people_ahead=ahead, estimated_wait=wait,
        counter=counter, remaining_services=[_service(session, sid) for sid in later],
    )
