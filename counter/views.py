"""Read models of the live screens: what the board, the crowding page and the staff terminal
show, computed in a few queries per office (the residents' status pages: `counter.statuses`).

Pure domain (no Starlette). The queue engine (`counter.queue`) owns every rule; this module
only reads, in bulk.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from counter import hours, queue
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
    CLOSED = "closed"  # no counter serving the service is open: no wait can be told


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
    #: Whether the office is open now, and when it next opens.
    status: hours.Status = hours.ALWAYS_OPEN
    #: Each service's ticket status (by service id): a closed one shows "closed", not a wait.
    service_status: dict[int, hours.Status] | None = None


def crowding_view(session: Session, office_id: int | None, now: datetime,
                  tz: tzinfo = queue.DEFAULT_TZ) -> CrowdingView:
    """How crowded each service of the office is now, and whether it is open."""
    office = office_or_default(session, office_id)
    rows = [
        CrowdingRow(service=overview.service, waiting=overview.waiting,
                    counters_open=overview.counters_open,
                    estimated_wait=overview.estimated_wait, longest_wait=overview.longest_wait,
                    lamp=lamp_for(overview.estimated_wait) if overview.counters_open
                    else Lamp.CLOSED)
        for overview in queue.queue_overview(session, office.id, now)  # type: ignore[arg-type]
    ]
    offices = list(session.exec(select(Office).order_by(col(Office.id))).all())
    return CrowdingView(office=office, offices=offices, rows=rows,
                        calling=queue.current_calls(session, office.id),  # type: ignore[arg-type]
                        status=hours.office_status(session, office.id, now, tz),  # type: ignore[arg-type]
                        service_status=hours.ticket_status(
                            session, [row.service for row in rows], now, tz))


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
