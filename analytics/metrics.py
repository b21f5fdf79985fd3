"""The managers' aggregates: arrivals, waits, walks, handling and stay times, no-shows, counters
open and throughput, filtered by local date range, office, service, step and weekday.

`metrics` reads the rollup tables (fast, for pages and exports); `metrics_from_log` replays the
event log itself (the slow reference the rollups are tested against). Both return `Metrics`;
they agree exactly on every count and sum, and medians/p90 from the rollups are read from
fixed buckets (see docs/analytics.md).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, case, func, or_, select
from sqlmodel import Session

from analytics.models import (
    BUCKET_COUNT,
    BUCKET_EDGES_SECONDS,
    DURATIONS,
    bucket_column,
    counter_day,
    stage_day,
    stage_hour,
)
from analytics.rollups import DEFAULT_TIMEZONE, Zone, check_timezone, zone_of
from analytics.timeline import COUNTER_KINDS, DURATION_KINDS, Fact, FactKind, facts_for
from counter.models import Event
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _

#: Durations measured per task stage (the step filter applies); stay is per visit (it does not).
STAGE_DURATIONS = ("wait", "walk", "handling")
#: Hourly counts of task stages (the step filter applies).
STAGE_COUNTS = ("arrivals", "calls", "recalls", "no_shows", "done")
MS_PER_HOUR = 3_600_000
#: Key of a duration or call breakdown: (service, step); None means "all".
Breakdown = tuple[int | None, str | None]


@dataclass(frozen=True)
class Filters:
    """Which part of the history to aggregate: local dates `start`–`end` inclusive, optionally
    one office, one service, one step and some weekdays (Monday = 0 … Sunday = 6)."""

    start: date
    end: date
    office_id: int | None = None
    service_id: int | None = None
    step: str | None = None
    weekdays: frozenset[int] | None = None

    def __post_init__(self) -> None:
        """Reject ranges that end before they start and weekdays that do not exist."""
        if self.end < self.start:
            raise ValidationFailed(_("The end date is before the start date."),
                                   end=_("Choose a date on or after the start date."))
        if self.weekdays is not None:
            if not self.weekdays or not set(self.weekdays) <= set(range(7)):
                raise ValidationFailed(_("Choose at least one weekday."),
                                       weekdays=_("Choose at least one weekday."))
            object.__setattr__(self, "weekdays", frozenset(self.weekdays))

    def covers(self, day: date) -> bool:
        """Whether a local date is in the range and on a chosen weekday."""
        return self.start <= day <= self.end and (
            self.weekdays is None or day.weekday() in self.weekdays)


@dataclass(frozen=True)
class DurationStats:
    """Count, mean, median and 90th percentile of one duration, in seconds."""

    count: int
    total_ms: int
    median: float | None
    p90: float | None

    @property
    def mean(self) -> float | None:
        """Mean in seconds, or None with no measurements."""
        return self.total_ms / self.count / 1000.0 if self.count else None


@dataclass(frozen=True)
class CallStats:
    """Calls, recalls and no-shows; the no-show rate is no-shows / calls."""

    calls: int = 0
    recalls: int = 0
    no_shows: int = 0

    @property
    def no_show_rate(self) -> float | None:
        """No-shows per call, or None without calls."""
        return self.no_shows / self.calls if self.calls else None


@dataclass(frozen=True)
class HourCell:
    """One service in one local hour of one weekday, summed over the matching days."""

    arrivals: int = 0
    issued: int = 0
    calls: int = 0
    no_shows: int = 0
    done: int = 0
    wait_n: int = 0
    wait_ms: int = 0
    handling_n: int = 0
    handling_ms: int = 0
    open_ms: int = 0


@dataclass(frozen=True)
class Throughput:
    """Work of one counter or one staff member over the filtered days."""

    done: int = 0
    handling_n: int = 0
    handling_ms: int = 0
    open_ms: int = 0

    @property
    def open_hours(self) -> float:
        """Hours the counter was open (or the staff member signed in to one)."""
        return self.open_ms / MS_PER_HOUR

    @property
    def done_per_open_hour(self) -> float | None:
        """Tasks finished per open hour, or None if never open."""
        return self.done / self.open_hours if self.open_ms else None

    @property
    def mean_handling(self) -> float | None:
        """Mean handling time in seconds."""
        return self.handling_ms / self.handling_n / 1000.0 if self.handling_n else None


@dataclass
class Metrics:
    """Every aggregate of one filter; the page, the exports, staffing and forecasts read this."""

    filters: Filters
    #: weekday → local dates with any ticket, queue entry or open counter (the divisor of rates)
    days: dict[int, int] = field(default_factory=dict)
    #: (service, weekday, hour) → sums; service 0 holds what belongs to no service
    cells: dict[tuple[int, int, int], HourCell] = field(default_factory=dict)
    #: "wait" | "walk" | "handling" | "stay" → (service, step) → stats; None means all
    durations: dict[str, dict[Breakdown, DurationStats]] = field(default_factory=dict)
    calls: dict[Breakdown, CallStats] = field(default_factory=dict)
    by_counter: dict[int, Throughput] = field(default_factory=dict)
    by_staff: dict[int, Throughput] = field(default_factory=dict)

    def heatmap(self, column: str = "arrivals") -> dict[tuple[int, int], int]:
        """(weekday, hour) → a column summed over services, e.g. arrivals or issued tickets."""
        totals: Counter[tuple[int, int]] = Counter()
        for (_service, weekday, hour), cell in self.cells.items():
            totals[(weekday, hour)] += getattr(cell, column)
        return {key: value for key, value in sorted(totals.items()) if value}

    def counters_open(self) -> dict[tuple[int, int], float]:
        """(weekday, hour) → counters open on average in that hour of an open day."""
        open_ms = self.heatmap("open_ms")
        return {key: value / MS_PER_HOUR / self.days[key[0]] for key, value in open_ms.items()
                if self.days.get(key[0])}

    def open_days(self, weekdays: Collection[int] | None = None) -> int:
        """How many open days the filter covers (optionally only some weekdays)."""
        return sum(n for weekday, n in self.days.items()
                   if weekdays is None or weekday in weekdays)


# --- quantiles --------------------------------------------------------------------------------

def exact_quantile(values_ms: list[int], q: float) -> float | None:
    """Quantile in seconds by linear interpolation between order statistics (position (n−1)·q)."""
    if not values_ms:
        return None
    ordered = sorted(values_ms)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return value / 1000.0


def bucket_bounds(index: int) -> tuple[float, float]:
    """Lower and upper edge (seconds) of a bucket; the last one is open-ended (upper = inf)."""
    upper = BUCKET_EDGES_SECONDS[index + 1] if index + 1 < BUCKET_COUNT else math.inf
    return float(BUCKET_EDGES_SECONDS[index]), upper


def histogram_quantile(histogram: list[int], q: float) -> float | None:
    """Quantile in seconds read from bucket counts, interpolating linearly inside the bucket
    that holds the ⌈q·n⌉-th smallest value (the open last bucket answers its lower edge)."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= rank:
            lower, upper = bucket_bounds(index)
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * max(0.0, rank - seen) / count
        seen += count
    return None  # unreachable: the counts add up to `total`


# --- from the rollups ------------------------------------------------------------------------

def metrics(session: Session, filters: Filters, tz: Zone = DEFAULT_TIMEZONE) -> Metrics:
    """All aggregates of `filters`, read from the rollup tables (a handful of indexed queries)."""
    check_timezone(session, tz)
    result = Metrics(filters)
    result.days = _days_from_rollups(session, filters)
    result.cells = _cells_from_rollups(session, filters)
    result.durations, result.calls = _durations_from_rollups(session, filters)
    result.by_counter = _throughput_from_rollups(session, filters, counter_day.c.counter_id)
    result.by_staff = _throughput_from_rollups(session, filters, counter_day.c.staff_user_id)
    return result


def _where(table: Table, filters: Filters, *, service: bool = True) -> list[ColumnElement[bool]]:
    """Date range, office, weekday and (optionally) service conditions on a rollup table."""
    conditions = [table.c.local_date >= filters.start, table.c.local_date <= filters.end]
    if filters.office_id is not None:
        conditions.append(table.c.office_id == filters.office_id)
    if filters.weekdays is not None:
        conditions.append(table.c.weekday.in_(sorted(filters.weekdays)))
    if service and filters.service_id is not None:
        conditions.append(table.c.service_id == filters.service_id)
    return conditions


def _sum(table: Table, column: str, step: str | None = None) -> Any:
    """SUM of a column, counting only rows of `step` when a step is given."""
    value: Any = table.c[column]
    if step is not None:
        value = case((table.c.step == step, value), else_=0)
    return func.coalesce(func.sum(value), 0).label(column)


def _days_from_rollups(session: Session, filters: Filters) -> dict[int, int]:
    """weekday → number of local dates with any ticket, queue entry or open counter."""
    active = or_(stage_day.c.issued > 0, stage_day.c.arrivals > 0, stage_day.c.open_ms > 0)
    query = (select(stage_day.c.weekday, func.count(stage_day.c.local_date.distinct()))
             .where(*_where(stage_day, filters, service=False), active)
             .group_by(stage_day.c.weekday))
    return {weekday: count for weekday, count in session.execute(query)}


def _cells_from_rollups(session: Session, filters: Filters) -> dict[tuple[int, int, int],
                                                                      HourCell]:
    """(service, weekday, hour) → hourly sums; the step filter applies to stage columns only."""
    step = filters.step
    stage_columns = [*STAGE_COUNTS, "wait_n", "wait_ms", "handling_n", "handling_ms"]
    columns = [_sum(stage_hour, name, step) for name in stage_columns if name != "recalls"]
    columns += [_sum(stage_hour, "issued"), _sum(stage_hour, "open_ms")]
    keys = (stage_hour.c.service_id, stage_hour.c.weekday, stage_hour.c.hour)
    query = select(*keys, *columns).where(*_where(stage_hour, filters)).group_by(*keys)
    cells = {}
    for row in session.execute(query).mappings():
        values = {name: int(row[name]) for name in HourCell.__dataclass_fields__}
        if any(values.values()):
            cells[(row["service_id"], row["weekday"], row["hour"])] = HourCell(**values)
    return cells


def _durations_from_rollups(
    session: Session, filters: Filters,
) -> tuple[dict[str, dict[Breakdown, DurationStats]], dict[Breakdown, CallStats]]:
    """Duration stats from the day table's histograms and call counts from the hour table."""
    columns = []
    for metric in DURATIONS:
        step = filters.step if metric in STAGE_DURATIONS else None
        names = [f"{metric}_n", f"{metric}_ms",
                 *(bucket_column(metric, i) for i in range(BUCKET_COUNT))]
        columns += [_sum(stage_day, name, step) for name in names]
    keys = (stage_day.c.service_id, stage_day.c.step)
    query = select(*keys, *columns).where(*_where(stage_day, filters)).group_by(*keys)
    sums: dict[str, dict[Breakdown, _Sums]] = {metric: defaultdict(_Sums) for metric in DURATIONS}
    for row in session.execute(query).mappings():
        for metric in DURATIONS:
            histogram = [int(row[bucket_column(metric, i)]) for i in range(BUCKET_COUNT)]
            part = _Sums(int(row[f"{metric}_n"]), int(row[f"{metric}_ms"]), histogram)
            if part.count:
                for key in _breakdowns(metric, row["service_id"], row["step"]):
                    sums[metric][key].add(part)
    durations = {metric: {key: value.stats() for key, value in sorted(
        by_key.items(), key=_breakdown_order)} for metric, by_key in sums.items()}
    return durations, _calls_from_rollups(session, filters)


def _calls_from_rollups(session: Session, filters: Filters) -> dict[Breakdown, CallStats]:
    """Calls, recalls and no-shows per (service, step), per service and overall."""
    keys = (stage_day.c.service_id, stage_day.c.step)
    names = ("calls", "recalls", "no_shows")
    query = (select(*keys, *(_sum(stage_day, name, filters.step) for name in names))
             .where(*_where(stage_day, filters)).group_by(*keys))
    totals: dict[Breakdown, Counter[str]] = defaultdict(Counter)
    for row in session.execute(query).mappings():
        if any(row[name] for name in names):
            for key in _breakdowns("calls", row["service_id"], row["step"]):
                totals[key].update({name: int(row[name]) for name in names})
    return {key: CallStats(**counts) for key, counts in sorted(totals.items(),
                                                               key=_breakdown_order)}


def _throughput_from_rollups(session: Session, filters: Filters,
                             key: Any) -> dict[int, Throughput]:
    """Done tasks, handling and open time per counter or per staff member."""
    names = ("done", "handling_n", "handling_ms", "open_ms")
    query = (select(key, *(_sum(counter_day, name) for name in names))
             .where(*_where(counter_day, filters), key != 0).group_by(key))
    return {row[0]: Throughput(*(int(value) for value in row[1:]))
            for row in session.execute(query) if any(row[1:])}


@dataclass
class _Sums:
    """Running count, sum and histogram (or raw values, for the exact path) of one duration."""

    count: int = 0
    total_ms: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)
    values: list[int] | None = None

    def add(self, other: _Sums) -> None:
        """Merge another partial sum into this one."""
        self.count += other.count
        self.total_ms += other.total_ms
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]
        if other.values is not None:
            self.values = (self.values or []) + other.values

    def stats(self) -> DurationStats:
        """Exact quantiles when raw values are known, bucket estimates otherwise."""
        if self.values is not None:
            return DurationStats(self.count, self.total_ms, exact_quantile(self.values, 0.5),
                                 exact_quantile(self.values, 0.9))
        return DurationStats(self.count, self.total_ms, histogram_quantile(self.histogram, 0.5),
                             histogram_quantile(self.histogram, 0.9))


def _breakdowns(metric: str, service_id: int, step: str) -> list[Breakdown]:
    """The keys one row adds to: its step, its service and the total (stay has no steps)."""
    keys: list[Breakdown] = [(service_id, None), (None, None)]
    if metric != "stay":
        keys.insert(0, (service_id, step))
    return keys


def _breakdown_order(item: tuple[Breakdown, Any]) -> tuple[int, int, str, int]:
    """Totals first, then per service, each service's steps after it."""
    service, step = item[0]
    return (service is not None, service or 0, step or "", step is not None)


# --- from the event log (reference) -----------------------------------------------------------

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
    sums: dict[str, dict[Breakdown, _Sums]] = {metric: defaultdict(_Sums) for metric in DURATIONS}
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
        by_key.items(), key=_breakdown_order)} for metric, by_key in sums.items()}
    result.calls = {key: CallStats(counts["calls"], counts["recalls"], counts["no_shows"])
                    for key, counts in sorted(calls.items(), key=_breakdown_order)}
    result.by_counter = _throughputs(by_counter)
    result.by_staff = _throughputs(by_staff)
    return result


def _count_fact(fact: Fact, cell: Counter[str], sums: dict[str, dict[Breakdown, _Sums]],
                calls: dict[Breakdown, Counter[str]]) -> None:
    """Add one fact to its hour cell, its duration sums or its call counts."""
    name = fact.kind.value
    if fact.kind is FactKind.OPEN:
        cell["open_ms"] += fact.value_ms
    elif fact.kind in DURATION_KINDS:
        cell[f"{name}_n"] += 1
        cell[f"{name}_ms"] += fact.value_ms
        for key in _breakdowns(name, fact.service_id, fact.step):
            sums[name][key].add(_Sums(1, fact.value_ms, [0] * BUCKET_COUNT, [fact.value_ms]))
    else:
        cell[name] += 1
        if fact.kind in (FactKind.CALL, FactKind.RECALL, FactKind.NO_SHOW):
            for key in _breakdowns(name, fact.service_id, fact.step):
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


def _throughputs(totals: Mapping[int, Counter[str]]) -> dict[int, Throughput]:
    """Counters of work as Throughput records."""
    return {key: Throughput(**counts) for key, counts in sorted(totals.items())
            if any(counts.values())}
