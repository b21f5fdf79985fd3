"""Erlang C against published reference values and against the textbook formula."""

from __future__ import annotations

import math

import pytest

from analytics.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    offered_load,
    service_level,
)
from frontyard.errors import ValidationFailed


def test_product_reference_case():
    """PRODUCT.md: 200 arrivals/h, 180 s, 80 % in 20 s → 14 agents, SL ≈ 0.888; 30 % → 20."""
    load = offered_load(200, 180)
    assert load == 10.0
    assert agents_needed(200, 180, 0.8, 20) == 14
    assert service_level(14, load, 180, 20) == pytest.approx(0.888, abs=0.0005)
    assert agents_needed(200, 180, 0.8, 20, shrinkage=0.3) == 20


@pytest.mark.parametrize(("agents", "probability", "level", "asa"), [
    # The widely published 10-Erlang table (AHT 180 s, target 20 s).
    (11, 0.6821, 0.3896, 122.8),
    (12, 0.4494, 0.6402, 40.4),
    (13, 0.2853, 0.7956, 17.1),
    (14, 0.1741, 0.8884, 7.8),
    (15, 0.1020, 0.9415, 3.7),
])
def test_ten_erlang_table(agents, probability, level, asa):
    """Waiting probability, service level and average speed of answer per agent count."""
    assert erlang_c(agents, 10.0) == pytest.approx(probability, abs=5e-5)
    assert service_level(agents, 10.0, 180, 20) == pytest.approx(level, abs=5e-5)
    assert average_speed_of_answer(agents, 10.0, 180) == pytest.approx(asa, abs=0.05)


def _textbook_erlang_c(agents: int, load: float) -> float:
    """The closed form with factorials, usable for small c only (the thing we avoid)."""
    top = load ** agents / math.factorial(agents) * agents / (agents - load)
    bottom = sum(load ** k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


@pytest.mark.parametrize(("agents", "load"), [(1, 0.5), (2, 1.5), (5, 3.7), (20, 17.2)])
def test_matches_the_closed_form(agents, load):
    """The recursion agrees with the factorial formula where that one is usable."""
    assert erlang_c(agents, load) == pytest.approx(_textbook_erlang_c(agents, load), rel=1e-12)


def test_single_server_is_m_m_1():
    """For c = 1 the waiting probability is the utilisation and Erlang B is A / (1 + A)."""
    assert erlang_c(1, 0.6) == pytest.approx(0.6)
    assert erlang_b(1, 0.6) == pytest.approx(0.6 / 1.6)


def test_hundreds_of_agents_do_not_overflow():
    """500 Erlangs: factorials would overflow a float long before; the recursion is fine."""
    needed = agents_needed(10_000, 180, 0.8, 20)
    assert 500 < needed < 530
    assert 0.8 <= service_level(needed, 500.0, 180, 20) < service_level(needed + 1, 500.0,
                                                                       180, 20)
    assert service_level(needed - 1, 500.0, 180, 20) < 0.8
    assert 0 < erlang_c(1000, 990.0) < 1


def test_unstable_and_empty_queues():
    """A ≥ c: everyone waits forever; no arrivals: nobody is needed."""
    assert erlang_c(10, 10.0) == 1.0
    assert service_level(10, 12.0, 180, 20) == 0.0
    assert average_speed_of_answer(10, 10.0, 180) == math.inf
    assert erlang_c(3, 0.0) == 0.0
    assert agents_needed(0, 180, 0.8, 20) == 0


def test_longer_targets_need_fewer_agents():
    """The city-hall default (80 % within 15 minutes) needs fewer counters than 20 seconds."""
    assert agents_needed(30, 600, 0.8, 900) < agents_needed(30, 600, 0.8, 20)
    assert agents_needed(30, 600, 0.8, 900) >= 6  # 5 Erlangs need more than 5 counters


@pytest.mark.parametrize("arguments", [
    {"target_level": 1.0}, {"target_level": 0.0}, {"shrinkage": 1.0}, {"shrinkage": -0.1},
    {"handling_seconds": 0}, {"arrivals_per_hour": -1}, {"arrivals_per_hour": math.nan},
])
def test_bad_input_is_a_validation_error(arguments):
    """Nonsense input is refused with a typed error, never a crash or a silent result."""
    values = {"arrivals_per_hour": 200, "handling_seconds": 180, "target_level": 0.8,
              "target_seconds": 20, **arguments}
    with pytest.raises(ValidationFailed):
        agents_needed(**values)
