"""Erlang C: the M/M/c queue used to size counters for a service target.

Everything is computed through the Erlang B recursion
``B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1))``, which stays between 0 and 1 for any number of
servers, so hundreds of counters never overflow a factorial or a power.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _

#: Safety stop for `agents_needed`: far above any city hall, low enough to fail fast on nonsense.
MAX_AGENTS = 100_000


def offered_load(arrivals_per_hour: float, handling_seconds: float) -> float:
    """Traffic intensity A in Erlangs: arrivals per second × mean handling time."""
    _check_non_negative(arrivals_per_hour=arrivals_per_hour, handling_seconds=handling_seconds)
    return arrivals_per_hour * handling_seconds / 3600.0


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/c/c with `agents` servers and offered load `load` Erlangs."""
    _check_agents(agents)
    _check_non_negative(load=load)
    blocking = 1.0
    for value in _erlang_b_series(load, agents):
        blocking = value
    return blocking


def _erlang_b_series(load: float, up_to: int) -> Iterator[float]:
    """B(1), B(2), … B(up_to) by the stable recursion (B(0) = 1 is implied)."""
    blocking = 1.0
    for n in range(1, up_to + 1):
        blocking = load * blocking / (n + load * blocking)
        yield blocking


def _erlang_c_from_b(agents: int, load: float, blocking: float) -> float:
    """Erlang C from Erlang B for the same c and A; 1 when the queue is unstable (A ≥ c)."""
    if load >= agents:
        return 1.0
    if load == 0:
        return 0.0
    return agents * blocking / (agents - load * (1.0 - blocking))


def erlang_c(agents: int, load: float) -> float:
    """Probability that an arrival has to wait (M/M/c), for `agents` servers and `load` Erlangs."""
    return _erlang_c_from_b(agents, load, erlang_b(agents, load))


def service_level(agents: int, load: float, handling_seconds: float,
                  target_seconds: float) -> float:
    """Share of arrivals answered within `target_seconds`: 1 − C·exp(−(c − A)·t / AHT)."""
    _check_positive(handling_seconds=handling_seconds)
    _check_non_negative(target_seconds=target_seconds)
    return _service_level(agents, load, handling_seconds, target_seconds, erlang_c(agents, load))


def _service_level(agents: int, load: float, handling_seconds: float, target_seconds: float,
                   waiting_probability: float) -> float:
    """The service level once Erlang C is known; 0 for an unstable queue."""
    if load >= agents:
        return 0.0
    exponent = -(agents - load) * target_seconds / handling_seconds
    return max(0.0, 1.0 - waiting_probability * math.exp(exponent))


def average_speed_of_answer(agents: int, load: float, handling_seconds: float) -> float:
    """Mean wait in seconds over all arrivals: C·AHT / (c − A); infinite when A ≥ c."""
    _check_positive(handling_seconds=handling_seconds)
    if load >= agents:
        return math.inf
    return erlang_c(agents, load) * handling_seconds / (agents - load)


def agents_needed(arrivals_per_hour: float, handling_seconds: float, target_level: float,
                  target_seconds: float, shrinkage: float = 0.0) -> int:
    """Fewest servers so that `target_level` of arrivals wait at most `target_seconds`.

    Shrinkage (breaks, back-office work, absence) is the share of paid time not spent at the
    counter; the raw Erlang figure is divided by (1 − shrinkage) and rounded up.
    """
    _check_positive(handling_seconds=handling_seconds)
    _check_non_negative(arrivals_per_hour=arrivals_per_hour, target_seconds=target_seconds)
    if not 0 < target_level < 1:
        raise ValidationFailed(_("The service target must be a share between 0 and 1."),
                               target_level=_("Enter a share between 0 and 1, e.g. 0.8."))
    if not 0 <= shrinkage < 1:
        raise ValidationFailed(_("Shrinkage must be a share between 0 and 1."),
                               shrinkage=_("Enter a share from 0 up to (not including) 1."))
    load = offered_load(arrivals_per_hour, handling_seconds)
    if load == 0:
        return 0
    raw = _raw_agents(load, handling_seconds, target_level, target_seconds)
    # A tiny epsilon keeps 14 / 0.7 at 20 instead of 21 from floating-point noise.
    return math.ceil(raw / (1.0 - shrinkage) - 1e-9)


def _raw_agents(load: float, handling_seconds: float, target_level: float,
                target_seconds: float) -> int:
    """Walk c upwards, extending the Erlang B recursion once per step (linear in the answer)."""
    for agents, blocking in enumerate(_erlang_b_series(load, MAX_AGENTS), start=1):
        if agents <= load:
            continue
        waiting = _erlang_c_from_b(agents, load, blocking)
        if _service_level(agents, load, handling_seconds, target_seconds,
                          waiting) >= target_level:
            return agents
    raise ValidationFailed(_("The load is too high to staff with a sensible number of counters."))


def _check_agents(agents: int) -> None:
    """Servers are a whole, non-negative number."""
    if agents < 0:
        raise ValidationFailed(_("The number of counters cannot be negative."))


def _check_non_negative(**values: float) -> None:
    """Reject negative or non-finite inputs with a message naming the field."""
    for name, value in values.items():
        if not math.isfinite(value) or value < 0:
            raise ValidationFailed(_("Rates and times must be zero or positive numbers."),
                                   **{name: _("Enter zero or a positive number.")})


def _check_positive(**values: float) -> None:
    """Reject zero, negative or non-finite inputs."""
    for name, value in values.items():
        if not math.isfinite(value) or value <= 0:
            raise ValidationFailed(_("Handling time must be a positive number of seconds."),
                                   **{name: _("Enter a positive number.")})
