"""Rollups kept event by event equal a full recomputation from the log, whatever happened;
month rows are the sums of their days, and a range read from months and days gives the same
figures as from days alone."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from analytics.metrics import (
    Filters,
    Metrics,
    Part,
    bucket_bounds,
    metrics,
    metrics_from_log,
    split_range,
)
from analytics.models import (
    MONTH_TABLES,
    ROLLUP_TABLES,
    bucket_of,
    counter_day,
    office_day,
    stage_day,
    stage_hour,
    stage_month,
)
from analytics.rollups import apply_events, rebuild_rollups
from analytics.timeline import DURATION_KINDS, facts_for
from counter.models import Event, EventKind
from frontyard import database
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
#: Days a visit is moved by: most stay at the end of March (and run into April), some land
#: inside April or in May, so ranges have whole months and partial ones to read.
VISIT_SHIFTS = [0, 0, 1, 19, 34]
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
        story = [(draw(st.integers(0, 60)), {"kind": E.ISSUED, "visit": visit,
                                             "service": draw(st.integers(0, 1))})]
        for task in range(draw(st.integers(1, 2))):
            story += draw(task_story(visit, task))
        if draw(st.booleans()):
            story.append((max(minute for minute, _action in story),
                          {"kind": E.VISIT_CLOSED, "visit": visit, "service": 0}))
        shift = draw(st.sampled_from(VISIT_SHIFTS)) * 24 * 60
        timed += [(minute + shift, action) for minute, action in story]
    for counter in range(2):
        minute = 0
        for kind in draw(st.lists(st.sampled_from([E.COUNTER_OPENED, E.COUNTER_CLOSED]),
                                  max_size=4)):
            # Now and then a counter stays open for days (across the month's end).
            minute += draw(st.one_of(st.integers(1, 240), st.integers(1, 3 * 24 * 60)))
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


def raw_durations(events: list[Event], filters: Filters) -> dict:
    """metric → (service, step) → raw milliseconds, straight from the replayed facts."""
    raw: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for fact in facts_for(events, TOKYO):
        if fact.kind not in DURATION_KINDS or not filters.covers(fact.at.astimezone(TOKYO).date()):
            continue
        if filters.office_id not in (None, fact.office_id) or filters.service_id not in (
                None, fact.service_id):
            continue
        if fact.kind.value != "stay" and filters.step not in (None, fact.step):
            continue
        keys = [(fact.service_id, None), (None, None)]
        if fact.kind.value != "stay":
            keys.append((fact.service_id, fact.step))
        for key in keys:
            raw[fact.kind.value][key].append(fact.value_ms)
    return raw


def nonzero(rows: dict[tuple, Counter[str]]) -> dict[tuple, dict[str, int]]:
    """Rows with something in them, as plain dicts of their non-zero values."""
    return {key: {name: value for name, value in values.items() if value}
            for key, values in rows.items() if any(values.values())}


def assert_months_add_up(session: Session, office_id: int) -> None:
    """Every month row is the sum of its month's day rows on its weekday, and every office-day
    row the sum of the office's stage rows of that date (worked out here, independently)."""
    for day_table, month_table in MONTH_TABLES.items():
        keys = [c.name for c in month_table.primary_key.columns
                if c.name not in ("month", "office_id", "weekday")]
        values = [c.name for c in month_table.c if not c.primary_key]
        expected: dict[tuple, Counter[str]] = defaultdict(Counter)
        for row in session.execute(select(day_table).where(
                day_table.c.office_id == office_id)).mappings():
            key = (row["local_date"].replace(day=1), row["local_date"].weekday(),
                   *(row[name] for name in keys))
            expected[key].update({name: int(row[name]) for name in values})
        found = {(row["month"], row["weekday"], *(row[name] for name in keys)):
                 Counter({name: int(row[name]) for name in values})
                 for row in session.execute(select(month_table).where(
                     month_table.c.office_id == office_id)).mappings()}
        assert nonzero(found) == nonzero(expected), month_table.name
    names = ("issued", "arrivals", "open_ms")
    expected = defaultdict(Counter)
    for row in session.execute(select(stage_day).where(
            stage_day.c.office_id == office_id)).mappings():
        expected[(row["local_date"],)].update({name: int(row[name]) for name in names})
    found = {(row["local_date"],): Counter({name: int(row[name]) for name in names})
             for row in session.execute(select(office_day).where(
                 office_day.c.office_id == office_id)).mappings()}
    assert nonzero(found) == nonzero(expected)


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose work is undone at the end, so hypothesis examples never see each other's
    rows (a replayed example then runs on exactly the state it first ran on)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


MARCH = day("2026-03-01")
#: Ranges over the generated logs (31 March – early May): days only, whole months, whole
#: months with partial ones at either end, a partial month at one end only.
RANGES = [(day("2026-03-31"), day("2026-04-03")), (day("2026-03-01"), day("2026-05-31")),
          (day("2026-03-15"), day("2026-04-30")), (day("2026-04-01"), day("2026-05-10")),
          (day("2026-03-31"), day("2026-04-30")), (day("2026-04-02"), day("2026-05-20"))]
date_ranges = st.one_of(
    st.sampled_from(RANGES),
    st.tuples(st.integers(0, 75), st.integers(0, 90)).map(
        lambda drawn: (MARCH + timedelta(days=drawn[0]),
                       MARCH + timedelta(days=drawn[0] + drawn[1]))))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(timed=event_logs(), order=st.randoms(use_true_random=False), batch=st.integers(1, 6),
       dates=date_ranges, whole_city=st.booleans(), service=st.sampled_from([None, 0, 1]),
       step=st.sampled_from([None, "a"]),
       weekdays=st.one_of(st.none(), st.frozensets(st.integers(0, 6), min_size=1)))
def test_incremental_rollups_equal_recomputation(engine, timed, order, batch, dates,
                                                 whole_city, service, step, weekdays):
    """Random logs, written partly out of time order and applied in random batches, leave
    the rollups equal to a rebuild, month rows equal to the sums of their days, and the
    aggregates of any filter (ranges across months' ends included) equal to a full scan of the
    log and, read from months and days, identical to those read from days alone."""
    # Mostly chronological, as a live queue writes them; some arrive late (imports, clocks).
    for _ in range(order.choice([0, 0, 1, 3])):
        timed.append(timed.pop(order.randrange(len(timed))))
    with rolled_back(engine) as session:
        scenario = Scenario(EventLog(session, incremental=False))
        office_id = scenario.log.office.id
        pending = [scenario.event(at, action) for at, action in timed]
        for start in range(0, len(pending), batch):
            chunk = pending[start:start + batch]
            session.add_all(chunk)
            apply_events(session, chunk)
        filters = Filters(*dates, office_id=None if whole_city else office_id,
                          service_id=None if service is None else scenario.services[service],
                          step=step, weekdays=weekdays)
        rolled = metrics(session, filters)
        assert rolled == metrics(session, filters, months=False)
        exact = metrics_from_log(session, filters)
        assert_same_aggregates(rolled, exact, raw_durations(pending, filters))
        assert_months_add_up(session, office_id)
        incremental = rollup_rows(session, office_id)
        rebuild_rollups(session, office_id)
        assert rollup_rows(session, office_id) == incremental


@pytest.mark.parametrize(("start", "end", "parts"), [
    ("2025-06-10", "2025-06-10", [("day", "2025-06-10", "2025-06-10")]),
    ("2025-06-01", "2025-06-30", [("month", "2025-06-01", "2025-06-01")]),
    ("2025-01-01", "2025-12-31", [("month", "2025-01-01", "2025-12-01")]),
    ("2025-01-13", "2025-12-19", [("day", "2025-01-13", "2025-01-31"),
                                  ("month", "2025-02-01", "2025-11-01"),
                                  ("day", "2025-12-01", "2025-12-19")]),
    ("2025-01-15", "2025-02-14", [("day", "2025-01-15", "2025-02-14")]),
    ("2024-02-01", "2024-02-29", [("month", "2024-02-01", "2024-02-01")]),
    ("2024-02-01", "2024-02-28", [("day", "2024-02-01", "2024-02-28")]),
    ("2025-03-31", "2025-05-01", [("day", "2025-03-31", "2025-03-31"),
                                  ("month", "2025-04-01", "2025-04-01"),
                                  ("day", "2025-05-01", "2025-05-01")]),
    ("2024-12-15", "2025-01-31", [("day", "2024-12-15", "2024-12-31"),
                                  ("month", "2025-01-01", "2025-01-01")]),
])
def test_a_range_splits_into_partial_and_whole_months(start, end, parts):
    """Whole months are read from the month tables, the days around them from the day tables."""
    assert split_range(day(start), day(end)) == [
        Part(level, day(first), day(last)) for level, first, last in parts]
    assert split_range(day(start), day(end), months=False) == [
        Part("day", day(start), day(end))]


def write_months(log: EventLog) -> int:
    """A log over three months' ends (2026-01-28 – 2026-03-03): a visit a working day, one across
    midnight at January's end, a counter open from February's last evening into March and one
    open for the whole period; returns the office id."""
    residents, insurance = log.service("residents", ["a", "b"]), log.service("insurance")
    counter, night = log.counter("1"), log.counter("2")
    staff = log.staff(f"months-{log.office.id}")
    log.open_counter(night, None, tokyo("2026-01-28 08:00"), [residents, insurance])
    today = day("2026-01-28")
    number = 0
    while today <= day("2026-03-03"):
        if today.weekday() < 5:
            number += 1
            minutes = 10 + 7 * (number % 11)
            log.open_counter(counter, staff, tokyo(f"{today} 08:30"), [residents])
            visit = log.visit(f"A{number:03d}", tokyo(f"{today} 09:00"), residents)
            task = log.task(visit, residents)
            called = tokyo(f"{today} 09:00") + timedelta(minutes=minutes)
            log.served(visit, task, residents, f"{today} 09:00", f"{called:%Y-%m-%d %H:%M}",
                       f"{called + timedelta(minutes=2):%Y-%m-%d %H:%M}",
                       f"{called + timedelta(minutes=2 + minutes):%Y-%m-%d %H:%M}",
                       counter, staff, step="a")
            log.close(visit, called + timedelta(minutes=2 + minutes))
            log.close_counter(counter, staff, tokyo(f"{today} 17:00"))
        today += timedelta(days=1)
    late = log.visit("B001", tokyo("2026-01-30 23:50"), insurance)
    task = log.task(late, insurance)
    log.served(late, task, insurance, "2026-01-30 23:50", "2026-01-31 23:55",
               "2026-01-31 23:58", "2026-02-01 00:20", counter, staff)
    log.close(late, tokyo("2026-02-01 00:20"))
    log.open_counter(counter, staff, tokyo("2026-02-28 22:00"), [insurance])
    log.close_counter(counter, staff, tokyo("2026-03-01 01:30"))
    log.close_counter(night, None, tokyo("2026-03-03 18:00"))
    return log.office.id


@pytest.mark.parametrize(("start", "end", "weekdays"), [
    ("2026-01-01", "2026-03-31", None), ("2026-01-29", "2026-03-02", None),
    ("2026-01-31", "2026-03-01", frozenset({0, 6})), ("2026-02-01", "2026-02-28", None),
    ("2026-01-15", "2026-03-15", frozenset({4})),
])
def test_months_and_days_give_the_figures_of_days_alone(engine, start, end, weekdays):
    """Over several months, every figure read from the month tables (with the partial months'
    days) is identical to the same figure read from the day tables alone."""
    with rolled_back(engine) as session:
        office_id = write_months(EventLog(session))
        for office in (office_id, None):
            filters = Filters(day(start), day(end), office_id=office, weekdays=weekdays)
            assert any(part.level == "month" for part in split_range(filters.start,
                                                                     filters.end))
            rolled = metrics(session, filters)
            assert rolled.durations["wait"] and rolled.by_counter and rolled.cells
            assert rolled == metrics(session, filters, months=False)
            exact = metrics_from_log(session, filters)
            assert (rolled.days, rolled.cells, rolled.calls) == (exact.days, exact.cells,
                                                                 exact.calls)


def test_the_month_migration_fills_months_from_the_days(engine, settings):
    """An installation upgraded to the month tables (revision 0004) gets month and office-day
    rows from its day rows, equal to what a rebuild from the log writes: no rebuild needed."""
    with session_scope(engine) as session:
        office_id = write_months(EventLog(session))
    with session_scope(engine) as session:
        rebuild_rollups(session)
        rebuilt = rollup_rows(session, office_id)
    assert rebuilt[stage_month.name] and rebuilt[office_day.name]
    engine.dispose()
    url = settings.resolved_database_url()
    try:
        command.downgrade(database.alembic_config(url), "0003")
        with engine.connect() as connection:
            assert not inspect(connection).has_table(stage_month.name)
        database.upgrade(url)
    finally:
        database.upgrade(url)  # never leave a shared test database behind its models
    with session_scope(engine) as session:
        assert rollup_rows(session, office_id) == rebuilt


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
