"""Invariants of the database that no request, accepted or refused, may break: a fuzzed
request either commits a whole change or nothing at all."""

from __future__ import annotations

from collections import Counter as Tally

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from counter.models import Counter, Event, EventKind, Task, TaskState, Visit

AT_A_COUNTER = {TaskState.CALLED, TaskState.SERVING}


def problems(engine: Engine) -> list[str]:
    """Every broken invariant, as readable lines (empty when the database is whole)."""
    found: list[str] = []
    with Session(engine) as session:
        visits = session.exec(select(Visit)).all()
        tasks = session.exec(select(Task)).all()
        counters = session.exec(select(Counter)).all()
        issued = Tally(session.exec(select(Event.visit_id).where(
            Event.kind == EventKind.ISSUED)).all())
    tasks_of = Tally(task.visit_id for task in tasks)
    numbers = Tally((v.office_id, v.ticket_day, v.ticket_number) for v in visits)
    for visit in visits:
        if tasks_of[visit.id] == 0:
            found.append(f"visit {visit.ticket_number} has no task")
        if issued[visit.id] != 1:
            found.append(f"visit {visit.ticket_number} has {issued[visit.id]} issue events")
        if numbers[(visit.office_id, visit.ticket_day, visit.ticket_number)] > 1:
            found.append(f"ticket number {visit.ticket_number} issued twice")
    held: Tally[int] = Tally()
    for task in tasks:
        if task.state == TaskState.WAITING and task.queued_at is None:
            found.append(f"task {task.id} waits without a queue time")
        if task.state in AT_A_COUNTER:
            if task.counter_id is None or task.called_at is None:
                found.append(f"task {task.id} is {task.state} without a counter or call time")
            else:
                held[task.counter_id] += 1
    for counter in counters:
        if counter.is_open != (counter.staff_user_id is not None):
            found.append(f"counter {counter.number} open={counter.is_open} "
                         f"staff={counter.staff_user_id}")
        if held[counter.id] > 1:
            found.append(f"counter {counter.number} holds {held[counter.id]} tickets")
    return found
