"""The week-ahead counters: Erlang C per weekday from the forecast, not an all-weekday average."""

from __future__ import annotations

from datetime import date, timedelta

from analytics.erlang import agents_needed
from analytics.forecast import learn
from analytics.metrics import DurationStats
from analytics.staffing import ServiceTarget
from analytics.week_ahead import week_ahead

HANDLING = 600.0
#: Eight ordinary weeks (Monday 2025-06-02 on; no month-end, no moving season): 20 arrivals
#: at 10:00 on Mondays, 8 on the other weekdays.
WEEKS = [date(2025, 6, 2) + timedelta(days=7 * week + day) for week in range(8)
         for day in range(5)]


def _history() -> dict[date, dict[int, int]]:
    return {day: {10: 20 if day.weekday() == 0 else 8} for day in WEEKS
            if day.day <= 27}


def test_a_busier_monday_needs_more_counters_than_the_all_weekday_average() -> None:
    """Monday's need comes from Monday's arrivals; the average over weekdays understates it."""
    history = _history()
    target = ServiceTarget()
    needs = week_ahead({1: learn(history)}, {1: HANDLING}, date(2025, 9, 8), target)
    by_day = {need.day.weekday(): need for need in needs if need.hour == 10}
    assert set(by_day) == {0, 1, 2, 3, 4}  # no weekend rows: the office is closed then
    average = sum(sum(hours.values()) for hours in history.values()) / len(history)
    averaged = agents_needed(average, HANDLING, target.level, target.seconds)
    assert by_day[0].expected == 20
    assert by_day[0].needed == agents_needed(20, HANDLING, target.level, target.seconds)
    assert by_day[0].needed > averaged >= by_day[1].needed
    assert by_day[1].needed == agents_needed(8, HANDLING, target.level, target.seconds)


def test_without_a_handling_time_the_need_is_unknown_not_zero() -> None:
    """A service never handled yet has expected arrivals but no counters figure."""
    needs = week_ahead({1: learn(_history())}, {1: None}, date(2025, 9, 8), ServiceTarget(),
                       days=1)
    assert [(need.expected, need.needed) for need in needs] == [(20, None)]


def test_measured_share_within_reads_the_wait_buckets() -> None:
    """Waits of 5, 10 and 20 minutes: two of three were called within 15 minutes."""
    from analytics.metrics.quantiles import Sums

    stats = Sums(3, 0, values=[300_000, 600_000, 1_200_000]).stats()
    assert stats.share_within(15 * 60) == 2 / 3
    assert stats.share_within(0) == 0
    assert DurationStats(1, 1, None, None).share_within(900) is None
