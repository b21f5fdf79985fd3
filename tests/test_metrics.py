"""Each metric against a small event log whose figures are worked out by hand below.

The log (Asia/Tokyo; 2026-04-06 is a Monday):

V1 A001 issued Mon 09:00 for residents (R, steps 受付 → 交付)
  T1 R: queued 09:00 (受付), called 09:10 at C1/S1, started 09:11, step→交付 09:15, done 09:20
        wait 600 s, walk 60 s, handling 受付 240 s + 交付 300 s
  T2 insurance (I): queued 09:20, called 09:35, no-show 09:38, returned + queued 09:40,
        called 09:50, started 09:52, done 10:02 at C2/S2
        wait 09:20 → 09:50 = 1800 s (the last call counts), walk 120 s, handling 600 s
  closed 10:02: stay 09:00 → 10:02 = 3720 s
V2 A002 issued Mon 09:05 for R
  T3 R: queued 09:05 (受付), called 09:12, recalled 09:14, started 09:16 (C1/S1),
        transferred 09:20 → wait 420 s, walk 240 s (first call), handling R/受付 240 s;
        queued in I 09:20, called 09:25, started 09:26, done 09:31 (C2/S2)
        → wait 300 s, walk 60 s, handling 300 s
  closed 09:31: stay 1560 s
V3 B001 issued Mon 23:50 for I (across midnight)
  T4 I: queued 23:50, called Tue 00:05, started 00:06, done 00:16 (C2/S2)
        wait 900 s (Monday 23h), walk 60 s and handling 600 s (Tuesday 0h)
  closed 00:16: stay 1560 s (Monday)
V4 A003 issued Tue 10:00 for R
  T5 R: queued 10:00 (受付), called 10:20 (C1/S1), no-show 10:25, never returns
        → wait 1200 s to the first call; closed 10:30 with nothing done: no stay
Counters
  C1/S1 for R: Mon 08:30–12:00 (8h 30 min, 9h, 10h, 11h 60 min), Tue 09:55–10:40 (5 + 40 min)
  C2/S2 for I: Mon 08:45–10:15 (8h 15 min, 9h 60 min, 10h 15 min)
  C2/S2 for R and I: Mon 23:45 – Tue 00:30 (Mon 23h 15 min, Tue 0h 30 min, halved per service)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from analytics.metrics import (
    CallStats,
    Filters,
    Metrics,
    Throughput,
    exact_quantile,
    histogram_quantile,
    metrics,
    metrics_from_log,
)
from analytics.models import BUCKET_COUNT, bucket_of
from analytics.rollups import rebuild_rollups
from counter.models import EventKind
from frontyard.database import session_scope
from frontyard.errors import Conflict, ValidationFailed
from tests.analytics_log import EventLog, day, tokyo

MIN = 60_000  # ms
HOUR = 3_600_000  # ms


@dataclass
class Ids:
    """Ids of the rows the test log created."""

    office: int
    residents: int
    insurance: int
    c1: int
    c2: int
    s1: int
    s2: int


def build_log(log: EventLog) -> Ids:
    """Write the event log described in the module docstring."""
    R = log.service("residents", ["受付", "交付"])
    I = log.service("insurance")  # noqa: E741  (I for insurance, as in the docstring)
    c1, c2 = log.counter("1"), log.counter("2")
    s1, s2 = log.staff("s1"), log.staff("s2")
    at1 = {"counter_id": c1, "staff_user_id": s1}
    at2 = {"counter_id": c2, "staff_user_id": s2}
    E = EventKind

    log.open_counter(c1, s1, tokyo("2026-04-06 08:30"), [R])
    log.open_counter(c2, s2, tokyo("2026-04-06 08:45"), [I])

    v1 = log.visit("A001", tokyo("2026-04-06 09:00"), R)
    t1, t2 = log.task(v1, R, 0), log.task(v1, I, 1)
    v2 = log.visit("A002", tokyo("2026-04-06 09:05"), R)
    t3 = log.task(v2, R, 0)
    log.task_event(E.QUEUED, tokyo("2026-04-06 09:00"), v1, t1, R, step="受付")
    log.task_event(E.QUEUED, tokyo("2026-04-06 09:05"), v2, t3, R, step="受付")
    log.task_event(E.CALLED, tokyo("2026-04-06 09:10"), v1, t1, R, **at1)
    log.task_event(E.STARTED, tokyo("2026-04-06 09:11"), v1, t1, R, **at1)
    log.task_event(E.CALLED, tokyo("2026-04-06 09:12"), v2, t3, R, **at1)
    log.task_event(E.RECALLED, tokyo("2026-04-06 09:14"), v2, t3, R, **at1)
    log.task_event(E.STEP, tokyo("2026-04-06 09:15"), v1, t1, R, data={"step": "交付"}, **at1)
    log.task_event(E.STARTED, tokyo("2026-04-06 09:16"), v2, t3, R, **at1)
    log.task_event(E.DONE, tokyo("2026-04-06 09:20"), v1, t1, R, **at1)
    log.task_event(E.QUEUED, tokyo("2026-04-06 09:20"), v1, t2, I)
    log.task_event(E.TRANSFERRED, tokyo("2026-04-06 09:20"), v2, t3, R, **at1,
                   data={"to_service_id": I})
    log.task_event(E.QUEUED, tokyo("2026-04-06 09:20"), v2, t3, I)
    log.task_event(E.CALLED, tokyo("2026-04-06 09:25"), v2, t3, I, **at2)
    log.task_event(E.STARTED, tokyo("2026-04-06 09:26"), v2, t3, I, **at2)
    log.task_event(E.DONE, tokyo("2026-04-06 09:31"), v2, t3, I, **at2)
    log.close(v2, tokyo("2026-04-06 09:31"))
    log.task_event(E.CALLED, tokyo("2026-04-06 09:35"), v1, t2, I, **at2)
    log.task_event(E.NO_SHOW, tokyo("2026-04-06 09:38"), v1, t2, I, **at2)
    log.task_event(E.RETURNED, tokyo("2026-04-06 09:40"), v1, t2, I)
    log.task_event(E.QUEUED, tokyo("2026-04-06 09:40"), v1, t2, I)
    log.task_event(E.CALLED, tokyo("2026-04-06 09:50"), v1, t2, I, **at2)
    log.task_event(E.STARTED, tokyo("2026-04-06 09:52"), v1, t2, I, **at2)
    log.task_event(E.DONE, tokyo("2026-04-06 10:02"), v1, t2, I, **at2)
    log.close(v1, tokyo("2026-04-06 10:02"))
    log.close_counter(c2, s2, tokyo("2026-04-06 10:15"))
    log.close_counter(c1, s1, tokyo("2026-04-06 12:00"))

    log.open_counter(c2, s2, tokyo("2026-04-06 23:45"), [R, I])
    v3 = log.visit("B001", tokyo("2026-04-06 23:50"), I)
    t4 = log.task(v3, I)
    log.task_event(E.QUEUED, tokyo("2026-04-06 23:50"), v3, t4, I)
    log.task_event(E.CALLED, tokyo("2026-04-07 00:05"), v3, t4, I, **at2)
    log.task_event(E.STARTED, tokyo("2026-04-07 00:06"), v3, t4, I, **at2)
    log.task_event(E.DONE, tokyo("2026-04-07 00:16"), v3, t4, I, **at2)
    log.close(v3, tokyo("2026-04-07 00:16"))
    log.close_counter(c2, s2, tokyo("2026-04-07 00:30"))

    log.open_counter(c1, s1, tokyo("2026-04-07 09:55"), [R])
    v4 = log.visit("A003", tokyo("2026-04-07 10:00"), R)
    t5 = log.task(v4, R)
    log.task_event(E.QUEUED, tokyo("2026-04-07 10:00"), v4, t5, R, step="受付")
    log.task_event(E.CALLED, tokyo("2026-04-07 10:20"), v4, t5, R, **at1)
    log.task_event(E.NO_SHOW, tokyo("2026-04-07 10:25"), v4, t5, R, **at1)
    log.close(v4, tokyo("2026-04-07 10:30"))
    log.close_counter(c1, s1, tokyo("2026-04-07 10:40"))
    return Ids(log.office.id, R, I, c1, c2, s1, s2)


@pytest.fixture
def logged(engine):
    """The hand-computed log, written event by event with incremental rollups."""
    with session_scope(engine) as session:
        ids = build_log(EventLog(session))
    return ids


BOTH = pytest.mark.parametrize("source", ["rollups", "log"])


def read(engine, source: str, **filters) -> Metrics:
    """Metrics from the rollups or from the event log."""
    chosen = Filters(**{"start": day("2026-04-06"), "end": day("2026-04-07"), **filters})
    with session_scope(engine) as session:
        if source == "rollups":
            return metrics(session, chosen, "Asia/Tokyo")
        return metrics_from_log(session, chosen, "Asia/Tokyo")


def counts_and_means(result: Metrics, metric: str) -> dict:
    """(service, step) → (count, mean seconds) of one duration."""
    return {key: (stats.count, stats.mean) for key, stats in result.durations[metric].items()}


@BOTH
def test_arrivals_issued_and_days(engine, logged, source):
    """Queue entries and tickets by weekday × hour; the open days divide rates."""
    result = read(engine, source, office_id=logged.office)
    assert result.days == {0: 1, 1: 1}
    assert result.heatmap("arrivals") == {(0, 9): 4, (0, 23): 1, (1, 10): 1}
    assert result.heatmap("issued") == {(0, 9): 2, (0, 23): 1, (1, 10): 1}


@BOTH
def test_duration_counts_and_means(engine, logged, source):
    """Wait, walk, handling and stay per step, per service and overall."""
    R, I = logged.residents, logged.insurance  # noqa: E741
    result = read(engine, source)
    assert counts_and_means(result, "wait") == {
        (None, None): (6, 870.0), (R, None): (3, 740.0), (R, "受付"): (3, 740.0),
        (I, None): (3, 1000.0), (I, ""): (3, 1000.0)}
    assert counts_and_means(result, "walk") == {
        (None, None): (5, 108.0), (R, None): (2, 150.0), (R, "受付"): (2, 150.0),
        (I, None): (3, 80.0), (I, ""): (3, 80.0)}
    assert counts_and_means(result, "handling") == {
        (None, None): (6, 380.0), (R, None): (3, 260.0), (R, "交付"): (1, 300.0),
        (R, "受付"): (2, 240.0), (I, None): (3, 500.0), (I, ""): (3, 500.0)}
    assert counts_and_means(result, "stay") == {
        (None, None): (3, 2280.0), (R, None): (2, 2640.0), (I, None): (1, 1560.0)}


def test_exact_medians_and_p90_from_the_log(engine, logged):
    """Linear interpolation between order statistics, worked out in the docstring's numbers."""
    R, I = logged.residents, logged.insurance  # noqa: E741
    durations = read(engine, "log").durations
    expected = {  # (metric, key): (median, p90)
        ("wait", (None, None)): (750.0, 1500.0),  # 300 420 600 900 1200 1800
        ("wait", (R, "受付")): (600.0, 1080.0),  # 420 600 1200
        ("wait", (I, "")): (900.0, 1620.0),  # 300 900 1800
        ("walk", (None, None)): (60.0, 192.0),  # 60 60 60 120 240
        ("walk", (R, "受付")): (150.0, 222.0),  # 60 240
        ("handling", (None, None)): (300.0, 600.0),  # 240 240 300 300 600 600
        ("handling", (R, None)): (240.0, 288.0),  # 240 240 300
        ("stay", (None, None)): (1560.0, 3288.0),  # 1560 1560 3720
        ("stay", (R, None)): (2640.0, 3504.0),  # 1560 3720
    }
    for (metric, key), (median, p90) in expected.items():
        stats = durations[metric][key]
        assert (stats.median, stats.p90) == pytest.approx((median, p90)), (metric, key)


def test_rollup_medians_are_read_from_buckets(engine, logged):
    """The rollups interpolate inside fixed buckets: overall wait 300 s [300,360), 420 s
    [420,480), 600 s [600,720), 900 s [900,1080), 1200 s [1200,1500), 1800 s [1800,2100):
    the median (rank 3) ends bucket [600,720) → 720 s; p90 (rank 5.4) is 0.4 into
    [1800,2100) → 1920 s."""
    stats = read(engine, "rollups").durations["wait"][(None, None)]
    assert (stats.median, stats.p90) == pytest.approx((720.0, 1920.0))


@BOTH
def test_no_show_rate(engine, logged, source):
    """No-shows per call; recalls are counted apart and are not calls."""
    R, I = logged.residents, logged.insurance  # noqa: E741
    calls = read(engine, source).calls
    assert calls == {(None, None): CallStats(7, 1, 2), (R, None): CallStats(3, 1, 1),
                     (R, "受付"): CallStats(3, 1, 1), (I, None): CallStats(4, 0, 1),
                     (I, ""): CallStats(4, 0, 1)}
    assert calls[(None, None)].no_show_rate == pytest.approx(2 / 7)
    assert calls[(I, None)].no_show_rate == pytest.approx(0.25)


@BOTH
def test_counters_open_per_hour(engine, logged, source):
    """Average counters open per weekday × hour, across midnight too."""
    assert read(engine, source).counters_open() == pytest.approx({
        (0, 8): 0.75, (0, 9): 2.0, (0, 10): 1.25, (0, 11): 1.0, (0, 23): 0.25,
        (1, 0): 0.5, (1, 9): 5 / 60, (1, 10): 40 / 60})


@BOTH
def test_throughput_per_counter_and_staff(engine, logged, source):
    """Tasks done, handling and open time per counter and per staff member."""
    result = read(engine, source)
    c1 = Throughput(done=1, handling_n=3, handling_ms=13 * MIN, open_ms=4 * HOUR + 15 * MIN)
    c2 = Throughput(done=3, handling_n=3, handling_ms=25 * MIN, open_ms=2 * HOUR + 15 * MIN)
    assert result.by_counter == {logged.c1: c1, logged.c2: c2}
    assert result.by_staff == {logged.s1: c1, logged.s2: c2}
    assert result.by_counter[logged.c2].done_per_open_hour == pytest.approx(3 / 2.25)
    assert result.by_counter[logged.c1].mean_handling == pytest.approx(260.0)


@BOTH
def test_service_filter(engine, logged, source):
    """Only insurance: its queue entries, waits, its tickets' stays and its counter time."""
    I = logged.insurance  # noqa: E741
    result = read(engine, source, service_id=I)
    assert result.heatmap("arrivals") == {(0, 9): 2, (0, 23): 1}
    assert result.heatmap("issued") == {(0, 23): 1}
    assert counts_and_means(result, "wait") == {
        (None, None): (3, 1000.0), (I, None): (3, 1000.0), (I, ""): (3, 1000.0)}
    assert counts_and_means(result, "stay") == {(None, None): (1, 1560.0), (I, None): (1, 1560.0)}
    assert result.heatmap("open_ms") == {(0, 8): 15 * MIN, (0, 9): HOUR, (0, 10): 15 * MIN,
                                         (0, 23): 7.5 * MIN, (1, 0): 15 * MIN}
    # C2's insurance time: 08:45–10:15 whole, 23:45–00:30 half (shared with residents).
    assert result.by_counter == {logged.c2: Throughput(3, 3, 25 * MIN, 90 * MIN + 22.5 * MIN)}


@BOTH
def test_step_filter(engine, logged, source):
    """Only step 受付: stage metrics of that step; stays are per visit and stay unfiltered."""
    R = logged.residents
    result = read(engine, source, service_id=R, step="受付")
    assert counts_and_means(result, "handling") == {
        (None, None): (2, 240.0), (R, None): (2, 240.0), (R, "受付"): (2, 240.0)}
    assert counts_and_means(result, "stay") == {(None, None): (2, 2640.0), (R, None): (2, 2640.0)}
    assert result.heatmap("arrivals") == {(0, 9): 2, (1, 10): 1}
    assert result.heatmap("done") == {}  # T1 was done in step 交付


@BOTH
def test_weekday_filter_and_midnight(engine, logged, source):
    """Tuesday only: T4's wait began on Monday 23:50, its walk and handling on Tuesday."""
    result = read(engine, source, weekdays=frozenset({1}))
    assert result.days == {1: 1}
    assert counts_and_means(result, "wait")[(None, None)] == (1, 1200.0)
    assert counts_and_means(result, "walk")[(None, None)] == (1, 60.0)
    assert counts_and_means(result, "handling")[(None, None)] == (1, 600.0)
    assert result.durations["stay"] == {}
    assert result.counters_open() == pytest.approx({(1, 0): 0.5, (1, 9): 5 / 60,
                                                    (1, 10): 40 / 60})


@BOTH
def test_date_range_ends_at_local_midnight(engine, logged, source):
    """Monday only: up to Tokyo midnight (15:00 UTC), not UTC midnight."""
    result = read(engine, source, end=day("2026-04-06"))
    assert result.heatmap("arrivals") == {(0, 9): 4, (0, 23): 1}
    assert counts_and_means(result, "wait")[(None, None)] == (5, 804.0)
    assert counts_and_means(result, "walk")[(None, None)] == (4, 120.0)
    assert result.counters_open()[(0, 23)] == pytest.approx(0.25)
    assert (1, 0) not in result.counters_open()


def test_rebuild_gives_the_same_rollups(engine, logged):
    """Rebuilding from the log reproduces what the incremental updates built."""
    before = read(engine, "rollups")
    with session_scope(engine) as session:
        rebuild_rollups(session, tz="Asia/Tokyo")
    assert read(engine, "rollups") == before


def test_rollups_refuse_another_time_zone(engine, logged):
    """Rollups hold Tokyo hours; reading them as UTC would shift every hour."""
    with session_scope(engine) as session, pytest.raises(Conflict):
        metrics(session, Filters(day("2026-04-06"), day("2026-04-07")), "UTC")


def test_filters_reject_nonsense():
    """A range ending before it starts, or no weekday at all, is a validation error."""
    with pytest.raises(ValidationFailed):
        Filters(day("2026-04-07"), day("2026-04-06"))
    with pytest.raises(ValidationFailed):
        Filters(day("2026-04-06"), day("2026-04-07"), weekdays=frozenset({7}))


def test_quantile_helpers():
    """Exact quantiles interpolate; bucket quantiles interpolate inside the crossing bucket."""
    assert exact_quantile([1000, 2000, 4000], 0.5) == 2.0
    assert exact_quantile([1000, 2000], 0.9) == pytest.approx(1.9)
    assert exact_quantile([], 0.5) is None
    histogram = [0] * BUCKET_COUNT
    histogram[bucket_of(65_000)] = 2  # two values in [60 s, 90 s)
    assert histogram_quantile(histogram, 0.5) == pytest.approx(75.0)
    histogram[-1] = 1  # one value beyond four hours: the open bucket answers its lower edge
    assert histogram_quantile(histogram, 0.9) == 14400.0
