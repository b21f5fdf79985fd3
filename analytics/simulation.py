"""What-if: simulate a staff plan (counters per hour per service) over measured arrivals,
routes and handling times, and predict the waits per hour.

The model is a queueing network run with simpy: visits arrive as a Poisson process whose rate
changes every local hour, each follows a route of services sampled from real visits, and at
each service waits for one of that hour's counters, which holds it for a handling time drawn
from that service's history. A counter that the plan closes finishes its resident first.
Runs are seeded and deterministic.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import simpy
from sqlalchemy import select
from sqlmodel import Session

from analytics.metrics import Filters, Metrics, exact_quantile, metrics
from analytics.rollups import DEFAULT_TIMEZONE, Zone, zone_of
from analytics.timeline import Fact, FactKind, facts_for
from counter.models import Event, EventKind
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _

HOUR = 3600.0
#: After the plan's last hour, residents still waiting are given this long before the run stops
#: (counters the plan keeps open go on serving them).
OVERTIME_HOURS = 6
Route = tuple[int, ...]
#: service → local hour → counters open
StaffPlan = Mapping[int, Mapping[int, int]]


class Sampler(Protocol):
    """Draws a handling time in seconds."""

    def sample(self, rng: random.Random) -> float:
        """One draw."""
        ...


@dataclass(frozen=True)
class Empirical:
    """Handling times drawn from measured values (seconds)."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        """An empirical distribution needs at least one value."""
        if not self.values:
            raise ValidationFailed(_("A service has no measured handling times to simulate."))

    def sample(self, rng: random.Random) -> float:
        """One measured value, uniformly at random."""
        return self.values[rng.randrange(len(self.values))]


@dataclass(frozen=True)
class Exponential:
    """Exponential handling times with the given mean (the M in M/M/c)."""

    mean: float

    def sample(self, rng: random.Random) -> float:
        """One exponential draw."""
        return rng.expovariate(1.0 / self.mean)


@dataclass(frozen=True)
class SimulationInput:
    """What the simulation needs: visits per hour, routes to sample, handling per service."""

    arrivals_per_hour: Mapping[int, float]
    routes: Sequence[Route]
    handling: Mapping[int, Sampler]

    def __post_init__(self) -> None:
        """Every route's services need handling times; rates are non-negative."""
        if any(rate < 0 for rate in self.arrivals_per_hour.values()):
            raise ValidationFailed(_("Arrival rates cannot be negative."))
        if any(rate > 0 for rate in self.arrivals_per_hour.values()) and not self.routes:
            raise ValidationFailed(_("There are no recorded visits to take routes from."))
        missing = {s for route in self.routes for s in route} - set(self.handling)
        if missing:
            raise ValidationFailed(_("Some services have no measured handling times to "
                                     "simulate."), services=", ".join(map(str, sorted(missing))))


@dataclass(frozen=True)
class WaitSummary:
    """Simulated waits of residents who entered a queue in one hour (averaged over runs)."""

    entered: float  # residents per simulated day
    served: float
    mean: float | None
    p90: float | None
    within_target: float | None  # share called within the target


@dataclass
class SimulationResult:
    """Predicted waits per (service, local hour of queue entry); service None is all services."""

    days: int
    target_seconds: float
    by_hour: dict[tuple[int | None, int], WaitSummary] = field(default_factory=dict)


def simulate(inputs: SimulationInput, plan: StaffPlan, *, days: int = 20, seed: int = 0,
             target_seconds: float = 15 * 60) -> SimulationResult:
    """Run `days` independent days of the plan and summarise the waits per hour of entry."""
    _check_plan(plan)
    if days < 1:
        raise ValidationFailed(_("Simulate at least one day."))
    rng = random.Random(seed)
    waits: dict[tuple[int, int], list[float]] = defaultdict(list)
    unserved: dict[tuple[int, int], int] = defaultdict(int)
    for _day in range(days):
        _run_day(inputs, plan, rng, waits, unserved)
    return _summarise(waits, unserved, days, target_seconds)


def _check_plan(plan: StaffPlan) -> None:
    """Counters are whole, non-negative numbers for hours 0–23."""
    for hours in plan.values():
        for hour, counters in hours.items():
            if not 0 <= hour <= 23 or counters < 0:
                raise ValidationFailed(_("A staff plan gives counters (zero or more) for the "
                                         "hours 0 to 23."))


def _run_day(inputs: SimulationInput, plan: StaffPlan, rng: random.Random,
             waits: dict[tuple[int, int], list[float]],
             unserved: dict[tuple[int, int], int]) -> None:
    """One simulated day; times are seconds after local midnight."""
    env = simpy.Environment()
    services = {s for route in inputs.routes for s in route} | set(plan)
    counters = {s: _Counters(env, plan.get(s, {})) for s in services}
    hours = [h for h, rate in inputs.arrivals_per_hour.items() if rate > 0]
    last_hour = max([*hours, *(h for hours in plan.values() for h in hours)], default=0)
    horizon = (last_hour + 1 + OVERTIME_HOURS) * HOUR
    waiting: dict[int, tuple[int, float]] = {}  # resident → (service, entered) while queued
    env.process(_arrivals(env, inputs, counters, rng, waits, waiting))
    env.run(until=horizon)
    for service, entered in waiting.values():
        unserved[(service, int(entered // HOUR))] += 1


class _Counters:
    """A service's counters: as many as the plan ever opens, minus those the plan closes.

    Closing is a high-priority request that takes the next counter to come free, so a
    counter is never closed in the middle of serving someone."""

    def __init__(self, env: simpy.Environment, hours: Mapping[int, int]) -> None:
        self.env = env
        self.hours = hours
        self.resource = simpy.PriorityResource(env, capacity=max([1, *hours.values()]))
        self.closers: list[simpy.Event] = []
        env.process(self._follow_plan())

    def _follow_plan(self) -> Generator[simpy.Event, Any, None]:
        """At each hour, close or reopen counters to match the plan (closed when unplanned).

        After the last planned hour its counters stay to serve those still waiting, as a
        city hall serves every ticket issued before closing time."""
        last = max((hour for hour, counters in self.hours.items() if counters), default=None)
        for hour in range(24 + OVERTIME_HOURS):
            planned = self.hours.get(hour, 0) if last is None or hour <= last else self.hours[last]
            wanted_closed = self.resource.capacity - planned
            while len(self.closers) < wanted_closed:
                stop = self.env.event()
                self.closers.append(stop)
                self.env.process(self._closed_until(stop))
            while len(self.closers) > wanted_closed:
                self.closers.pop().succeed()
            yield self.env.timeout(HOUR)

    def _closed_until(self, stop: simpy.Event) -> Generator[simpy.Event, Any, None]:
        """Hold one counter closed (once it is free) until `stop`."""
        with self.resource.request(priority=0) as request:
            fired = yield request | stop
            if request in fired and not stop.triggered:
                yield stop


def _arrivals(env: simpy.Environment, inputs: SimulationInput, counters: dict[int, _Counters],
              rng: random.Random, waits: dict[tuple[int, int], list[float]],
              waiting: dict[int, tuple[int, float]]) -> Generator[simpy.Event, Any, None]:
    """A Poisson stream whose rate is the hour's; memorylessness lets each hour restart it."""
    resident = 0
    for hour in range(24):
        rate = inputs.arrivals_per_hour.get(hour, 0.0)
        end = (hour + 1) * HOUR
        if env.now < hour * HOUR:
            yield env.timeout(hour * HOUR - env.now)
        while rate > 0:
            gap = rng.expovariate(rate / HOUR)
            if env.now + gap >= end:
                break
            yield env.timeout(gap)
            route = inputs.routes[rng.randrange(len(inputs.routes))]
            resident += 1
            env.process(_visit(env, resident, route, inputs, counters, rng, waits, waiting))


def _visit(env: simpy.Environment, resident: int, route: Route, inputs: SimulationInput,
           counters: dict[int, _Counters], rng: random.Random,
           waits: dict[tuple[int, int], list[float]],
           waiting: dict[int, tuple[int, float]]) -> Generator[simpy.Event, Any, None]:
    """One resident going through the services of the route, one queue after another."""
    for service in route:
        entered = env.now
        waiting[resident] = (service, entered)
        with counters[service].resource.request(priority=1) as request:
            yield request
            del waiting[resident]
            waits[(service, int(entered // HOUR))].append(env.now - entered)
            yield env.timeout(inputs.handling[service].sample(rng))


def _summarise(waits: dict[tuple[int, int], list[float]], unserved: dict[tuple[int, int], int],
               days: int, target_seconds: float) -> SimulationResult:
    """Per service and hour, then per hour over all services; counts are per simulated day.

    Residents never called before the run ended count as entered and as missing the target."""
    result = SimulationResult(days, target_seconds)
    groups: dict[tuple[int | None, int], tuple[list[float], int]] = {}
    for key in set(waits) | set(unserved):
        service, hour = key
        for group in ((service, hour), (None, hour)):
            values, missing = groups.get(group, ([], 0))
            groups[group] = (values + waits.get(key, []), missing + unserved.get(key, 0))
    for key, (values, missing) in sorted(groups.items(), key=lambda item: (item[0][1],
                                                                           item[0][0] or 0)):
        entered = len(values) + missing
        within = sum(1 for value in values if value <= target_seconds)
        milliseconds = [round(value * 1000) for value in values]
        result.by_hour[key] = WaitSummary(
            entered=entered / days, served=len(values) / days,
            mean=sum(values) / len(values) if values else None,
            p90=exact_quantile(milliseconds, 0.9), within_target=within / entered)
    return result


# --- inputs from history ------------------------------------------------------------------------

def routes_and_handling(facts: Iterable[Fact], visit_of: Mapping[int, int]
                        ) -> tuple[list[Route], dict[int, list[float]]]:
    """Routes (each visit's services in order of queue entry) and each stage's time at a
    counter (its handling segments added up, steps included), from replayed facts;
    `visit_of` maps task ids to visit ids."""
    by_task: dict[int, list[Fact]] = defaultdict(list)
    for fact in facts:
        if fact.task_id and fact.kind in (FactKind.ARRIVAL, FactKind.HANDLING):
            by_task[fact.task_id].append(fact)
    visits: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    handling: dict[int, list[float]] = defaultdict(list)
    for task_id, task_facts in sorted(by_task.items()):
        for arrival, seconds in _stages(task_facts):
            visits[visit_of.get(task_id, -task_id)].append((arrival.at, arrival.service_id))
            if seconds > 0:
                handling[arrival.service_id].append(seconds)
    routes = [tuple(service for _at, service in sorted(stages))
              for _visit, stages in sorted(visits.items())]
    return routes, dict(handling)


def _stages(task_facts: list[Fact]) -> list[tuple[Fact, float]]:
    """A task's queue entries, each with the handling seconds that followed it."""
    stages: list[tuple[Fact, float]] = []
    for fact in sorted(task_facts, key=lambda f: (f.at, f.kind is not FactKind.ARRIVAL)):
        if fact.kind is FactKind.ARRIVAL:
            stages.append((fact, 0.0))
        elif stages and stages[-1][0].service_id == fact.service_id:
            arrival, seconds = stages[-1]
            stages[-1] = (arrival, seconds + fact.value_ms / 1000.0)
    return stages


def history_input(session: Session, filters: Filters, tz: Zone = DEFAULT_TIMEZONE,
                  max_visits: int = 2000, source: Metrics | None = None) -> SimulationInput:
    """Arrival rates of `filters` (tickets per hour of an open day, from the rollups), and
    routes and handling times from up to `max_visits` of the period's visits, evenly spread."""
    measured = source or metrics(session, filters, tz)
    days = measured.open_days()
    rates: dict[int, float] = defaultdict(float)
    if days:
        for (_weekday, hour), count in measured.heatmap("issued").items():
            rates[hour] += count / days
    events = _sample_events(session, filters, zone_of(tz), max_visits)
    visit_of = {e.task_id: e.visit_id for e in events if e.task_id and e.visit_id}
    routes, handling = routes_and_handling(facts_for(events, zone_of(tz)), visit_of)
    return SimulationInput(dict(rates), routes,
                           {service: Empirical(tuple(values))
                            for service, values in handling.items()})


def _sample_events(session: Session, filters: Filters, zone: ZoneInfo,
                   max_visits: int) -> list[Event]:
    """All events of an evenly spread sample of the visits issued within `filters`."""
    start = datetime.combine(filters.start, time(), zone).astimezone(UTC)
    end = datetime.combine(filters.end + timedelta(days=1), time(), zone).astimezone(UTC)
    query = (select(Event.visit_id, Event.at)
             .where(Event.kind == EventKind.ISSUED, Event.at >= start, Event.at < end)
             .order_by(Event.at, Event.visit_id))
    if filters.office_id is not None:
        query = query.where(Event.office_id == filters.office_id)
    visit_ids = [visit_id for visit_id, at in session.execute(query)
                 if visit_id is not None and filters.covers(at.astimezone(zone).date())]
    chosen = visit_ids[::max(1, len(visit_ids) // max(1, max_visits))][:max_visits]
    events: list[Event] = []
    for index in range(0, len(chosen), 500):
        batch = chosen[index:index + 500]
        events += session.scalars(select(Event).where(
            Event.visit_id.in_(batch))).all()  # type: ignore[union-attr]
    return events


def measured_waits(source: Metrics) -> dict[tuple[int | None, int], float]:
    """Real mean waits per (service, hour of queue entry) and per hour overall, to show
    beside the simulated ones."""
    sums: dict[tuple[int | None, int], list[int]] = defaultdict(lambda: [0, 0])
    for (service, _weekday, hour), cell in source.cells.items():
        for key in ((service, hour), (None, hour)):
            sums[key][0] += cell.wait_n
            sums[key][1] += cell.wait_ms
    return {key: total / n / 1000.0 for key, (n, total) in sorted(
        sums.items(), key=lambda item: (item[0][1], item[0][0] or 0)) if n}
