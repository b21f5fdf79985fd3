"""Staffing: Erlang C needs per hour and service against the counters that were open."""

from __future__ import annotations

import pytest

from analytics.metrics import DurationStats, Filters, HourCell, Metrics, metrics
from analytics.staffing import ServiceTarget, StaffingStatus, staffing
from frontyard.database import session_scope
from frontyard.errors import ValidationFailed
from tests.analytics_log import EventLog, day, tokyo

HOUR_MS = 3_600_000


def two_mondays() -> Metrics:
    """Two open Mondays: service 1 at 9h (400 arrivals, 180 s, 12 counters a day) and 10h
    (20 arrivals, only 3 handling samples), service 2 at 11h with no handling measured,
    and one counter at 9h serving no declared service."""
    result = Metrics(Filters(day("2026-04-06"), day("2026-04-13")))
    result.days = {0: 2}
    result.cells = {
        (1, 0, 9): HourCell(arrivals=400, handling_n=10, handling_ms=1_800_000,
                            open_ms=2 * 12 * HOUR_MS),
        (1, 0, 10): HourCell(arrivals=20, handling_n=3, handling_ms=30_000,
                             open_ms=2 * 4 * HOUR_MS),
        (2, 0, 11): HourCell(arrivals=4),
        (0, 0, 9): HourCell(open_ms=2 * HOUR_MS),
    }
    result.durations = {"handling": {(1, None): DurationStats(13, 3_900_000, None, None)}}
    return result


def test_reference_hour_is_under_staffed():
    """200/h at 180 s with 80 % in 20 s needs 14 counters; 12 were open; 30 % shrinkage → 20."""
    rows = staffing(two_mondays(), ServiceTarget(level=0.8, seconds=20, shrinkage=0.3))
    nine = next(row for row in rows if row.service_id == 1 and row.hour == 9)
    assert (nine.arrivals_per_hour, nine.handling_seconds) == (200.0, 180.0)
    assert (nine.needed, nine.staff_needed, nine.counters_open) == (14, 20, 12.0)
    assert nine.status is StaffingStatus.UNDER
    assert nine.level_with_open == pytest.approx(0.6402, abs=1e-4)  # the 12-agent table value


def test_sparse_hour_uses_the_service_mean_and_flags_over_staffing():
    """10h: 10/h; 3 samples are too few, so the period mean (300 s) is used: A = 0.83 needs 2
    counters for 80 % in 15 minutes (1 counter reaches only 49 %); 4 open is over-staffed."""
    rows = staffing(two_mondays())
    ten = next(row for row in rows if row.service_id == 1 and row.hour == 10)
    assert (ten.arrivals_per_hour, ten.handling_seconds, ten.needed) == (10.0, 300.0, 2)
    assert ten.counters_open == 4.0
    assert ten.status is StaffingStatus.OVER


def test_no_handling_data_is_unknown_and_totals_add_up():
    """Without any handling time the need is unknown; the all-services row adds needs and
    counts every open counter, including those open for no declared service."""
    rows = staffing(two_mondays(), ServiceTarget(seconds=20))
    eleven = next(row for row in rows if row.service_id == 2)
    assert (eleven.needed, eleven.status) == (None, StaffingStatus.UNKNOWN)
    totals = {row.hour: row for row in rows if row.service_id is None}
    assert sorted(totals) == [9, 10, 11]
    assert (totals[9].needed, totals[9].counters_open) == (14, 13.0)
    assert totals[9].status is StaffingStatus.UNDER  # 13 open vs 14 needed
    assert totals[11].status is StaffingStatus.UNKNOWN


def test_targets_are_validated():
    """Impossible targets are refused."""
    for bad in ({"level": 1.0}, {"seconds": -1}, {"shrinkage": 1.0}, {"over_margin": 0}):
        with pytest.raises(ValidationFailed):
            ServiceTarget(**bad)


def test_staffing_from_a_logged_morning(engine):
    """Six residents in one hour at 300 s each with two counters open: one would do."""
    with session_scope(engine) as session:
        log = EventLog(session)
        service = log.service("tax")
        c1, c2 = log.counter("1"), log.counter("2")
        log.open_counter(c1, None, tokyo("2026-04-06 09:00"), [service])
        log.open_counter(c2, None, tokyo("2026-04-06 09:00"), [service])
        for n in range(6):
            visit = log.visit(f"E{n}", tokyo(f"2026-04-06 09:{n * 10:02d}"), service)
            task = log.task(visit, service)
            log.served(visit, task, service, f"2026-04-06 09:{n * 10:02d}",
                       f"2026-04-06 09:{n * 10 + 1:02d}", f"2026-04-06 09:{n * 10 + 2:02d}",
                       f"2026-04-06 09:{n * 10 + 7:02d}", counter_id=c1 if n % 2 else c2)
        log.close_counter(c1, None, tokyo("2026-04-06 10:00"))
        log.close_counter(c2, None, tokyo("2026-04-06 10:00"))
        result = metrics(session, Filters(day("2026-04-06"), day("2026-04-06"),
                                          office_id=log.office.id))
    row = next(row for row in staffing(result) if row.service_id == service)
    assert (row.hour, row.arrivals_per_hour, row.handling_seconds) == (9, 6.0, 300.0)
    assert (row.needed, row.counters_open, row.status) == (1, 2.0, StaffingStatus.OVER)
