"""Rollups kept event by event equal a full recomputation from the log, whatever happened."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from analytics.metrics import Filters, Metrics, bucket_bounds, metrics, metrics_from_log
from analytics.models import ROLLUP_TABLES, bucket_of, counter_day, stage_hour
from analytics.rollups import apply_events, rebuild_rollups
from analytics.timeline import DURATION_KINDS, facts_for
from counter.models import Event, EventKind
from frontyard.database import session_scope
from tests.analytics_log import TOKYO, EventLog, day, tokyo

TASK_KINDS = [EventKind.QUEUED, EventKind.CALLED, EventKind.RECALLED, EventKind.STARTED,
              EventKind.STEP, EventKind.DONE, EventKind.NO_SHOW, EventKind.RETURNED,
              EventKind.HELD, EventKind.RELEASED, EventKind.TRANSFERRED, EventKind.CANCELLED]
START = tokyo("2026-03-31 22:30")  # month end, and the log runs across midnight

task_action = st.fixed_dictionaries({
    "kind": st.sampled_from(TASK_KINDS),
    "visit": st.integers(0, 2), "task": st.integers(0, 1), "service": st.integers(0, 1),
    "step": st.sampled_from([None, "a", "b"]), "counter": st.integers(0, 1),
})
visit_action = st.fixed_dictionaries({
    "kind": st.sampled_from([EventKind.ISSUED, EventKind.VISIT_CLOSED]),
    "visit": st.integers(0, 2), "service": st.integers(0, 1),
})
counter_action = st.fixed_dictionaries({
    "kind": st.sampled_from([EventKind.COUNTER_OPENED, EventKind.COUNTER_CLOSED]),
    "counter": st.integers(0, 1), "services": st.sets(st.integers(0, 1), max_size=2),
})
noise = st.lists(
    st.tuples(st.integers(0, 600), st.one_of(task_action, visit_action, counter_action)),
    max_size=8)

E = EventKind
#: How a task's life can go on after its first call (then cut short anywhere: still running).
ENDINGS = [
    [E.STARTED, E.DONE],
    [E.RECALLED, E.STARTED, E.STEP, E.DONE],
    [E.NO_SHOW, E.RETURNED, E.QUEUED, E.CALLED, E.STARTED, E.DONE],
    [E.NO_SHOW, E.RETURNED, E.RECALLED, E.STARTED, E.DONE],
    [E.NO_SHOW, E.CANCELLED],
    [E.STARTED, E.TRANSFERRED, E.QUEUED, E.CALLED, E.STARTED, E.STEP, E.DONE],
    [E.STARTED, E.HELD, E.RELEASED, E.QUEUED, E.CALLED, E.STARTED, E.DONE],
]


@st.composite
def task_story(draw: st.DrawFn, visit: int, task: int) -> list[tuple[int, dict]]:
    """One task's plausible life, possibly unfinished, with gaps of 0–50 minutes."""
    kinds = [E.QUEUED, E.CALLED, *draw(st.sampled_from(ENDINGS))]
    kinds = kinds[:draw(st.integers(1, len(kinds)))]
    service, counter = draw(st.integers(0, 1)), draw(st.integers(0, 1))
    minute, story = draw(st.integers(0, 120)), []
    for kind in kinds:
        minute += draw(st.integers(0, 50))
        if kind is E.TRANSFERRED:
            service = 1 - service
        story.append((minute, {"kind": kind, "visit": visit, "task": task, "service": service,
                               "step": draw(st.sampled_from([None, "a", "b"])),
                               "counter": counter}))
    return story


@st.composite
def event_logs(draw: st.DrawFn) -> list[tuple[int, dict]]:
    """Visits issued, their tasks' stories, closings, counter sessions and random noise."""
    timed: list[tuple[int, dict]] = []
    for visit in range(draw(st.integers(1, 3))):
        timed.append((draw(st.integers(0, 60)), {"kind": E.ISSUED, "visit": visit,
                                                  "service": draw(st.integers(0, 1))}))
        for task in range(draw(st.integers(1, 2))):
            timed += draw(task_story(visit, task))
        if draw(st.booleans()):
            last = max(minute for minute, action in timed if action.get("visit") == visit)
            timed.append((last, {"kind": E.VISIT_CLOSED, "visit": visit, "service": 0}))
    for counter in range(2):
        minute = 0
        for kind in draw(st.lists(st.sampled_from([E.COUNTER_OPENED, E.COUNTER_CLOSED]),
                                  max_size=4)):
            minute += draw(st.integers(1, 240))
            timed.append((minute, {"kind": kind, "counter": counter,
                                   "services": draw(st.sets(st.integers(0, 1), max_size=2))}))
    return sorted(timed + draw(noise), key=lambda item: item[0])


class Scenario:
    """Rows for one example: a fresh office with services, counters, staff, visits, tasks."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.services = [log.service("r", ["a", "b"]), log.service("i")]
        self.counters = [log.counter("1"), log.counter("2")]
        self.staff = [log.staff(f"s{n}-{log.office.id}") for n in range(2)]
        self.visits = [log.visit(f"A{n}", START, issue=False) for n in range(3)]
        self.tasks = [[log.task(visit, self.services[n % 2], n) for n in range(2)]
                      for visit in self.visits]

    def event(self, at_minutes: int, action: dict[str, Any]) -> Event:
        """An event (not yet written) for one generated action."""
        fields: dict[str, Any] = {"kind": action["kind"], "office_id": self.log.office.id,
                                  "at": START + timedelta(minutes=at_minutes), "data": {}}
        if "task" in action:
            fields.update(visit_id=self.visits[action["visit"]],
                          task_id=self.tasks[action["visit"]][action["task"]],
                          service_id=self.services[action["service"]], step=action["step"],
                          counter_id=self.counters[action["counter"]],
                          staff_user_id=self.staff[action["counter"]])
        elif "visit" in action:
            fields.update(visit_id=self.visits[action["visit"]],
                          service_id=self.services[action["service"]])
        else:
            fields.update(counter_id=self.counters[action["counter"]],
                          staff_user_id=self.staff[action["counter"]],
                          data={"service_ids": [self.services[n] for n in action["services"]]})
        return Event(**fields)


def rollup_rows(session, office_id: int) -> dict[str, set[tuple]]:
    """Every rollup row of one office with a non-zero value, per table (incremental updates
    may leave rows whose facts moved elsewhere at zero; a rebuild writes none)."""
    rows = {}
    for table in ROLLUP_TABLES:
        keys = [c for c in table.primary_key.columns if c.name != "office_id"]
        values = [c for c in table.c if not c.primary_key and c.name != "weekday"]
        found = session.execute(select(*keys, *values)
                                .where(table.c.office_id == office_id)).all()
        rows[table.name] = {tuple(row) for row in found if any(row[len(keys):])}
    return rows


def assert_same_aggregates(rolled: Metrics, exact: Metrics, raw: dict) -> None:
    """Counts and sums agree exactly; bucket quantiles lie in the buckets of the exact ones."""
    assert rolled.days == exact.days
    assert rolled.cells == exact.cells
    assert rolled.calls == exact.calls
    assert rolled.by_counter == exact.by_counter
    assert rolled.by_staff == exact.by_staff
    for metric, by_key in exact.durations.items():
        assert rolled.durations[metric].keys() == by_key.keys()
        for key, stats in by_key.items():
            estimate = rolled.durations[metric][key]
            assert (estimate.count, estimate.total_ms) == (stats.count, stats.total_ms)
            values = sorted(raw[metric][key])
            for q, guess in ((0.5, estimate.median), (0.9, estimate.p90)):
                position = (len(values) - 1) * q
                low = bucket_bounds(bucket_of(values[math.floor(position)]))[0]
                high = bucket_bounds(bucket_of(values[math.ceil(position)]))[1]
                assert guess is not None and low <= guess <= high, (metric, key, q)


def raw_durations(events: list[Event], office_id: int, filters: Filters) -> dict:
    """metric → (service, step) → raw milliseconds, straight from the replayed facts."""
    raw: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for fact in facts_for(events, TOKYO):
        if fact.kind in DURATION_KINDS and fact.office_id == office_id and filters.covers(
                fact.at.astimezone(TOKYO).date()):
            keys = [(fact.service_id, None), (None, None)]
            if fact.kind.value != "stay":
                keys.append((fact.service_id, fact.step))
            for key in keys:
                raw[fact.kind.value][key].append(fact.value_ms)
    return raw


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(timed=event_logs(), order=st.randoms(use_true_random=False), batch=st.integers(1, 6))
def test_incremental_rollups_equal_recomputation(engine, timed, order, batch):
    """Random logs, written partly out of time order and applied in random batches, leave
    the rollups equal to a rebuild and their aggregates equal to a full scan of the log."""
    # Mostly chronological, as a live queue writes them; some arrive late (imports, clocks).
    for _ in range(order.choice([0, 0, 1, 3])):
        timed.append(timed.pop(order.randrange(len(timed))))
    with session_scope(engine) as session:
        scenario = Scenario(EventLog(session, incremental=False))
        office_id = scenario.log.office.id
        written: list[Event] = []
        pending = [scenario.event(at, action) for at, action in timed]
        for start in range(0, len(pending), batch):
            chunk = pending[start:start + batch]
            session.add_all(chunk)
            apply_events(session, chunk)
        written += pending
        filters = Filters(day("2026-03-31"), day("2026-04-03"), office_id=office_id)
        rolled = metrics(session, filters)
        exact = metrics_from_log(session, filters)
        assert_same_aggregates(rolled, exact, raw_durations(written, office_id, filters))
        incremental = rollup_rows(session, office_id)
        rebuild_rollups(session, office_id)
        assert rollup_rows(session, office_id) == incremental


def test_rebuild_of_one_office_leaves_the_others(engine):
    """Rebuilding one office restores its rows and does not touch another office's."""
    with session_scope(engine) as session:
        first, second = EventLog(session), EventLog(session)
        for log in (first, second):
            service = log.service("x")
            visit = log.visit("X1", tokyo("2026-04-06 09:00"), service)
            task = log.task(visit, service)
            log.served(visit, task, service, "2026-04-06 09:00", "2026-04-06 09:05",
                       "2026-04-06 09:06", "2026-04-06 09:10")
        first_rows = rollup_rows(session, first.office.id)
        second_rows = rollup_rows(session, second.office.id)
        assert first_rows[stage_hour.name] and first_rows[counter_day.name]
        session.execute(stage_hour.delete().where(stage_hour.c.office_id == first.office.id))
        rebuild_rollups(session, first.office.id)
        assert rollup_rows(session, first.office.id) == first_rows
        assert rollup_rows(session, second.office.id) == second_rows


@pytest.mark.parametrize("late", [False, True])
def test_a_late_event_moves_a_wait(engine, late):
    """A no-show's wait ends at its first call; when the resident returns and is called again,
    the wait is re-measured to that call, even if the return is written after the start."""
    with session_scope(engine) as session:
        log = EventLog(session)
        service = log.service("x")
        visit = log.visit("X1", tokyo("2026-04-06 09:00"), service)
        task = log.task(visit, service)
        log.task_event(EventKind.QUEUED, tokyo("2026-04-06 09:00"), visit, task, service)
        log.task_event(EventKind.CALLED, tokyo("2026-04-06 09:10"), visit, task, service)
        log.task_event(EventKind.NO_SHOW, tokyo("2026-04-06 09:12"), visit, task, service)
        filters = Filters(day("2026-04-06"), day("2026-04-06"), office_id=log.office.id)
        assert metrics(session, filters).durations["wait"][(None, None)].mean == 600.0
        if late:
            log.task_event(EventKind.STARTED, tokyo("2026-04-06 09:31"), visit, task, service)
            log.task_event(EventKind.CALLED, tokyo("2026-04-06 09:30"), visit, task, service)
        else:
            log.task_event(EventKind.CALLED, tokyo("2026-04-06 09:30"), visit, task, service)
            log.task_event(EventKind.STARTED, tokyo("2026-04-06 09:31"), visit, task, service)
        result = metrics(session, filters)
        assert result.durations["wait"][(None, None)].mean == 1800.0
        assert result.durations["walk"][(None, None)].mean == 60.0
        exact = metrics_from_log(session, filters)
        assert (result.cells, result.calls) == (exact.cells, exact.calls)
