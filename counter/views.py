"""Read models of the live screens: what the board, the crowding page, the staff terminal and
the residents' status pages show, computed in a few queries per office.

Pure domain (no Starlette). The queue engine (`counter.queue`) owns every rule; this module
only reads, in bulk: one status page per resident means hundreds of visits per office, so
their places in line are derived from one ordered query per office instead of per visit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from counter import queue
from counter.models import (
    Counter,
    CounterService,
    Office,
    Service,
    Task,
    TaskState,
    Visit,
    VisitDetails,
)
from frontyard.database import plain_rows
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _

#: How many no-shows the terminal offers to return to the queue.
NO_SHOW_LIMIT = 10
#: How many waiting tickets a terminal lists: the next ones in line are those staff act on,
#: and a busy office's whole queue would make every screen update heavy (the counts show all).
TERMINAL_WAITING_LIMIT = 30


class Lamp(StrEnum):
    """The crowding lamp: a colour and, always, words (colour alone tells nothing to some)."""

    GREEN = "green"  # estimated wait under 20 minutes
    YELLOW = "yellow"  # 20 to 40 minutes
    RED = "red"  # over 40 minutes


def lamp_for(wait: timedelta) -> Lamp:
    """Green below 20 minutes, yellow from 20 to 40, red above 40."""
    minutes = wait.total_seconds() / 60
    if minutes < 20:
        return Lamp.GREEN
    if minutes <= 40:
        return Lamp.YELLOW
    return Lamp.RED


def wait_for(people: int, handling: timedelta, counters: float) -> timedelta:
    """W = n × h / c rounded up to whole minutes: `queue.estimated_wait` with n given."""
    if people <= 0:
        return timedelta()
    seconds = people * handling.total_seconds() / (counters or 1.0)
    return timedelta(minutes=math.ceil(seconds / 60))


def office_or_default(session: Session, office_id: int | None) -> Office:
    """The office asked for, or the first one; NotFound when there is none."""
    statement = select(Office).order_by(col(Office.id))
    if office_id is not None:
        statement = statement.where(Office.id == office_id)
    office = session.exec(statement).first()
    if office is None:
        raise NotFound(_("This office does not exist."))
    return office


def active_services(session: Session, office_id: int, *,
                    include_inactive: bool = False) -> list[Service]:
    """The office's active (or all) services in display order."""
    statement = select(Service).where(Service.office_id == office_id)
    if not include_inactive:
        statement = statement.where(col(Service.active).is_(True))
    return list(session.exec(statement.order_by(col(Service.sort_order), col(Service.id))).all())


# ---------------------------------------------------------------------------------------------
# Crowding page
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrowdingRow:
    """One service on the public crowding page."""

    service: Service
    waiting: int
    counters_open: int
    estimated_wait: timedelta
    longest_wait: timedelta
    lamp: Lamp


@dataclass(frozen=True)
class CrowdingView:
    """The public page: per service waiting count, wait, lamp; the numbers being called."""

    office: Office
    offices: list[Office]
    rows: list[CrowdingRow]
    calling: list[queue.CallEntry]


def crowding_view(session: Session, office_id: int | None, now: datetime) -> CrowdingView:
    """How crowded each service of the office is now."""
    office = office_or_default(session, office_id)
    rows = [
        CrowdingRow(service=overview.service, waiting=overview.waiting,
                    counters_open=overview.counters_open,
                    estimated_wait=overview.estimated_wait, longest_wait=overview.longest_wait,
                    lamp=lamp_for(overview.estimated_wait))
        for overview in queue.queue_overview(session, office.id, now)  # type: ignore[arg-type]
    ]
    offices = list(session.exec(select(Office).order_by(col(Office.id))).all())
    return CrowdingView(office=office, offices=offices, rows=rows,
                        calling=queue.current_calls(session, office.id))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Staff terminal
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoShowEntry:
    """A ticket whose resident did not come; staff may put it back in line."""

    task_id: int
    ticket_number: str
    service_id: int
    called_at: datetime | None


@dataclass(frozen=True)
class TerminalView:
    """A counter's terminal: its ticket in hand, its waiting list, its recent no-shows."""

    counter: Counter
    office: Office
    services: list[Service]  # every service of the office (the active ones: transfer targets)
    serving_ids: list[int]  # the services this counter serves
    current: Task | None
    current_visit: Visit | None
    progress: queue.VisitProgress | None
    visit_tasks: list[Task]
    has_details: bool
    waiting: list[queue.WaitingEntry]
    no_shows: list[NoShowEntry]
    waiting_counts: dict[int, int]

    @property
    def services_by_id(self) -> dict[int, Service]:
        """Services of the office by id, for templates."""
        return {service.id: service for service in self.services}  # type: ignore[misc]

    @property
    def waiting_not_listed(self) -> int:
        """Tickets waiting for this counter beyond the listed ones."""
        listed = sum(1 for entry in self.waiting if entry.state == TaskState.WAITING)
        return max(0, sum(self.waiting_counts.values()) - listed)


def terminal_view(session: Session, counter_id: int, now: datetime) -> TerminalView:
    """What the staff member at a counter sees."""
    return terminal_views(session, [counter_id], now)[counter_id]


def terminal_views(session: Session, counter_ids: list[int],
                   now: datetime) -> dict[int, TerminalView]:
    """What each of several counters' staff see. What counters share is read once: the
    office's services and counts, and the waiting list and no-shows of each set of services
    (fifty terminals serving a few sets of services cost a few lists, not fifty)."""
    states = {counter_id: queue.counter_view(session, counter_id) for counter_id in counter_ids}
    offices: dict[int, tuple[Office, list[Service], dict[int, int]]] = {}
    lists: dict[tuple[int, ...], tuple[list[queue.WaitingEntry], list[NoShowEntry]]] = {}
    result = {}
    for counter_id, state in states.items():
        office_id = state.counter.office_id
        if office_id not in offices:
            offices[office_id] = (office_or_default(session, office_id),
                                  active_services(session, office_id, include_inactive=True),
                                  queue.waiting_counts(session, office_id))
        office, services, counts = offices[office_id]
        serving = tuple(state.service_ids)
        if serving not in lists:
            lists[serving] = (_terminal_waiting(session, serving, now),
                              _no_shows(session, serving))
        waiting, no_shows = lists[serving]
        result[counter_id] = TerminalView(
            counter=state.counter, office=office, services=services,
            serving_ids=state.service_ids, current=state.current,
            waiting=waiting, no_shows=no_shows,
            waiting_counts={sid: counts.get(sid, 0) for sid in serving},
            **_ticket_in_hand(session, state.current, now))
    return result


def _terminal_waiting(session: Session, serving: tuple[int, ...],
                      now: datetime) -> list[queue.WaitingEntry]:
    if not serving:
        return []
    return queue.waiting_list(session, service_ids=serving, limit=TERMINAL_WAITING_LIMIT,
                              now=now)


def _no_shows(session: Session, serving: tuple[int, ...]) -> list[NoShowEntry]:
    """The latest no-shows of these services whose visit is still open."""
    return [
        NoShowEntry(task_id=task.id, ticket_number=ticket, service_id=task.service_id,  # type: ignore[arg-type]
                    called_at=task.called_at)
        for task, ticket in session.exec(
            select(Task, Visit.ticket_number).join(Visit, col(Visit.id) == Task.visit_id)
            .where(Task.state == TaskState.NO_SHOW, col(Task.service_id).in_(serving),
                   col(Visit.closed_at).is_(None))
            .order_by(col(Task.called_at).desc()).limit(NO_SHOW_LIMIT)).all()
    ]


def _ticket_in_hand(session: Session, current: Task | None, now: datetime) -> dict[str, Any]:
    """The terminal's view of the visit whose ticket the counter holds."""
    if current is None:
        return {"current_visit": None, "progress": None, "visit_tasks": [],
                "has_details": False}
    visit = session.get(Visit, current.visit_id)
    assert visit is not None
    return {"current_visit": visit, "progress": queue.visit_progress(session, visit, now),
            "visit_tasks": queue.visit_tasks(session, visit),
            "has_details": session.get(VisitDetails, visit.id) is not None}


def counter_of_user(session: Session, user_id: int) -> Counter | None:
    """The open counter this staff member is signed in to, if any."""
    return session.exec(select(Counter).where(
        col(Counter.is_open).is_(True), Counter.staff_user_id == user_id)).first()


@dataclass(frozen=True)
class CounterChoice:
    """A counter offered on the sign-in form, with the services it remembers."""

    counter: Counter
    service_ids: list[int]


def counter_choices(session: Session, office_id: int) -> list[CounterChoice]:
    """The office's counters in number order, each with its remembered services."""
    counters = session.exec(select(Counter).where(Counter.office_id == office_id)).all()
    links: dict[int, list[int]] = defaultdict(list)
    for link in session.exec(select(CounterService)):
        links[link.counter_id].append(link.service_id)
    ordered = sorted(counters, key=lambda c: (len(c.number), c.number))
    return [CounterChoice(c, sorted(links.get(c.id, []))) for c in ordered]  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Residents' status pages
# ---------------------------------------------------------------------------------------------


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
    remaining: list[Service] = field(default_factory=list)


class StatusReading:
    """What the status pages of many visits show, read in a fixed number of queries however
    many visits there are. Each visit's `ResidentStatus` is made only when asked for
    (`status`): the live screens read in a worker thread and make each visit's status just
    before sending it (see `counter.screens.StatusMessages`)."""

    def __init__(self, session: Session, visit_ids: list[int], now: datetime) -> None:
        # Plain rows from prebuilt statements: this runs for every watched visit on every
        # change in the office.
        self.tickets: dict[int, str] = {}
        self._tasks: dict[int, list[Any]] = defaultdict(list)
        for row in plain_rows(session, _STATUS_ROWS, {"visit_ids": visit_ids}):
            self.tickets[row.visit_id] = row.ticket_number
            if row.id is not None:
                self._tasks[row.visit_id].append(row)
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

    def status(self, visit_id: int) -> ResidentStatus | None:
        """Where one of the visits read stands; None for a visit that does not exist."""
        ticket = self.tickets.get(visit_id)
        if ticket is None:
            return None
        tasks = self._tasks.get(visit_id, [])
        current = next((task for task in tasks if task.state not in queue.FINAL_STATES), None)
        return _status(ticket, tasks, current, self._services, self._counters, self._places,
                       self._handling)


def resident_statuses(session: Session, visit_ids: list[int],
                      now: datetime) -> dict[int, ResidentStatus]:
    """The status of each existing visit, in a fixed number of queries."""
    if not visit_ids:
        return {}
    reading = StatusReading(session, visit_ids, now)
    return {visit_id: reading.status(visit_id) for visit_id in reading.tickets}  # type: ignore[misc]


#: Every task of the visits (`_status` reads these columns), with the visit's ticket number.
_STATUS_ROWS = (
    select(col(Visit.id).label("visit_id"), Visit.ticket_number, col(Task.id).label("id"),
           Task.service_id, Task.state, Task.position, Task.counter_id, Task.call_count,
           Task.step_index)
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


def _status(ticket_number: str, tasks: list[Any], task: Any, services: dict[int, Service],
            counters: dict[int, Counter], places: dict[int, int],
            handling: dict[int, tuple[timedelta, float]]) -> ResidentStatus:
    """One visit's status from its task rows (`_STATUS_TASK_COLUMNS`) and the current one."""
    if task is None:
        return ResidentStatus(ticket_number=ticket_number, closed=True, state=None,
                              service=None, task_number=len(tasks), task_count=len(tasks),
                              step_name=None, step_number=0, step_count=0, people_ahead=None,
                              estimated_wait=None, counter=None, call_key=None)
    service = services[task.service_id]
    ahead = wait = None
    if task.state == TaskState.WAITING:
        ahead = places.get(task.id, 0)  # type: ignore[arg-type]
        wait = wait_for(ahead, *handling[task.service_id])
    counter = None
    call_key = None
    if task.state in queue.AT_COUNTER_STATES and task.counter_id is not None:
        counter = counters.get(task.counter_id)
        call_key = f"{task.id}.{task.call_count}"
    steps = service.steps
    return ResidentStatus(
        ticket_number=ticket_number, closed=False, state=task.state, service=service,
        task_number=tasks.index(task) + 1, task_count=len(tasks),
        step_name=steps[task.step_index] if 0 <= task.step_index < len(steps) else None,
        step_number=task.step_index + 1 if steps else 0, step_count=len(steps),
        people_ahead=ahead, estimated_wait=wait, counter=counter, call_key=call_key,
        remaining=[services[t.service_id] for t in tasks
                   if t.position > task.position and t.state not in queue.FINAL_STATES],
    )
