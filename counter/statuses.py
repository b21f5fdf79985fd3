"""Where each resident's visit stands, as their phone's status page shows it: the current
procedure, place in line, wait, counter, and the procedures still to come, in visiting order.

Pure domain (no Starlette), read in bulk: one status page per resident means hundreds of
visits per office, so their places in line come from one ordered query per set of services.
A procedure's name and where it is done belong to the kiosk's catalog; the composition layer
hands over a lookup (`use_procedure_labels`), so the queue imports no kiosk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from counter import queue
from counter.models import Counter, Service, Task, TaskState, Visit
from counter.views import wait_for
from frontyard.database import plain_rows


@dataclass(frozen=True)
class ProcedureLabel:
    """What residents call a procedure and where it is done, {locale: text} each."""

    name: Mapping[str, str]
    where: Mapping[str, str] | None = None


#: (session, office id, procedure codes) → the labels of the codes it knows.
ProcedureLabels = Callable[[Session, int, Collection[str]], Mapping[str, ProcedureLabel]]
_label_lookups: list[ProcedureLabels] = []


def use_procedure_labels(lookup: ProcedureLabels | None) -> None:
    """Name procedures with this lookup from now on (None: by their service's name only)."""
    _label_lookups.clear()
    if lookup is not None:
        _label_lookups.append(lookup)


@dataclass(frozen=True)
class Procedure:
    """One procedure of a visit: its name (the service's when the catalog has none), the
    service whose queue it waits in, and where to go."""

    code: str | None
    service: Service
    name: Mapping[str, str]
    where: Mapping[str, str] | None

    @property
    def named(self) -> bool:
        """Whether the procedure has a name of its own (else its service names it)."""
        return self.name is not self.service.names


@dataclass(frozen=True)
class ResidentStatus:
    """Where one visit stands, as its resident's phone shows it. Nothing personal.

    The same fields as `queue.VisitProgress`, computed for many visits at once.
    """

    ticket_number: str
    closed: bool
    state: TaskState | None
    service: Service | None
    task_number: int
    task_count: int
    step_name: str | None
    step_number: int
    step_count: int
    people_ahead: int | None
    estimated_wait: timedelta | None
    counter: Counter | None
    call_key: str | None  # changes with every call and recall: phones vibrate once per key
    issued_at: datetime | None = None
    #: Whether a counter serving the current procedure is open (else no wait is meaningful).
    counter_open: bool = True
    procedure: Procedure | None = None
    #: The procedures after this one, in visiting order.
    remaining: list[Procedure] = field(default_factory=list)


class StatusReading:
    """What the status pages of many visits show, read in a fixed number of queries however
    many visits there are. Each visit's `ResidentStatus` is made only when asked for
    (`status`): the live screens read in a worker thread and make each visit's status just
    before sending it (see `counter.screens.StatusMessages`)."""

    def __init__(self, session: Session, visit_ids: list[int], now: datetime) -> None:
        # Plain rows from prebuilt statements: this runs for every watched visit on every
        # change in the office.
        self.tickets: dict[int, str] = {}
        self._issued: dict[int, datetime] = {}
        self._tasks: dict[int, list[Any]] = defaultdict(list)
        codes: dict[int, set[str]] = defaultdict(set)
        for row in plain_rows(session, _STATUS_ROWS, {"visit_ids": visit_ids}):
            self.tickets[row.visit_id] = row.ticket_number
            self._issued[row.visit_id] = row.issued_at
            if row.id is not None:
                self._tasks[row.visit_id].append(row)
                if row.procedure_code and row.state not in queue.FINAL_STATES:
                    codes[row.office_id].add(row.procedure_code)
        open_tasks = [task for tasks in self._tasks.values() for task in tasks
                      if task.state not in queue.FINAL_STATES]
        self._services = _by_id(session, Service, {task.service_id for task in open_tasks})
        self._counters = _by_id(session, Counter, {
            task.counter_id for task in open_tasks
            if task.state in queue.AT_COUNTER_STATES and task.counter_id is not None})
        waiting_services = {task.service_id for task in open_tasks
                            if task.state == TaskState.WAITING}
        self._places = _places_in_line(session, waiting_services)
        self._handling = {sid: (queue.mean_handling_time(session, sid, now),
                                queue.effective_counters(session, sid))
                          for sid in waiting_services}
        self._labels = {office_id: dict(lookup(session, office_id, office_codes))
                        for office_id, office_codes in codes.items()
                        for lookup in _label_lookups}

    def status(self, visit_id: int) -> ResidentStatus | None:
        """Where one of the visits read stands; None for a visit that does not exist."""
        ticket = self.tickets.get(visit_id)
        if ticket is None:
            return None
        tasks = self._tasks.get(visit_id, [])
        current = next((task for task in tasks if task.state not in queue.FINAL_STATES), None)
        if current is None:
            return ResidentStatus(
                ticket_number=ticket, closed=True, state=None, service=None,
                task_number=len(tasks), task_count=len(tasks), step_name=None, step_number=0,
                step_count=0, people_ahead=None, estimated_wait=None, counter=None,
                call_key=None, issued_at=self._issued.get(visit_id))
        return self._open_status(ticket, visit_id, tasks, current)

    def _procedure(self, task: Any) -> Procedure:
        service = self._services[task.service_id]
        label = self._labels.get(task.office_id, {}).get(task.procedure_code or "")
        return Procedure(code=task.procedure_code, service=service,
                         name=label.name if label else service.names,
                         where=label.where if label else None)

    def _open_status(self, ticket: str, visit_id: int, tasks: list[Any],
                     task: Any) -> ResidentStatus:
        service = self._services[task.service_id]
        ahead = wait = None
        counter_open = True
        if task.state == TaskState.WAITING:
            ahead = self._places.get(task.id, 0)
            handling, counters = self._handling[task.service_id]
            wait = wait_for(ahead, handling, counters)
            counter_open = counters > 0
        counter = call_key = None
        if task.state in queue.AT_COUNTER_STATES and task.counter_id is not None:
            counter = self._counters.get(task.counter_id)
            call_key = f"{task.id}.{task.call_count}"
        steps = service.steps
        remaining: list[Procedure] = []
        for later in tasks:
            if later.position > task.position and later.state not in queue.FINAL_STATES:
                procedure = self._procedure(later)
                if not remaining or remaining[-1] != procedure:  # one line per procedure
                    remaining.append(procedure)
        return ResidentStatus(
            ticket_number=ticket, closed=False, state=task.state, service=service,
            task_number=tasks.index(task) + 1, task_count=len(tasks),
            step_name=steps[task.step_index] if 0 <= task.step_index < len(steps) else None,
            step_number=task.step_index + 1 if steps else 0, step_count=len(steps),
            people_ahead=ahead, estimated_wait=wait, counter=counter, call_key=call_key,
            issued_at=self._issued.get(visit_id), counter_open=counter_open,
            procedure=self._procedure(task), remaining=remaining)


def resident_statuses(session: Session, visit_ids: list[int],
                      now: datetime) -> dict[int, ResidentStatus]:
    """The status of each existing visit, in a fixed number of queries."""
    if not visit_ids:
        return {}
    reading = StatusReading(session, visit_ids, now)
    return {visit_id: reading.status(visit_id) for visit_id in reading.tickets}  # type: ignore[misc]


#: Every task of the visits (`StatusReading` reads these columns), with the visit's ticket.
_STATUS_ROWS = (
    select(col(Visit.id).label("visit_id"), Visit.ticket_number, Visit.office_id,
           Visit.issued_at, col(Task.id).label("id"), Task.service_id, Task.state,
           Task.position, Task.counter_id, Task.call_count, Task.step_index,
           Task.procedure_code)
    .outerjoin(Task, col(Task.visit_id) == Visit.id)
    .where(col(Visit.id).in_(bindparam("visit_ids", expanding=True)))
    .order_by(col(Visit.id), col(Task.position)))

#: Every waiting task of some services, in call order.
_CALL_ORDER = (
    select(Task.id, Task.service_id).join(Visit, col(Visit.id) == Task.visit_id)
    .where(col(Task.service_id).in_(bindparam("service_ids", expanding=True)),
           Task.state == TaskState.WAITING)
    .order_by(col(Task.service_id), col(Visit.priority).desc(), col(Task.ranked_at),
              col(Task.id)))

RowT = TypeVar("RowT", Service, Counter)


def _by_id(session: Session, model: type[RowT], ids: set[int]) -> dict[int, RowT]:
    """Some services or counters by id (none read when none are asked for)."""
    if not ids:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(ids)))
    return {row.id: row for row in rows}  # type: ignore[misc]


def _places_in_line(session: Session, service_ids: set[int]) -> dict[int, int]:
    """Task id → people ahead of it: its index in its service's call order."""
    if not service_ids:
        return {}
    places: dict[int, int] = {}
    seen: dict[int, int] = defaultdict(int)
    for task_id, service_id in plain_rows(session, _CALL_ORDER,
                                          {"service_ids": list(service_ids)}):
        places[task_id] = seen[service_id]
        seen[service_id] += 1
    return places
