"""The import gives the same rollups in any row order within a second, and counts a repeated
row once (analytics/import_order.py, through `import_events` on SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from analytics.import_order import visit_order
from analytics.import_rows import Row
from analytics.importer import ImportResult, import_events
from analytics.models import ROLLUP_TABLES, stage_day
from counter.models import EventKind
from frontyard.i18n import use_locale
from tests.analytics_log import TOKYO

HEADER = "visit,ticket,office,service,step,event,timestamp,counter,task,staff"
START = datetime(2026, 4, 6, 9, 0, tzinfo=TOKYO)
#: Seconds between one event and the next: mostly the same second, as in a busy office's log.
GAPS = st.sampled_from([0, 0, 0, 1, 45, 300])
AGAIN = {"returned", "released"}


@st.composite
def task_events(draw: Any) -> list[tuple[str, str]]:
    """(event, step) of one task, along a path the queue engine allows."""
    events = [("queued", "受付")]
    for _round in range(draw(st.integers(0, 1))):
        events += [("called", "受付"), ("no_show", "受付"), ("returned", "受付")]
    events += [("called", "受付")] + [("recalled", "受付")] * draw(st.integers(0, 1))
    if draw(st.booleans()):
        events += [("held", "受付"), ("released", "受付"), ("called", "受付")]
    events.append(("started", "受付"))
    events += [("step", step) for step in ["確認", "交付"][:draw(st.integers(0, 2))]]
    events.append((draw(st.sampled_from(["done", "done", "cancelled"])), ""))
    return events


@st.composite
def histories(draw: Any) -> list[list[str]]:
    """CSV rows (as lists of values) of a few visits and one counter, in causal order."""
    rows = [["", "", "test", "residents;insurance", "", "counter_opened",
             START.isoformat(), "1", "", "counter-staff-1"]]
    last = START
    for number in range(1, draw(st.integers(1, 4)) + 1):
        at = START + timedelta(seconds=draw(st.sampled_from([0, 1, 60])) * number)
        visit, ticket = f"v{number}", f"A-{number:03d}"
        rows.append([visit, ticket, "test", "residents", "", "issued", at.isoformat(), "", "",
                     ""])
        for task, service in enumerate(["residents", "insurance"][:draw(st.integers(1, 2))]):
            previous = ""
            for event, step in draw(task_events()):
                # A ticket called again after a return is a second later: the same row
                # twice in one second would be a repeat.
                gap = draw(GAPS)
                at += timedelta(seconds=max(gap, 1) if previous in AGAIN else gap)
                previous = event
                counter = "1" if event in {"called", "started", "done", "no_show"} else ""
                rows.append([visit, ticket, "test", service, step, event, at.isoformat(),
                             counter, f"t{task}", "counter-staff-1" if counter else ""])
        rows.append([visit, ticket, "test", "", "", "visit_closed", at.isoformat(), "", "", ""])
        last = max(last, at)
    at = last + timedelta(seconds=draw(GAPS))
    rows.append(["", "", "test", "insurance", "", "counter_services", at.isoformat(), "1", "",
                 "counter-staff-1"])
    at += timedelta(seconds=draw(GAPS))
    rows.append(["", "", "test", "", "", "counter_closed", at.isoformat(), "1", "", ""])
    return rows


def csv_of(rows: list[list[str]]) -> bytes:
    """The rows as an import file."""
    return ("\n".join([HEADER, *(",".join(row) for row in rows)]) + "\n").encode()


def within_seconds(rows: list[list[str]], rng: random.Random) -> list[list[str]]:
    """The rows sorted by time, shuffled among rows of the same second."""
    keyed = [(row[6], rng.random(), row) for row in rows]
    return [row for _at, _r, row in sorted(keyed)]


def rollups_after(engine, data: bytes) -> tuple[ImportResult, dict[str, list[Any]]]:  # type: ignore[no-untyped-def]
    """Import into a transaction that is rolled back; the result and every rollup row."""
    with use_locale("en"), Session(engine) as session:
        try:
            result = import_events(session, data, "Asia/Tokyo")
            tables = {table.name: sorted(tuple(row) for row in session.execute(select(table)))
                      for table in ROLLUP_TABLES}
        finally:
            session.rollback()
    return result, tables


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(rows=histories(), seed=st.integers(0, 2**32 - 1))
def check_shuffles(engine, rows: list[list[str]], seed: int) -> None:
    """Any order within each second, or the whole file reversed, counts the same."""
    _result, expected = rollups_after(engine, csv_of(rows))
    assert any(expected[name] for name in expected)
    rng = random.Random(seed)
    for variant in (within_seconds(rows, rng), sorted(rows, key=lambda row: (row[6], row[5])),
                    rows[::-1]):
        _result, tables = rollups_after(engine, csv_of(variant))
        assert tables == expected


def test_any_order_within_a_second_counts_the_same(engine, world):
    """Shuffled, sorted by `timestamp, event` or reversed: the same rollup rows."""
    check_shuffles(engine)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=histories(), picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3))
def check_repeats(engine, rows: list[list[str]], picks: list[int]) -> None:
    """Repeated rows are reported with the line they repeat and counted once."""
    expected_result, expected = rollups_after(engine, csv_of(rows))
    assert expected_result.repeats == 0
    repeated = [rows[pick % len(rows)] for pick in picks]
    result, tables = rollups_after(engine, csv_of(rows + repeated))
    assert tables == expected
    assert result.events == expected_result.events
    assert result.repeats == len(repeated)
    lines = [problem.line for problem in result.repeated]
    assert lines == list(range(len(rows) + 2, len(rows) + 2 + len(repeated)))
    for problem, row in zip(result.repeated, repeated, strict=True):
        assert f"repeats line {rows.index(row) + 2}" in problem.message


def test_a_repeated_row_is_reported_and_counted_once(engine, world):
    """Duplicates in any place of the file: reported, not counted."""
    check_repeats(engine)


def test_the_issue_file_sorted_by_timestamp_and_event(engine, world):
    """Issue 13: `called` sorted before `queued` in the same second lost the arrival."""
    rows = [["v1", "A-001", "test", "residents", "", kind, at, counter, "", ""]
            for kind, at, counter in [
                ("issued", "2026-04-06T09:00:00+09:00", ""),
                ("queued", "2026-04-06T09:00:00+09:00", ""),
                ("called", "2026-04-06T09:00:00+09:00", "1"),
                ("started", "2026-04-06T09:01:00+09:00", "1"),
                ("done", "2026-04-06T09:05:00+09:00", "1"),
                ("visit_closed", "2026-04-06T09:05:00+09:00", "")]]
    _result, expected = rollups_after(engine, csv_of(rows))
    _result, sorted_tables = rollups_after(engine, csv_of(sorted(rows, key=lambda r: (r[6], r[5]))))
    assert sorted_tables == expected
    columns = list(stage_day.c.keys())
    (day,) = expected[stage_day.name]
    assert (day[columns.index("arrivals")], day[columns.index("calls")],
            day[columns.index("wait_n")], day[columns.index("wait_ms")]) == (1, 1, 1, 0)


def row(line: int, kind: EventKind, second: int = 0, task: str = "t") -> Row:
    """A checked row of visit v1 at 09:00:0`second`."""
    return Row(line, kind, START + timedelta(seconds=second), 1, "v1", "A-001", (1,), None, 1,
               None if kind in {EventKind.ISSUED, EventKind.VISIT_CLOSED} else task, None)


@pytest.mark.parametrize("kinds", [
    ["issued", "queued", "called", "started", "done", "visit_closed"],
    ["queued", "called", "no_show", "returned", "called", "started"],
    ["queued", "called", "started", "transferred", "queued", "called"],
    ["queued", "held", "released", "called", "recalled", "started", "step", "done"],
])
def test_one_instant_is_put_in_the_queue_s_order(kinds):
    """Every permutation of one second's events comes out in the order the queue made them."""
    rows = [row(line, EventKind(kind)) for line, kind in enumerate(kinds, start=2)]
    for seed in range(30):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert [r.kind.value for r in visit_order(shuffled)] == kinds
