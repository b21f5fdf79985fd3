"""The what-if simulation: Erlang C for M/M/c, plans that change by the hour, routes from
history, and determinism."""

from __future__ import annotations

import pytest

from analytics.erlang import average_speed_of_answer, service_level
from analytics.metrics import Filters, metrics
from analytics.simulation import (
    Empirical,
    Exponential,
    SimulationInput,
    history_input,
    measured_waits,
    simulate,
)
from frontyard.database import session_scope
from frontyard.errors import ValidationFailed
from tests.analytics_log import EventLog, day
from tests.test_metrics import build_log

ALL_DAY = range(24)


def weighted(result, attribute: str) -> float:
    """An attribute of the all-services rows, weighted by residents entered."""
    rows = [row for (service, _hour), row in result.by_hour.items() if service is None]
    return sum(getattr(row, attribute) * row.entered for row in rows) / sum(
        row.entered for row in rows)


def test_single_stage_mmc_reproduces_erlang_c():
    """200/h, exponential 180 s, 14 counters: Erlang C says 88.8 % within 20 s, ASA 7.8 s.

    Four simulated days (about 19,000 residents); across seeds 0–7 the simulated share ran
    from 0.866 to 0.904 and the mean wait from 6.3 s to 11.1 s, hence the tolerances."""
    inputs = SimulationInput({hour: 200.0 for hour in ALL_DAY}, [(1,)], {1: Exponential(180)})
    result = simulate(inputs, {1: {hour: 14 for hour in ALL_DAY}}, days=4, seed=7,
                      target_seconds=20)
    assert weighted(result, "within_target") == pytest.approx(
        service_level(14, 10.0, 180, 20), abs=0.03)
    assert weighted(result, "mean") == pytest.approx(
        average_speed_of_answer(14, 10.0, 180), abs=3.5)
    per_day = sum(row.entered for (s, _h), row in result.by_hour.items() if s is None)
    assert per_day == pytest.approx(200 * 24, rel=0.03)


def test_same_seed_same_prediction():
    """Seeded runs are reproducible; another seed draws other residents."""
    inputs = SimulationInput({9: 30.0, 10: 40.0}, [(1,), (1, 2)],
                             {1: Empirical((120.0, 300.0, 600.0)), 2: Exponential(240)})
    plan = {1: {9: 3, 10: 3}, 2: {9: 1, 10: 2}}
    first = simulate(inputs, plan, days=5, seed=1)
    assert simulate(inputs, plan, days=5, seed=1) == first
    assert simulate(inputs, plan, days=5, seed=2) != first


def test_more_counters_shorter_waits_and_closed_hours_make_people_wait():
    """Fewer counters mean longer waits; with no counter in the first hour, its residents wait
    until the next hour opens; the last hour's counters serve everyone left (no one unserved)."""
    inputs = SimulationInput({9: 20.0, 10: 20.0}, [(1,)], {1: Exponential(300)})
    two = simulate(inputs, {1: {9: 2, 10: 2}}, days=10, seed=3)
    four = simulate(inputs, {1: {9: 4, 10: 4}}, days=10, seed=3)
    assert four.by_hour[(1, 9)].mean < two.by_hour[(1, 9)].mean
    late = simulate(inputs, {1: {9: 0, 10: 3}}, days=10, seed=3)
    assert late.by_hour[(1, 9)].mean > 1200  # on average half an hour until 10:00
    assert late.by_hour[(1, 9)].served == late.by_hour[(1, 9)].entered


def test_multi_step_routes_queue_at_each_service():
    """A route through two services is counted at both, the second entered later."""
    inputs = SimulationInput({9: 12.0}, [(1, 2)], {1: Exponential(60), 2: Exponential(60)})
    result = simulate(inputs, {1: {9: 1}, 2: {9: 1}}, days=10, seed=4)
    first = sum(row.entered for (s, _h), row in result.by_hour.items() if s == 1)
    second = sum(row.entered for (s, _h), row in result.by_hour.items() if s == 2)
    assert first == pytest.approx(second) and first > 0


def test_unplanned_service_leaves_residents_unserved():
    """A route through a service with no counters at all: nobody is called there."""
    inputs = SimulationInput({9: 10.0}, [(1,)], {1: Exponential(60)})
    result = simulate(inputs, {}, days=3, seed=5)
    row = result.by_hour[(1, 9)]
    assert row.served == 0 and row.entered > 0 and row.within_target == 0


def test_inputs_are_validated():
    """Routes need handling times; plans need sane hours and counts; rates are not negative."""
    with pytest.raises(ValidationFailed):
        SimulationInput({9: 10.0}, [(1, 2)], {1: Exponential(60)})
    with pytest.raises(ValidationFailed):
        SimulationInput({9: -1.0}, [(1,)], {1: Exponential(60)})
    with pytest.raises(ValidationFailed):
        Empirical(())
    inputs = SimulationInput({9: 10.0}, [(1,)], {1: Exponential(60)})
    with pytest.raises(ValidationFailed):
        simulate(inputs, {1: {24: 1}})
    with pytest.raises(ValidationFailed):
        simulate(inputs, {1: {9: -1}})


def test_inputs_from_history(engine):
    """From the hand-computed log: tickets per hour of an open day, each visit's route in
    order of queue entry, and each stage's time at the counter (steps added up)."""
    with session_scope(engine) as session:
        ids = build_log(EventLog(session))
        filters = Filters(day("2026-04-06"), day("2026-04-07"), office_id=ids.office)
        inputs = history_input(session, filters)
        real = measured_waits(metrics(session, filters))
    R, I = ids.residents, ids.insurance  # noqa: E741
    assert dict(inputs.arrivals_per_hour) == {9: 1.0, 23: 0.5, 10: 0.5}
    assert sorted(inputs.routes) == sorted([(R, I), (R, I), (I,), (R,)])
    assert sorted(inputs.handling[R].values) == [240.0, 540.0]  # T3; T1's 240 + 300
    assert sorted(inputs.handling[I].values) == [300.0, 600.0, 600.0]
    assert real[(None, 9)] == pytest.approx((600 + 1800 + 420 + 300) / 4)
    plan = {R: {9: 1, 10: 1}, I: {9: 1, 10: 1, 23: 1}}
    assert simulate(inputs, plan, days=3, seed=1).by_hour
