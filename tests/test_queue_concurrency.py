"""The engine under real concurrency: threads with their own sessions, on SQLite and PostgreSQL.

Numbers are never duplicated with 20 kiosks issuing at once, and no task is ever handed to
two of 10 counters calling at once.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from counter import queue
from counter.models import Event, EventKind, Task, TaskState
from frontyard.database import session_scope
from tests.conftest import seed_queue_world

ISSUERS = 20
TICKETS_PER_ISSUER = 8
COUNTERS = 10
NOW = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def _in_threads(count: int, work) -> list:  # type: ignore[no-untyped-def]
    """Run `work(index)` in `count` threads released together; re-raise the first error."""
    barrier = threading.Barrier(count)

    def started(index: int):  # type: ignore[no-untyped-def]
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [future.result() for future in [pool.submit(started, i) for i in range(count)]]


def _issue(engine, world, code: str) -> str:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return queue.issue_ticket(session, office_id=world.office_id, service_codes=[code],
                                  now=NOW).ticket_number


def test_twenty_kiosks_never_issue_the_same_number(engine):
    """20 threads issuing at once get every number of each prefix exactly once, in sequence."""
    world = seed_queue_world(engine, counters=1)
    codes = ["residents", "insurance"]

    def kiosk(index: int) -> list[str]:
        return [_issue(engine, world, codes[(index + n) % 2]) for n in range(TICKETS_PER_ISSUER)]

    numbers = [number for batch in _in_threads(ISSUERS, kiosk) for number in batch]
    total = ISSUERS * TICKETS_PER_ISSUER
    assert len(set(numbers)) == total
    for prefix in "AB":
        issued = sorted(int(n[2:]) for n in numbers if n.startswith(prefix))
        assert issued == list(range(1, total // 2 + 1))


def test_ten_counters_never_get_the_same_task(engine):
    """10 counters calling while 20 kiosks issue: each ticket is called exactly once."""
    world = seed_queue_world(engine, counters=COUNTERS)
    with session_scope(engine) as session:
        for index in range(COUNTERS):
            queue.open_counter(session, world.counters[index], world.staff[index],
                               list(world.services.values()), NOW)
    codes = list(world.services)
    kiosks_left = threading.Semaphore(0)  # released once per kiosk that has finished
    issuing_done = threading.Event()

    def kiosk(index: int) -> list[int]:
        for n in range(TICKETS_PER_ISSUER):
            _issue(engine, world, codes[(index + n) % 3])
        kiosks_left.release()
        if index == 0:  # one kiosk waits for all the others, then says issuing is over
            for _ in range(ISSUERS):
                kiosks_left.acquire(timeout=120)
            issuing_done.set()
        return []

    def counter(index: int) -> list[int]:
        served = []
        while True:
            finished = issuing_done.is_set()  # read before calling: nothing comes after
            with session_scope(engine) as session:
                task = queue.call_next(session, world.counters[index], world.staff[index], NOW)
            if task is None:
                if finished:
                    return served
                continue
            served.append(task.id)
            with session_scope(engine) as session:
                queue.start(session, task.id, world.staff[index], NOW)
                queue.complete(session, task.id, world.staff[index], NOW)

    results = _in_threads(ISSUERS + COUNTERS, lambda index: kiosk(index) if index < ISSUERS
                          else counter(index - ISSUERS))
    batches = results[ISSUERS:]
    served = [task_id for batch in batches for task_id in batch]
    total = ISSUERS * TICKETS_PER_ISSUER
    assert len(served) == total and len(set(served)) == total
    with Session(engine) as session:
        states = Tally(session.exec(select(Task.state)).all())
        calls = Tally(session.exec(
            select(Event.task_id).where(Event.kind == EventKind.CALLED)).all())
    assert states == {TaskState.DONE: total}
    assert set(calls.values()) == {1} and len(calls) == total
    assert sum(1 for batch in batches if batch) > 1  # the work was shared


def test_calling_one_ticket_from_ten_counters_at_once(engine):
    """Ten counters press "call this one" on the same ticket: exactly one gets it."""
    world = seed_queue_world(engine, counters=COUNTERS)
    with session_scope(engine) as session:
        for index in range(COUNTERS):
            queue.open_counter(session, world.counters[index], world.staff[index],
                               [world.services["residents"]], NOW)
        visit = queue.issue_ticket(session, office_id=world.office_id,
                                   service_codes=["residents"], now=NOW)
    with Session(engine) as session:
        task_id = session.exec(select(Task.id).where(Task.visit_id == visit.id)).one()

    def press(index: int) -> str:
        try:
            with session_scope(engine) as session:
                queue.call_task(session, task_id, world.counters[index], world.staff[index],
                                NOW)
        except queue.IllegalTransition:
            return "refused"
        return "called"

    assert sorted(_in_threads(COUNTERS, press)) == ["called"] + ["refused"] * (COUNTERS - 1)
    with Session(engine) as session:
        called = session.exec(select(Event).where(
            Event.kind == EventKind.CALLED, col(Event.task_id) == task_id)).all()
    assert len(called) == 1
