"""Estimated wait: handling time, effective counters, people ahead, W = n × h / c.

Separate because it is the one statistical part of the engine: read-only, and asked for on
every change by the residents' status pages and the board.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from counter.models import Counter, CounterService, Task, TaskState, Visit
from counter.queue.rules import _now
from frontyard.database import plain_rows

#: Estimated wait: how many recent completions per service to average, and how far back.
HANDLING_SAMPLE = 20
HANDLING_WINDOW = timedelta(days=7)
#: Assumed handling time of a service that has no completed task in the window yet.
DEFAULT_HANDLING = timedelta(minutes=5)


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
