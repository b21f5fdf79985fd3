"""The call board's read model: the numbers being called, today's earlier calls (each ticket
once) and the people waiting per service, in a fixed number of queries.

Pure domain (no Starlette); apart from `counter.views` because the board is read on every
change in the office and has rules of its own (today only, one line per ticket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from counter import queue
from counter.models import Counter, Event, EventKind, Office, Service, Task, TaskState, Visit
from counter.views import active_services, office_or_default
from frontyard.database import plain_rows

#: How many earlier calls the board lists at most (the screen shows as many as fit).
RECENT_CALLS = 12
#: Calls older than this are not spoken again after a board reconnects.
SPEAK_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True)
class CallRecord:
    """One call or recall as the board lists and speaks it."""

    event_id: int
    task_id: int
    ticket_number: str
    counter_id: int
    counter: Counter
    service_id: int | None
    at: datetime
    recall: bool
    still_called: bool  # the task is still waiting for its resident at that counter


@dataclass(frozen=True)
class BoardView:
    """The lobby screen: numbers being called, the last calls, people waiting per service."""

    office: Office
    calling: list[queue.CallEntry]  # tasks called and not yet started, newest call first
    counters: dict[int, Counter]
    recent: list[CallRecord]  # today's earlier calls, newest first, each ticket once
    services: list[Service]
    waiting: dict[int, int]
    to_speak: list[CallRecord]  # calls young enough to be announced, oldest first
    records: list[CallRecord] = field(default_factory=list)  # today's calls read, newest first


def start_of_day(now: datetime, tz: tzinfo) -> datetime:
    """The city's last midnight, in UTC: where "today" begins for the board."""
    return datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz).astimezone(UTC)


def board_view(session: Session, office_id: int, now: datetime,
               tz: tzinfo = queue.DEFAULT_TZ) -> BoardView:
    """Everything the call board shows, in a fixed number of queries; `tz` is the city's."""
    office = office_or_default(session, office_id)
    counters = {counter.id: counter for counter in session.exec(
        select(Counter).where(Counter.office_id == office_id))}
    rows = plain_rows(session, _BOARD_CALLS,
                      {"office_id": office_id, "since": start_of_day(now, tz)})
    records = [_record_from(row, counters[row.called_at_counter]) for row in rows]
    calling = queue.current_calls(session, office_id)
    to_speak = sorted((record for record in records if now - record.at <= SPEAK_WINDOW),
                      key=lambda record: (record.at, record.event_id))
    services = active_services(session, office_id)
    return BoardView(office=office, calling=calling, counters=counters,  # type: ignore[arg-type]
                     recent=recent_calls(records, calling), services=services,
                     waiting=queue.waiting_counts(session, office_id, services),
                     to_speak=to_speak, records=records)


def recent_calls(records: list[CallRecord], calling: list[queue.CallEntry]) -> list[CallRecord]:
    """The earlier calls a board lists: newest first, each ticket once, none being called."""
    shown = {call.ticket_number for call in calling}  # "Now calling" lists these already
    recent: list[CallRecord] = []
    for record in records:
        # A visit is called once per procedure: its number is listed once, at its latest call.
        if len(recent) < RECENT_CALLS and record.ticket_number not in shown:
            recent.append(record)
        shown.add(record.ticket_number)
    return recent


#: The office's calls and recalls of today, newest first, as plain rows (prebuilt: this runs
#: on every change in the office).
_BOARD_CALLS = (
    select(col(Event.id).label("event_id"), Event.at, Event.kind, Event.service_id,
           col(Event.counter_id).label("called_at_counter"), col(Task.id).label("task_id"),
           col(Task.state).label("task_state"), col(Task.counter_id).label("task_counter"),
           Visit.ticket_number)
    .join(Visit, col(Visit.id) == Event.visit_id)
    .join(Task, col(Task.id) == Event.task_id)
    .where(Event.office_id == bindparam("office_id"), col(Event.counter_id).is_not(None),
           col(Event.kind).in_([EventKind.CALLED, EventKind.RECALLED]),
           col(Event.at) >= bindparam("since"))
    .order_by(col(Event.at).desc(), col(Event.id).desc()).limit(RECENT_CALLS * 6))


def _record_from(row: Any, counter: Counter) -> CallRecord:
    """A call from a row of `board_view`'s query and the counter it was made at."""
    return CallRecord(
        event_id=row.event_id, task_id=row.task_id, ticket_number=row.ticket_number,
        counter_id=counter.id, counter=counter, service_id=row.service_id,  # type: ignore[arg-type]
        at=row.at, recall=row.kind == EventKind.RECALLED,
        still_called=row.task_state == TaskState.CALLED and row.task_counter == counter.id)
