"""Live figures of the queue for Prometheus: queue sizes, calls and waits of the day.

Read from the database at scrape time, so every worker answers the same and nothing drifts or
is lost when a worker restarts. Calls and waits are today's (the city's local day):
`frontyard_calls_total` and the `frontyard_wait_seconds` histogram restart from zero at
midnight, which Prometheus's rate() and increase() treat as a counter reset. The composition
layer registers `QueueCollector` on the app's registry (`frontyard.metrics.make_registry`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from analytics.timeline import COUNTER_KINDS, Fact, FactKind, facts_for
from counter.models import Event, Office, Service, Task, TaskState

CALL_KINDS = {FactKind.CALL.value: "call", FactKind.RECALL.value: "recall"}
#: Upper bounds of the wait histogram, in seconds: 1 min … 2 h, then +Inf.
WAIT_BUCKETS = (60.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0)


def today_facts(session: Session, tz: ZoneInfo, now: datetime) -> list[Fact]:
    """The facts (calls, waits…) that began today, local time, from the visits' events."""
    midnight = datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tz)
    start = midnight.astimezone(UTC)
    touched = select(Event.visit_id).where(Event.at >= start)  # type: ignore[arg-type]
    events = session.scalars(select(Event).where(
        Event.visit_id.in_(touched),  # type: ignore[union-attr]
        Event.kind.not_in(COUNTER_KINDS))).all()  # type: ignore[attr-defined]
    return [fact for fact in facts_for(events, tz) if fact.at >= start]


def wait_buckets(values_seconds: list[float]) -> list[tuple[str, float]]:
    """Cumulative Prometheus buckets (`le`, count) for some waits, +Inf last."""
    buckets = [(str(bound), float(sum(1 for v in values_seconds if v <= bound)))
               for bound in WAIT_BUCKETS]
    return [*buckets, ("+Inf", float(len(values_seconds)))]


class QueueCollector(Collector):
    """Reads live queue sizes, today's calls and waits from the database at scrape time."""

    def __init__(self, engine: Engine, tz: ZoneInfo,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.tz = tz
        self.clock = clock

    def describe(self) -> list[Any]:
        """Nothing to describe up front: collecting needs the database, which may not be ready."""
        return []

    def collect(self) -> Iterator[Any]:
        """Waiting tasks, calls and waits per office and service."""
        with Session(self.engine) as session:
            names = {service_id: (office, code) for service_id, office, code in session.execute(
                select(Service.id, Office.code, Service.code)  # type: ignore[call-overload]
                .join(Office, Office.id == Service.office_id))}
            waiting_rows = session.execute(
                select(Task.service_id, func.count(Task.id))  # type: ignore[arg-type]
                .where(Task.state == TaskState.WAITING)
                .group_by(Task.service_id)
            ).all()
            facts = today_facts(session, self.tz, self.clock())
        waiting = GaugeMetricFamily("frontyard_waiting_tasks",
                                    "Tasks waiting in each service's queue",
                                    labels=["office", "service"])
        for service_id, count in waiting_rows:
            waiting.add_metric(list(names.get(service_id, ("?", "?"))), count)
        yield waiting
        yield from self._calls_and_waits(facts, names)

    @staticmethod
    def _calls_and_waits(facts: list[Fact],
                         names: dict[int, tuple[str, str]]) -> Iterator[Any]:
        calls: Counter[tuple[int, str]] = Counter()
        waits: dict[int, list[float]] = defaultdict(list)
        for fact in facts:
            if fact.kind in (FactKind.CALL, FactKind.RECALL):
                calls[(fact.service_id, fact.kind.value)] += 1
            elif fact.kind == FactKind.WAIT:
                waits[fact.service_id].append(fact.value_ms / 1000.0)
        counter = CounterMetricFamily(
            "frontyard_calls", "Calls and recalls of tickets since local midnight",
            labels=["office", "service", "kind"])
        for (service_id, kind), count in sorted(calls.items()):
            counter.add_metric([*names.get(service_id, ("?", "?")), CALL_KINDS[kind]], count)
        yield counter
        histogram = HistogramMetricFamily(
            "frontyard_wait_seconds",
            "Waits (queue entry to call) that began since local midnight",
            labels=["office", "service"])
        for service_id, values in sorted(waits.items()):
            histogram.add_metric(list(names.get(service_id, ("?", "?"))), wait_buckets(values),
                                 sum_value=sum(values))
        yield histogram
