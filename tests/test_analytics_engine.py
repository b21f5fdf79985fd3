"""The rollups are kept by the real event path: queue engine → events → rollups at commit.

A morning at the test office (Asia/Tokyo; 2026-04-06 is a Monday), each action committed on
its own as the staff terminal would:

08:55 counter 1 opens (staff 1) for residents; counter 2 opens (staff 2) for insurance and
      childcare. Both close at 10:00 (65 min each; counter 2's time is halved per service).
V1 issued 09:00 for residents (steps 受付 → 確認 → 交付) then insurance
  residents: queued 09:00 (受付), called 09:05 at counter 1, started 09:06, 確認 09:10,
             交付 09:12, done 09:15 → wait 300 s, walk 60 s, handling 240 / 120 / 180 s
  insurance: queued 09:15, called 09:20 at counter 2, started 09:21, done 09:31
             → wait 300 s, walk 60 s, handling 600 s; visit closed: stay 09:00 → 09:31 = 1860 s
V2 issued 09:02 for residents
  residents: queued 09:02, called 09:16, no-show 09:20, returned 09:25, called 09:26,
             started 09:27, transferred to childcare 09:30
             → wait 09:02 → 09:26 = 1440 s (the last call counts), walk 60 s, handling 180 s
  childcare: queued 09:30, called 09:32 at counter 2, started 09:33, done 09:40
             → wait 120 s, walk 60 s, handling 420 s; closed: stay 09:02 → 09:40 = 2280 s
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from analytics.metrics import CallStats, Filters, Throughput, metrics, metrics_from_log
from analytics.rollups import rebuild_rollups
from counter import queue
from counter.models import Task
from frontyard.database import session_scope
from tests.analytics_log import day, tokyo
from tests.conftest import QueueWorld
from tests.test_rollups import rollup_rows

MONDAY = day("2026-04-06")
MIN = 60_000


def at(clock: str) -> datetime:
    """Monday 2026-04-06 at a Tokyo wall-clock time."""
    return tokyo(f"2026-04-06 {clock}")


def act(engine: Any, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one engine action in its own committed transaction, as one request would."""
    with session_scope(engine) as session:
        return action(session, *args, **kwargs)


def morning(engine: Any, world: QueueWorld) -> dict[str, int]:
    """Play the morning of the module docstring through the engine; returns task ids."""
    c1, c2 = world.counters[:2]
    s1, s2 = world.staff[:2]
    res, ins, child = (world.services[code] for code in ("residents", "insurance", "childcare"))
    act(engine, queue.open_counter, c1, s1, [res], at("08:55"))
    act(engine, queue.open_counter, c2, s2, [ins, child], at("08:55"))
    v1 = act(engine, queue.issue_ticket, office_id=world.office_id,
             service_codes=["residents", "insurance"], now=at("09:00"))
    v2 = act(engine, queue.issue_ticket, office_id=world.office_id,
             service_codes=["residents"], now=at("09:02"))
    t1 = act(engine, queue.call_next, c1, s1, at("09:05")).id
    assert act(engine, lambda s: s.get(Task, t1).visit_id) == v1.id
    act(engine, queue.start, t1, s1, at("09:06"))
    act(engine, queue.advance_step, t1, s1, at("09:10"))
    act(engine, queue.advance_step, t1, s1, at("09:12"))
    act(engine, queue.complete, t1, s1, at("09:15"))
    t2 = act(engine, queue.call_next, c1, s1, at("09:16")).id
    t3 = act(engine, queue.call_next, c2, s2, at("09:20")).id
    act(engine, queue.no_show, t2, s1, at("09:20"))
    act(engine, queue.start, t3, s2, at("09:21"))
    act(engine, queue.return_to_queue, t2, s1, at("09:25"))
    assert act(engine, queue.call_next, c1, s1, at("09:26")).id == t2
    act(engine, queue.start, t2, s1, at("09:27"))
    act(engine, queue.transfer, t2, child, s1, at("09:30"))
    act(engine, queue.complete, t3, s2, at("09:31"))
    assert act(engine, queue.call_next, c2, s2, at("09:32")).id == t2
    act(engine, queue.start, t2, s2, at("09:33"))
    act(engine, queue.complete, t2, s2, at("09:40"))
    act(engine, queue.close_counter, c1, s1, at("10:00"))
    act(engine, queue.close_counter, c2, s2, at("10:00"))
    assert v2.id != v1.id
    return {"res": res, "ins": ins, "child": child, "c1": c1, "c2": c2, "s1": s1, "s2": s2}


@pytest.fixture
def played(engine, world) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The morning, written through the engine."""
    return morning(engine, world)


def test_engine_keeps_rollups_equal_to_the_log(engine, played, world):
    """Every count and sum read from the rollups equals a full replay of the log."""
    filters = Filters(MONDAY, MONDAY, office_id=world.office_id)
    with session_scope(engine) as session:
        rolled, exact = metrics(session, filters), metrics_from_log(session, filters)
    assert rolled.days == exact.days == {0: 1}
    assert rolled.cells == exact.cells
    assert rolled.calls == exact.calls
    assert rolled.by_counter == exact.by_counter
    assert rolled.by_staff == exact.by_staff
    for metric, by_key in exact.durations.items():
        assert {key: (s.count, s.total_ms) for key, s in rolled.durations[metric].items()} == {
            key: (s.count, s.total_ms) for key, s in by_key.items()}


def test_engine_figures_match_the_hand_computed_morning(engine, played, world):
    """The figures of the module docstring, read from the rollups."""
    ids = played
    with session_scope(engine) as session:
        result = metrics(session, Filters(MONDAY, MONDAY, office_id=world.office_id))
    durations = {metric: {key: (s.count, s.total_ms) for key, s in by_key.items()}
                 for metric, by_key in result.durations.items()}
    assert durations["wait"][(None, None)] == (4, (300 + 1440 + 300 + 120) * 1000)
    assert durations["wait"][(ids["res"], "受付")] == (2, (300 + 1440) * 1000)
    assert durations["walk"][(None, None)] == (4, 4 * 60_000)
    assert durations["handling"][(ids["res"], "受付")] == (2, (240 + 180) * 1000)
    assert durations["handling"][(ids["res"], "確認")] == (1, 120_000)
    assert durations["handling"][(ids["res"], "交付")] == (1, 180_000)
    assert durations["handling"][(ids["ins"], None)] == (1, 600_000)
    assert durations["handling"][(ids["child"], None)] == (1, 420_000)
    assert durations["stay"][(None, None)] == (2, (1860 + 2280) * 1000)
    assert result.calls[(None, None)] == CallStats(calls=5, recalls=0, no_shows=1)
    assert result.calls[(None, None)].no_show_rate == pytest.approx(0.2)
    assert result.heatmap("arrivals") == {(0, 9): 4}
    assert result.heatmap("issued") == {(0, 9): 2}
    assert result.counters_open() == pytest.approx({(0, 8): 10 / 60, (0, 9): 2.0})
    assert result.by_counter == {
        ids["c1"]: Throughput(done=1, handling_n=4, handling_ms=720_000, open_ms=65 * MIN),
        ids["c2"]: Throughput(done=2, handling_n=2, handling_ms=1_020_000, open_ms=65 * MIN)}
    assert result.by_staff[ids["s2"]].done == 2
    assert result.cells[(ids["child"], 0, 9)].open_ms == 30 * MIN  # half of 09:00–10:00
    assert result.cells[(ids["ins"], 0, 8)].open_ms == int(2.5 * MIN)


def test_a_change_of_services_moves_open_time(engine, world):
    """Re-opening with other services splits the counter's open time at that moment."""
    res, ins = world.services["residents"], world.services["insurance"]
    counter, staff = world.counters[0], world.staff[0]
    act(engine, queue.open_counter, counter, staff, [res], at("09:00"))
    act(engine, queue.open_counter, counter, staff, [ins], at("09:20"))
    act(engine, queue.close_counter, counter, staff, at("10:00"))
    with session_scope(engine) as session:
        result = metrics(session, Filters(MONDAY, MONDAY))
    assert result.cells[(res, 0, 9)].open_ms == 20 * MIN
    assert result.cells[(ins, 0, 9)].open_ms == 40 * MIN


def test_rolled_back_actions_leave_no_trace(engine, world):
    """An action whose transaction fails adds nothing to the rollups."""
    act(engine, queue.issue_ticket, office_id=world.office_id, service_codes=["residents"],
        now=at("09:00"))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        queue.issue_ticket(session, office_id=world.office_id, service_codes=["insurance"],
                           now=at("09:01"))
        raise RuntimeError("the request failed after the engine wrote its events")
    with session_scope(engine) as session:
        assert metrics(session, Filters(MONDAY, MONDAY)).heatmap("issued") == {(0, 9): 1}


def test_rebuild_after_the_engine_changes_nothing(engine, played, world):
    """What the engine kept equals what a rebuild from the log writes."""
    with session_scope(engine) as session:
        kept = rollup_rows(session, world.office_id)
        rebuild_rollups(session, world.office_id)
        assert rollup_rows(session, world.office_id) == kept
        assert kept["analytics_stage_day"]


def test_many_actions_in_one_transaction_are_each_counted_once(engine, world):
    """Many actions in one transaction (as the demo history writes a day) count once each."""
    with session_scope(engine) as session:
        for minute in range(5):
            queue.issue_ticket(session, office_id=world.office_id,
                               service_codes=["insurance"],
                               now=at("09:00") + timedelta(minutes=minute))
    with session_scope(engine) as session:
        result = metrics(session, Filters(MONDAY, MONDAY))
    assert result.heatmap("issued") == {(0, 9): 5}
    assert result.heatmap("arrivals") == {(0, 9): 5}
