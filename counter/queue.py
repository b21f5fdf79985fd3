"""The queue engine: tickets, counters and the life of every task, with its event log.

Pure domain: plain functions over a SQLModel session, no HTTP. Every function that changes
state also appends its `Event` rows to the same session, and only flushes: the caller commits
(normally inside `frontyard.database.session_scope`), so a change and its events are stored
together or not at all.

Concurrency. Every function that changes a task first locks the rows it reads, in one order
(counter → visit → task), so concurrent actions serialise instead of overwriting each other:
- SQLite: the engine starts every transaction with BEGIN IMMEDIATE, so writers take turns.
- PostgreSQL: `SELECT … FOR UPDATE` on those rows; `call_next` takes the first waiting task
  with `FOR UPDATE SKIP LOCKED`, so two counters can never claim the same task; ticket numbers
  come from one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement.

States of a task (see docs/queue.md for the full diagram)::

    pending ──(previous task finished)──▶ waiting ◀──release── on_hold
    waiting ──call──▶ called ──start──▶ serving ──complete──▶ done
    called ──recall──▶ called            serving ──advance_step──▶ serving (next step)
    called ──no_show──▶ no_show ──return_to_queue──▶ waiting
    waiting/called/serving ──hold──▶ on_hold        called ──return_to_queue──▶ waiting
    any unfinished ──transfer──▶ waiting in another service (pending stays pending)
    any unfinished ──cancel──▶ cancelled

Illegal moves raise `IllegalTransition` (a `frontyard.errors.Conflict`, HTTP 409).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from analytics.rollups import defer_rollups
from counter.models import (
    Counter,
    CounterService,
    Event,
    EventKind,
    Office,
    Service,
    Task,
    TaskState,
    TicketSequence,
    Visit,
    VisitDetails,
)
from frontyard.database import plain_rows, utcnow
from frontyard.errors import Conflict, NotFound, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.i18n import is_supported, lazy_gettext

if TYPE_CHECKING:
    from frontyard.settings import Settings

# ---------------------------------------------------------------------------------------------
# Rules (from settings) and constants
# ---------------------------------------------------------------------------------------------


class Placement(StrEnum):
    """Where a transferred task joins its new queue (`FRONTYARD_TRANSFER_PLACEMENT`)."""

    FRONT = "front"  # first in line there (priority tickets still go first)
    ORIGINAL = "original"  # at its old place in line: when it first joined a queue
    BACK = "back"  # behind everyone, as if it had just arrived


#: FRONTYARD_TIMEZONE's default; callers pass the configured zone through QueueRules.
DEFAULT_TZ = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class QueueRules:
    """The configurable rules of the engine; build one with `QueueRules.from_settings`."""

    #: The city's time zone: ticket numbers restart at its midnight.
    tz: tzinfo = DEFAULT_TZ
    #: After this many priority calls in a row at one counter, a waiting normal ticket is next.
    priority_streak: int = 3
    #: Where a transferred task is placed in its new queue.
    transfer_placement: Placement = Placement.ORIGINAL

    @classmethod
    def from_settings(cls, settings: Settings) -> QueueRules:
        """The rules configured by FRONTYARD_TIMEZONE, _PRIORITY_STREAK, _TRANSFER_PLACEMENT."""
        return cls(tz=settings.tz, priority_streak=settings.priority_streak,
                   transfer_placement=Placement(settings.transfer_placement))


DEFAULT_RULES = QueueRules()

#: Tasks that are in a queue or at a counter: a visit has at most one of them at a time.
ACTIVE_STATES = frozenset({TaskState.WAITING, TaskState.ON_HOLD, TaskState.CALLED,
                           TaskState.SERVING, TaskState.NO_SHOW})
#: Tasks that will not change any more.
FINAL_STATES = frozenset({TaskState.DONE, TaskState.CANCELLED})
#: Tasks occupying a counter: a counter holds at most one.
AT_COUNTER_STATES = frozenset({TaskState.CALLED, TaskState.SERVING})

#: Estimated wait: how many recent completions per service to average, and how far back.
HANDLING_SAMPLE = 20
HANDLING_WINDOW = timedelta(days=7)
#: Assumed handling time of a service that has no completed task in the window yet.
DEFAULT_HANDLING = timedelta(minutes=5)

STATUS_TOKEN_BYTES = 32  # 256 bits: unguessable, fits Visit.status_token (64 chars)
MAX_TASKS_PER_VISIT = 20
MAX_REASON = 200
MAX_PROCEDURE_CODE = 64  # Task.procedure_code


class Action(StrEnum):
    """What staff can do to a task; each is allowed only from certain states."""

    CALL = "call"
    RECALL = "recall"
    START = "start"
    ADVANCE = "advance"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    RETURN = "return"
    HOLD = "hold"
    RELEASE = "release"
    TRANSFER = "transfer"
    CANCEL = "cancel"


_UNFINISHED = frozenset(TaskState) - FINAL_STATES
#: The transition table: the states each action may start from.
ALLOWED_FROM: dict[Action, frozenset[TaskState]] = {
    Action.CALL: frozenset({TaskState.WAITING}),
    Action.RECALL: frozenset({TaskState.CALLED}),
    Action.START: frozenset({TaskState.CALLED}),
    Action.ADVANCE: frozenset({TaskState.SERVING}),
    Action.COMPLETE: frozenset({TaskState.SERVING}),
    Action.NO_SHOW: frozenset({TaskState.CALLED}),
    Action.RETURN: frozenset({TaskState.NO_SHOW, TaskState.CALLED}),
    Action.HOLD: frozenset({TaskState.WAITING, TaskState.CALLED, TaskState.SERVING}),
    Action.RELEASE: frozenset({TaskState.ON_HOLD}),
    Action.TRANSFER: _UNFINISHED,
    Action.CANCEL: _UNFINISHED,
}

#: Translated names of the states and actions, for messages and the screens.
STATE_LABELS: dict[TaskState, Any] = {
    TaskState.PENDING: lazy_gettext("not yet in line"),
    TaskState.WAITING: lazy_gettext("waiting"),
    TaskState.ON_HOLD: lazy_gettext("on hold"),
    TaskState.CALLED: lazy_gettext("called"),
    TaskState.SERVING: lazy_gettext("being served"),
    TaskState.NO_SHOW: lazy_gettext("no-show"),
    TaskState.DONE: lazy_gettext("done"),
    TaskState.CANCELLED: lazy_gettext("cancelled"),
}
ACTION_LABELS: dict[Action, Any] = {
    Action.CALL: lazy_gettext("call the ticket"),
    Action.RECALL: lazy_gettext("call again"),
    Action.START: lazy_gettext("start serving"),
    Action.ADVANCE: lazy_gettext("next step"),
    Action.COMPLETE: lazy_gettext("complete the task"),
    Action.NO_SHOW: lazy_gettext("mark as no-show"),
    Action.RETURN: lazy_gettext("return to the queue"),
    Action.HOLD: lazy_gettext("put on hold"),
    Action.RELEASE: lazy_gettext("release the hold"),
    Action.TRANSFER: lazy_gettext("transfer to another service"),
    Action.CANCEL: lazy_gettext("cancel the ticket"),
}

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class QueueConflict(Conflict):
    """The queue refuses an action in its current state (HTTP 409, translated message)."""


class IllegalTransition(QueueConflict):
    """The action is not allowed from the task's state, e.g. starting a waiting ticket."""

    def __init__(self, task: Task, ticket_number: str, action: Action) -> None:
        super().__init__(
            _("%(number)s: “%(action)s” is not possible while the ticket is %(state)s.")
            % {"number": ticket_number, "action": ACTION_LABELS[action],
               "state": STATE_LABELS[task.state]},
        )
        self.task_id = task.id
        self.state = task.state
        self.action = action


class LastStep(QueueConflict):
    """`advance_step` on a task already at its service's last step."""


class CounterClosed(QueueConflict):
    """The counter is closed, or someone else is signed in to it."""


class CounterBusy(QueueConflict):
    """The counter (or the staff member) already has a ticket or a counter in hand."""


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
# Helpers
# ---------------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime given to the queue engine")
    return now


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _locked(session: Session, model: type[Any], key: int, missing: Any) -> Any:
    """Load a row for update (fresh from the database); `missing` is the NotFound message."""
    row = session.exec(
        select(model).where(model.id == key).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound(missing)
    return row


def _lock_counter(session: Session, counter_id: int) -> Counter:
    return _locked(session, Counter, counter_id, _("This counter does not exist."))  # type: ignore[no-any-return]


def _lock_task(session: Session, task_id: int) -> tuple[Task, Visit]:
    """The task and its visit, both locked (visit first: one visit's changes take turns)."""
    visit_id = session.exec(select(Task.visit_id).where(Task.id == task_id)).first()
    if visit_id is None:
        raise NotFound(_("This ticket does not exist."))
    visit: Visit = _locked(session, Visit, visit_id, _("This ticket does not exist."))
    task: Task = _locked(session, Task, task_id, _("This ticket does not exist."))
    return task, visit


def _require(task: Task, visit: Visit, action: Action) -> None:
    if task.state not in ALLOWED_FROM[action]:
        raise IllegalTransition(task, visit.ticket_number, action)


def _service(session: Session, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(_("This service does not exist."))
    return service


def step_name(service: Service, index: int) -> str | None:
    """The name of a service's step by index (受付…), or None for a service without steps."""
    return service.steps[index] if 0 <= index < len(service.steps) else None


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
    # The analytics rollups count it when this transaction commits (same transaction).
    defer_rollups(session, event)
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


def _visit_tasks(session: Session, visit_id: int | None, *, lock: bool = False) -> list[Task]:
    statement = (select(Task).where(Task.visit_id == visit_id).order_by(col(Task.position))
                 .execution_options(populate_existing=True))
    return list(session.exec(statement.with_for_update() if lock else statement).all())


def _counter_service_ids(session: Session, counter_id: int) -> list[int]:
    return [service_id for (service_id,) in plain_rows(
        session, _COUNTER_SERVICE_IDS, {"counter_id": counter_id})]


def _task_at_counter(session: Session, counter_id: int) -> Task | None:
    return session.exec(
        select(Task).where(Task.counter_id == counter_id,
                           col(Task.state).in_(AT_COUNTER_STATES))
    ).first()


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


# Prebuilt: every call reads both.
_COUNTER_SERVICE_IDS = (
    select(CounterService.service_id)
    .where(CounterService.counter_id == bindparam("counter_id"))
    .order_by(col(CounterService.service_id)))
_TICKET_AT_COUNTER = (
    select(Visit.ticket_number).join(Task, col(Task.visit_id) == Visit.id)
    .where(Task.counter_id == bindparam("counter_id"),
           col(Task.state).in_(list(AT_COUNTER_STATES)))
    .limit(1))


def _give_to_counter(session: Session, task: Task, visit: Visit, counter: Counter,
                     user_id: int, now: datetime) -> Task:
    """Hand a waiting task to a counter; updates the counter's priority streak."""
    task.state = TaskState.CALLED
    task.counter_id = counter.id
    task.staff_user_id = user_id
    task.called_at = now
    task.call_count += 1
    counter.priority_streak = counter.priority_streak + 1 if visit.priority else 0
    _record_task(session, EventKind.CALLED, now, task, visit, user_id,
                 count=task.call_count, priority=visit.priority)
    return task


# ---------------------------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------------------------


def ticket_day(now: datetime, tz: tzinfo) -> date:
    """The local day a ticket issued at `now` belongs to (numbering restarts at midnight)."""
    return now.astimezone(tz).date()


def format_ticket_number(prefix: str, number: int) -> str:
    """`A-001`: the prefix and at least three digits."""
    return f"{prefix}-{number:03d}"


def next_ticket_number(session: Session, office_id: int, prefix: str, day: date) -> int:
    """Take the next number of (office, prefix, day) in one atomic statement.

    `INSERT … ON CONFLICT DO UPDATE SET last_number = last_number + 1 RETURNING last_number`
    both creates the day's counter at 1 and increments it; PostgreSQL locks the row for the
    rest of the transaction and SQLite runs it inside BEGIN IMMEDIATE, so no two tickets get
    the same number however many kiosks issue at once.
    """
    insert = postgresql_insert if _is_postgresql(session) else sqlite_insert
    table = TicketSequence.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(office_id=office_id, prefix=prefix, day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.office_id, table.c.prefix, table.c.day],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    return int(session.execute(statement).scalar_one())


def issue_ticket(
    session: Session, *, office_id: int, service_codes: Sequence[str], locale: str = "ja",
    priority: bool = False, details: dict[str, Any] | None = None, device_id: int | None = None,
    procedure_codes: Sequence[str | None] | None = None, now: datetime | None = None,
    rules: QueueRules = DEFAULT_RULES,
) -> Visit:
    """Issue one ticket for a visit: one number for the whole stay, one task per procedure.

    Args:
        office_id: the office whose lobby the resident is in.
        service_codes: the services to visit, in visiting order (one task each; repeat a code
            for two separate procedures at one service).
        locale: the resident's language (status page, spoken call).
        priority: a priority ticket (pregnancy, disability, frail…): called first, with the
            fairness rule of `call_next`.
        details: pre-filled personal details, stored apart (VisitDetails) and purged later;
            never copied into events.
        device_id: the kiosk that issued it, if any.
        procedure_codes: the procedure of each task, parallel to `service_codes`.
        now: the time of issue (aware); the number's day is its local day in `rules.tz`.

    Returns the new Visit (flushed, with its id, ticket_number and status_token). Its first
    task is waiting in its service's queue; the others are pending until their turn.

    Raises NotFound for an unknown office and ValidationFailed for unknown or inactive
    services, an unknown locale or a `procedure_codes` list of the wrong length.
    """
    now = _now(now)
    if session.get(Office, office_id) is None:
        raise NotFound(_("This office does not exist."))
    codes = list(service_codes)
    if not codes or len(codes) > MAX_TASKS_PER_VISIT:
        raise ValidationFailed(
            _("Choose between 1 and %(max)d procedures.") % {"max": MAX_TASKS_PER_VISIT},
            service_codes=_("Choose between 1 and %(max)d procedures.")
            % {"max": MAX_TASKS_PER_VISIT})
    services = {service.code: service for service in session.exec(
        select(Service).where(Service.office_id == office_id, col(Service.active).is_(True),
                              col(Service.code).in_(codes)))}
    unknown = sorted(set(codes) - set(services))
    if unknown:
        message = _("Unknown service: %(codes)s") % {"codes": ", ".join(unknown)}
        raise ValidationFailed(message, service_codes=message)
    if not is_supported(locale):
        message = _("Unknown language: %(code)s") % {"code": locale[:16]}
        raise ValidationFailed(message, locale=message)
    procedures = list(procedure_codes) if procedure_codes is not None else [None] * len(codes)
    if len(procedures) != len(codes) or any(
            code is not None and len(code) > MAX_PROCEDURE_CODE for code in procedures):
        message = _("Give one procedure per service, or none.")
        raise ValidationFailed(message, procedure_codes=message)

    first = services[codes[0]]
    day = ticket_day(now, rules.tz)
    number = next_ticket_number(session, office_id, first.prefix, day)
    visit = Visit(
        office_id=office_id, ticket_number=format_ticket_number(first.prefix, number),
        ticket_day=day, status_token=secrets.token_urlsafe(STATUS_TOKEN_BYTES),
        locale=locale, priority=priority, issued_at=now, issued_by_device_id=device_id,
    )
    session.add(visit)
    session.flush()
    tasks = [Task(visit_id=visit.id, service_id=services[code].id, position=index,  # type: ignore[arg-type]
                  procedure_code=procedure)
             for index, (code, procedure) in enumerate(zip(codes, procedures, strict=True))]
    session.add_all(tasks)
    if details:
        session.add(VisitDetails(visit_id=visit.id, data=details,  # type: ignore[arg-type]
                                 source="kiosk" if device_id else "manual", updated_at=now))
    session.flush()
    _record(session, EventKind.ISSUED, now, office_id=office_id, visit=visit,
            service_id=first.id, ticket=visit.ticket_number, services=codes,
            priority=priority, locale=locale, device_id=device_id)
    _enqueue(session, tasks[0], visit, now, None)
    return visit


def visit_for_token(session: Session, status_token: str) -> Visit | None:
    """The visit a status token (from the ticket's QR code) belongs to, or None."""
    if not status_token or len(status_token) > 64:
        return None
    return session.exec(select(Visit).where(Visit.status_token == status_token)).first()


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


# ---------------------------------------------------------------------------------------------
# Calling
# ---------------------------------------------------------------------------------------------


def _next_candidate(session: Session, service_ids: list[int], *, normal_only: bool) -> Task | None:
    """The first waiting task in call order: priority first, then by place in line.

    On PostgreSQL the row is locked with SKIP LOCKED, so a concurrent call at another counter
    moves on to the next task instead of waiting for (or taking) this one.
    """
    statement = (
        select(Task).join(Visit, col(Visit.id) == Task.visit_id)
        .where(col(Task.service_id).in_(service_ids), Task.state == TaskState.WAITING)
        .order_by(col(Visit.priority).desc(), col(Task.ranked_at), col(Task.id))
        .limit(1)
        .with_for_update(skip_locked=True, of=Task)
        .execution_options(populate_existing=True)
    )
    if normal_only:
        statement = statement.where(col(Visit.priority).is_(False))
    return session.exec(statement).first()


def call_next(session: Session, counter_id: int, user_id: int, now: datetime | None = None,
              *, rules: QueueRules = DEFAULT_RULES) -> Task | None:
    """Call the next ticket to a counter; None when nobody waits in its services.

    Order: among the counter's services, priority tickets first, each group by place in line
    (longest waiting first). Fairness: after `rules.priority_streak` priority calls in a row
    at this counter, the longest-waiting normal ticket is called if one waits.

    Raises CounterClosed unless `user_id` is signed in to the counter, CounterBusy while it
    still has a ticket called or being served. Returns the called task.
    """
    now = _now(now)
    counter = _lock_counter(session, counter_id)
    _check_signed_in(counter, user_id)
    _check_free(session, counter)
    service_ids = _counter_service_ids(session, counter_id)
    if not service_ids:
        return None
    task = None
    if counter.priority_streak >= rules.priority_streak:
        task = _next_candidate(session, service_ids, normal_only=True)
    if task is None:
        task = _next_candidate(session, service_ids, normal_only=False)
    if task is None:
        return None
    # The visit is read, not locked: its number and priority never change, and locking it
    # after the task would invert the counter → visit → task lock order.
    visit = session.get(Visit, task.visit_id)
    assert visit is not None
    if task.state != TaskState.WAITING:  # cannot happen under the locks; never hand it twice
        raise IllegalTransition(task, visit.ticket_number, Action.CALL)
    return _give_to_counter(session, task, visit, counter, user_id, now)


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
    _require(task, visit, Action.CALL)
    _check_free(session, counter)
    return _give_to_counter(session, task, visit, counter, user_id, now)


def recall(session: Session, task_id: int, user_id: int, now: datetime | None = None) -> Task:
    """Call a called ticket again (the board shows and speaks it once more)."""
    now = _now(now)
    task, visit = _lock_task(session, task_id)
    _require(task, visit, Action.RECALL)
    task.call_count += 1
    task.called_at = now
    _record_task(session, EventKind.RECALLED, now, task, visit, user_id, count=task.call_count)
    return task


# ---------------------------------------------------------------------------------------------
# Serving
# ---------------------------------------------------------------------------------------------


def start(session: Session, task_id: int, user_id: int, now: datetime | None = None) -> Task:
    """The resident has arrived at the counter: serving begins (at the task's current step)."""
    now = _now(now)
    task, visit = _lock_task(session, task_id)
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
    _require(task, visit, Action.RELEASE)
    task.state = TaskState.WAITING
    task.hold_reason = None
    task.staff_user_id = None
    task.queued_at = now
    _record_task(session, EventKind.RELEASED, now, task, visit, user_id)
    return task


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


def cancel(session: Session, task_id: int, user_id: int, now: datetime | None = None,
           reason: str | None = None, whole_visit: bool = False) -> Task:
    """Cancel a task (the procedure is not needed, or the resident left).

    With `whole_visit`, every unfinished task of the visit is cancelled and the visit closes;
    otherwise the visit's next task joins its queue if this one was the active one.
    """
    now = _now(now)
    task, visit = _lock_task(session, task_id)
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


# ---------------------------------------------------------------------------------------------
# Estimated wait
# ---------------------------------------------------------------------------------------------


def mean_handling_time(session: Session, service_id: int, now: datetime | None = None) -> timedelta:
    """h: the mean start → done time of the last HANDLING_SAMPLE tasks done at the service in
    the past HANDLING_WINDOW; DEFAULT_HANDLING when there are none."""
    now = _now(now)
    rows = plain_rows(session, _RECENT_HANDLING, {
        "service_id": service_id, "since": now - HANDLING_WINDOW, "until": now})
    durations = [done - started for started, done in rows if started and done and done >= started]
    if not durations:
        return DEFAULT_HANDLING
    return sum(durations, timedelta()) / len(durations)


def effective_counters(session: Session, service_id: int) -> float:
    """c: open counters serving the service, each counted as 1/k when it serves k services."""
    counters = plain_rows(session, _OPEN_COUNTER_LOADS, {"service_id": service_id})
    return sum(1 / served for _, served in counters)


# Prebuilt (the residents' status pages ask for every waiting service on every change).
_RECENT_HANDLING = (
    select(Task.started_at, Task.done_at)
    .where(Task.service_id == bindparam("service_id"), Task.state == TaskState.DONE,
           col(Task.done_at) >= bindparam("since"), col(Task.done_at) <= bindparam("until"),
           col(Task.started_at).is_not(None))
    .order_by(col(Task.done_at).desc()).limit(HANDLING_SAMPLE))
_OPEN_COUNTER_LOADS = (
    select(CounterService.counter_id, func.count())
    .join(Counter, col(Counter.id) == CounterService.counter_id)
    .where(col(Counter.is_open).is_(True))
    .where(col(CounterService.counter_id).in_(
        select(CounterService.counter_id)
        .where(CounterService.service_id == bindparam("service_id"))))
    .group_by(col(CounterService.counter_id)))


def waiting_count(session: Session, service_id: int) -> int:
    """How many tasks wait in the service's queue now (held ones not counted)."""
    return int(session.exec(select(func.count()).select_from(Task).where(
        Task.service_id == service_id, Task.state == TaskState.WAITING)).one())


def estimated_wait(session: Session, service_id: int, now: datetime | None = None, *,
                   ahead: int | None = None) -> timedelta:
    """How long a resident joining the service's queue now would wait to be called.

        W = n × h / c, rounded up to whole minutes

    n — people ahead: the tasks waiting in the service (or `ahead`, for a given ticket);
    h — mean handling time (start → done) of the last 20 tasks done there in the past
        7 days, or 5 minutes when there are none (`mean_handling_time`);
    c — open counters serving the service, a counter serving k services counting 1/k
        (`effective_counters`); when no counter is open, c = 1 (a counter is assumed to
        open; the screens show that none is).
    """
    now = _now(now)
    people = waiting_count(session, service_id) if ahead is None else ahead
    if people <= 0:
        return timedelta()
    handling = mean_handling_time(session, service_id, now)
    counters = effective_counters(session, service_id) or 1.0
    seconds = people * handling.total_seconds() / counters
    return timedelta(minutes=math.ceil(seconds / 60))


def people_ahead(session: Session, task: Task) -> int:
    """How many waiting tasks `call_next` would take before this one in its service, if no one
    else arrived: priority ones first, then by place in line (the fairness rule is ignored)."""
    visit = session.get(Visit, task.visit_id)
    assert visit is not None
    earlier = (col(Task.ranked_at) < task.ranked_at) | (
        (col(Task.ranked_at) == task.ranked_at) & (col(Task.id) < task.id))
    statement = (select(func.count()).select_from(Task)
                 .join(Visit, col(Visit.id) == Task.visit_id)
                 .where(Task.service_id == task.service_id, Task.state == TaskState.WAITING,
                        Task.id != task.id))
    if visit.priority:
        statement = statement.where(col(Visit.priority).is_(True), earlier)
    else:
        statement = statement.where(col(Visit.priority).is_(True) | earlier)
    return int(session.exec(statement).one())


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
    return [
        WaitingEntry(
            task_id=task.id, visit_id=visit.id, ticket_number=visit.ticket_number,  # type: ignore[arg-type]
            service_id=task.service_id, state=task.state, priority=visit.priority,
            queued_at=task.queued_at or now,
            minutes_waited=_minutes_between(task.queued_at, now),
            task_number=task.position + 1, task_count=counts.get(visit.id, 1),  # type: ignore[arg-type]
            procedure_code=task.procedure_code, hold_reason=task.hold_reason,
        )
        for task, visit in rows
    ]


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
