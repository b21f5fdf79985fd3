"""`metrics_from_log`: the same aggregates replayed from the event log itself (slow; the
reference the rollups are tested against), with raw values and exact quantiles.

Separate from the rollup queries so the two computations stay independent of each other.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import Session

from analytics.metrics.quantiles import Sums
from analytics.metrics.results import (
    Breakdown,
    CallStats,
    Filters,
    HourCell,
    Metrics,
    breakdown_order,
    breakdowns,
    throughputs,
)
from analytics.models import BUCKET_COUNT, DURATIONS
from analytics.rollups import DEFAULT_TIMEZONE, Zone, zone_of
from analytics.timeline import COUNTER_KINDS, DURATION_KINDS, Fact, FactKind, facts_for
from counter.models import Event


def metrics_from_log(session: Session, filters: Filters,
                     tz: Zone = DEFAULT_TIMEZONE) -> Metrics:
    """The same aggregates recomputed from the event log (slow; the rollups' reference)."""
    zone = zone_of(tz)
    start = datetime.combine(filters.start, time(), zone).astimezone(UTC)
    end = datetime.combine(filters.end + timedelta(days=1), time(), zone).astimezone(UTC)
    in_range = select(Event.visit_id).where(Event.at >= start, Event.at < end)  # type: ignore[arg-type]
    counters = Event.kind.in_(COUNTER_KINDS)  # type: ignore[attr-defined]
    office = [] if filters.office_id is None else [Event.office_id == filters.office_id]
    if filters.office_id is not None:
        in_range = in_range.where(Event.office_id == filters.office_id)
    # Whole visits that touch the range: every fact dated inside it comes from one of them.
    visit_events = select(Event).where(Event.visit_id.in_(in_range), ~counters)  # type: ignore[union-attr]
    counter_events = select(Event).where(counters, *office)
    events = [*session.scalars(visit_events).all(), *session.scalars(counter_events).all()]
    return metrics_from_facts(facts_for(events, zone), filters, zone)


def metrics_from_facts(facts: Iterable[Fact], filters: Filters,
                       tz: Zone = DEFAULT_TIMEZONE) -> Metrics:
    """Aggregate facts exactly (raw values, exact quantiles) the way the rollups do."""
    zone = zone_of(tz)
    result = Metrics(filters)
    days: dict[int, set[date]] = defaultdict(set)
    cells: dict[tuple[int, int, int], Counter[str]] = defaultdict(Counter)
    sums: dict[str, dict[Breakdown, Sums]] = {metric: defaultdict(Sums) for metric in DURATIONS}
    calls: dict[Breakdown, Counter[str]] = defaultdict(Counter)
    by_counter: dict[int, Counter[str]] = defaultdict(Counter)
    by_staff: dict[int, Counter[str]] = defaultdict(Counter)
    for fact in facts:
        local = fact.at.astimezone(zone)
        if not filters.covers(local.date()) or (
                filters.office_id is not None and fact.office_id != filters.office_id):
            continue
        if fact.kind in (FactKind.ISSUED, FactKind.ARRIVAL, FactKind.OPEN):
            days[local.weekday()].add(local.date())
        if filters.service_id is not None and fact.service_id != filters.service_id:
            continue
        # Throughput has no step breakdown: the step filter does not apply to it.
        for key, target in ((fact.counter_id, by_counter), (fact.staff_user_id, by_staff)):
            if key and fact.kind in (FactKind.DONE, FactKind.HANDLING, FactKind.OPEN):
                _count_work(fact, target[key])
        is_visit_level = fact.kind in (FactKind.ISSUED, FactKind.STAY, FactKind.OPEN)
        if not is_visit_level and filters.step is not None and fact.step != filters.step:
            continue
        _count_fact(fact, cells[(fact.service_id, local.weekday(), local.hour)], sums, calls)
    result.days = {weekday: len(dates) for weekday, dates in sorted(days.items())}
    for key, counts in sorted(cells.items()):
        cell = HourCell(**{name: counts[name] for name in HourCell.__dataclass_fields__})
        if cell != HourCell():
            result.cells[key] = cell
    result.durations = {metric: {key: value.stats() for key, value in sorted(
        by_key.items(), key=breakdown_order)} for metric, by_key in sums.items()}
    result.calls = {key: CallStats(counts["calls"], counts["recalls"], counts["no_shows"])
                    for key, counts in sorted(calls.items(), key=breakdown_order)}
    result.by_counter = throughputs(by_counter)
    result.by_staff = throughputs(by_staff)
    return result


def _count_fact(fact: Fact, cell: Counter[str], sums: dict[str, dict[Breakdown, Sums]],
                calls: dict[Breakdown, Counter[str]]) -> None:
    """Add one fact to its hour cell, its duration sums or its call counts."""
    name = fact.kind.value
    if fact.kind is FactKind.OPEN:
        cell["open_ms"] += fact.value_ms
    elif fact.kind in DURATION_KINDS:
        cell[f"{name}_n"] += 1
        cell[f"{name}_ms"] += fact.value_ms
        for key in breakdowns(name, fact.service_id, fact.step):
            sums[name][key].add(Sums(1, fact.value_ms, [0] * BUCKET_COUNT, [fact.value_ms]))
    else:
        cell[name] += 1
        if fact.kind in (FactKind.CALL, FactKind.RECALL, FactKind.NO_SHOW):
            for key in breakdowns(name, fact.service_id, fact.step):
                calls[key][name] += 1


def _count_work(fact: Fact, totals: Counter[str]) -> None:
    """Add a done task, a handling time or open time to a counter's or staff member's totals."""
    if fact.kind is FactKind.DONE:
        totals["done"] += 1
    elif fact.kind is FactKind.HANDLING:
        totals["handling_n"] += 1
        totals["handling_ms"] += fact.value_ms
    else:
        totals["open_ms"] += fact.value_ms
