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
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    union_all,
)
from sqlmodel import Session

from analytics.models import (
    BUCKET_COUNT,
    BUCKET_EDGES_SECONDS,
    DURATIONS,
    bucket_column,
    counter_day,
    counter_month,
    office_day,
    stage_day,
    stage_hour,
    stage_hour_month,
    stage_month,
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

@dataclass(frozen=True)
class Part:
    """One stretch of a date range and the level it is read from: local dates `first`–`last`
    from the day tables, or the months `first`–`last` (first days) from the month tables."""

    level: str
    first: date
    last: date


def _next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_range(start: date, end: date, *, months: bool = True) -> list[Part]:
    """A range as the days of its partial first month, its whole months and the days of its
    partial last month (without `months`, or without a whole month, as days only)."""
    first_whole = start if start.day == 1 else _next_month(start)
    after_whole = end + timedelta(days=1)
    after_whole = after_whole if after_whole.day == 1 else after_whole.replace(day=1)
    if not months or first_whole >= after_whole:
        return [Part("day", start, end)]
    parts = [Part("month", first_whole, (after_whole - timedelta(days=1)).replace(day=1))]
    if start < first_whole:
        parts.insert(0, Part("day", start, first_whole - timedelta(days=1)))
    if after_whole <= end:
        parts.append(Part("day", after_whole, end))
    return parts


def metrics(session: Session, filters: Filters, tz: Zone = DEFAULT_TIMEZONE, *,
            months: bool = True) -> Metrics:
    """All aggregates of `filters`, read from the rollup tables (a handful of indexed queries).

    Whole months come from the month tables and the partial months at either end from the day
    tables; `months=False` reads days only (the same figures, slower over long ranges)."""
    check_timezone(session, tz)
    parts = split_range(filters.start, filters.end, months=months)
    result = Metrics(filters)
    result.days = _days_from_rollups(session, filters)
    result.cells = _cells_from_rollups(session, filters, parts)
    result.durations, result.calls = _durations_from_rollups(session, filters, parts)
    result.by_counter, result.by_staff = _throughput_from_rollups(session, filters, parts)
    return result


@dataclass(frozen=True)
class _Shape:
    """Which filters a query has: its statement is built once per shape and combination of
    parts, and the filters' values are bound at execution (no SQL compiled per request)."""

    office: bool
    service: bool
    step: bool
    weekdays: bool

    @classmethod
    def of(cls, filters: Filters) -> _Shape:
        """The shape of a filter."""
        return cls(filters.office_id is not None, filters.service_id is not None,
                   filters.step is not None, filters.weekdays is not None)


#: level → (hour table, stage table, counter table, the column its range is on)
_LEVELS: dict[str, tuple[Table, Table, Table, str]] = {
    "day": (stage_hour, stage_day, counter_day, "local_date"),
    "month": (stage_hour_month, stage_month, counter_month, "month"),
}


def _params(filters: Filters, parts: list[Part]) -> dict[str, Any]:
    """The values bound to a statement's parameters (each part's bounds numbered)."""
    params = {"office_id": filters.office_id, "service_id": filters.service_id,
              "step": filters.step, "weekdays": sorted(filters.weekdays or ())}
    for index, part in enumerate(parts):
        params.update({f"first_{index}": part.first, f"last_{index}": part.last})
    return params


def _where(table: Table, column: str, shape: _Shape, index: int = 0, *,
           service: bool = True) -> list[ColumnElement[bool]]:
    """Part `index`'s range, office, weekday and (optionally) service conditions on a table."""
    conditions = [table.c[column] >= bindparam(f"first_{index}"),
                  table.c[column] <= bindparam(f"last_{index}")]
    if shape.office:
        conditions.append(table.c.office_id == bindparam("office_id"))
    if shape.weekdays:
        conditions.append(table.c.weekday.in_(bindparam("weekdays", expanding=True)))
    if service and shape.service:
        conditions.append(table.c.service_id == bindparam("service_id"))
    return conditions


def _grouped(levels: tuple[str, ...], shape: _Shape, table_of: Callable[[str], Table],
             keys: tuple[str, ...], values: list[tuple[str, bool]]) -> Select[Any]:
    """SELECT keys, SUM(value)… GROUP BY keys over the rows of every part of a range, each part
    read from its level's table: one statement, whatever the number of parts. A value marked
    True counts only rows of the filter's step."""
    # One aggregate over all the parts' rows: on PostgreSQL markedly cheaper than grouping each
    # part first (a grouping pays per group, and each part has about as many groups as the
    # whole range); on SQLite the two cost the same.
    selects = []
    for index, level in enumerate(levels):
        table, column = table_of(level), _LEVELS[level][3]
        columns: list[Any] = [table.c[name] for name in keys]
        for name, by_step in values:
            value: Any = table.c[name]
            if by_step and shape.step:
                value = case((table.c.step == bindparam("step"), value), else_=0)
            columns.append(value.label(name))
        selects.append(select(*columns).where(*_where(table, column, shape, index)))
    rows = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery()
    groups = [rows.c[name] for name in keys]
    return select(*groups, *(_whole(func.sum(rows.c[name])).label(name)
                             for name, _by_step in values)).group_by(*groups)


def _whole(total: Any) -> Any:
    """A SUM as a whole number (PostgreSQL's SUM of BIGINT is NUMERIC, Decimal in Python)."""
    return cast(total, BigInteger)


def _summed(session: Session, statement: Callable[[tuple[str, ...], _Shape], Select[Any]],
            keys: int, filters: Filters,
            parts: list[Part]) -> dict[tuple[Any, ...], dict[str, int]]:
    """One figure's sums over all the parts of the range, per group (its `keys` columns)."""
    query = statement(tuple(part.level for part in parts), _Shape.of(filters))
    names = [column.name for column in query.selected_columns][keys:]
    return {tuple(row[:keys]): dict(zip(names, row[keys:], strict=True))
            for row in session.execute(query, _params(filters, parts))}


@cache
def _days_statement(shape: _Shape) -> Select[Any]:
    """weekday → distinct open dates, from the office-day table (a row per office and date)."""
    active = or_(office_day.c.issued > 0, office_day.c.arrivals > 0, office_day.c.open_ms > 0)
    return (select(office_day.c.weekday, func.count(office_day.c.local_date.distinct()))
            .where(*_where(office_day, "local_date", shape, service=False), active)
            .group_by(office_day.c.weekday))


def _days_from_rollups(session: Session, filters: Filters) -> dict[int, int]:
    """weekday → number of local dates with any ticket, queue entry or open counter."""
    query = _days_statement(_Shape.of(filters))
    params = _params(filters, [Part("day", filters.start, filters.end)])
    return {weekday: count for weekday, count in sorted(session.execute(query, params).all())}


#: Hourly sums for the cells, and whether the step filter applies to each.
_CELL_VALUES = [(name, True) for name in (*STAGE_COUNTS, "wait_n", "wait_ms", "handling_n",
                                          "handling_ms") if name != "recalls"] + [
    ("issued", False), ("open_ms", False)]


@cache
def _cells_statement(levels: tuple[str, ...], shape: _Shape) -> Select[Any]:
    """(service, weekday, hour) → hourly sums; the step filter applies to stage columns only."""
    return _grouped(levels, shape, lambda level: _LEVELS[level][0],
                    ("service_id", "weekday", "hour"), _CELL_VALUES)


def _cells_from_rollups(session: Session, filters: Filters,
                        parts: list[Part]) -> dict[tuple[int, int, int], HourCell]:
    """(service, weekday, hour) → the hour cell, summed over the range."""
    cells = {}
    for key, sums in sorted(_summed(session, _cells_statement, 3, filters, parts).items()):
        if any(sums.values()):
            cells[key] = HourCell(**sums)
    return cells


#: Call counts, read with the durations (same table, same groups).
_CALL_COUNTS = ("calls", "recalls", "no_shows")
#: Per duration its count, sum and histogram, then the call counts; whether the step applies.
_STAGE_VALUES = [(name, metric in STAGE_DURATIONS) for metric in DURATIONS for name in (
    f"{metric}_n", f"{metric}_ms", *(bucket_column(metric, i) for i in range(BUCKET_COUNT)))
] + [(name, True) for name in _CALL_COUNTS]


@cache
def _stage_statement(levels: tuple[str, ...], shape: _Shape) -> Select[Any]:
    """(service, step) → duration counts, sums and histograms, and call counts."""
    return _grouped(levels, shape, lambda level: _LEVELS[level][1], ("service_id", "step"),
                    _STAGE_VALUES)


def _durations_from_rollups(
    session: Session, filters: Filters, parts: list[Part],
) -> tuple[dict[str, dict[Breakdown, DurationStats]], dict[Breakdown, CallStats]]:
    """Duration stats from the histograms, and calls, recalls and no-shows, per (service,
    step), per service and overall."""
    sums: dict[str, dict[Breakdown, _Sums]] = {metric: defaultdict(_Sums) for metric in DURATIONS}
    calls: dict[Breakdown, Counter[str]] = defaultdict(Counter)
    for (service_id, step), row in _summed(session, _stage_statement, 2, filters, parts).items():
        for metric in DURATIONS:
            histogram = [row[bucket_column(metric, i)] for i in range(BUCKET_COUNT)]
            part = _Sums(row[f"{metric}_n"], row[f"{metric}_ms"], histogram)
            if part.count:
                for key in _breakdowns(metric, service_id, step):
                    sums[metric][key].add(part)
        if any(row[name] for name in _CALL_COUNTS):
            for key in _breakdowns("calls", service_id, step):
                calls[key].update({name: row[name] for name in _CALL_COUNTS})
    durations = {metric: {key: value.stats() for key, value in sorted(
        by_key.items(), key=_breakdown_order)} for metric, by_key in sums.items()}
    return durations, {key: CallStats(**{name: counts[name] for name in _CALL_COUNTS})
                       for key, counts in sorted(calls.items(), key=_breakdown_order)}


#: What a counter or staff member did, summed from the counter tables.
_WORK = ("done", "handling_n", "handling_ms", "open_ms")


@cache
def _counter_statement(levels: tuple[str, ...], shape: _Shape) -> Select[Any]:
    """(counter, staff member) → done tasks, handling and open time."""
    return _grouped(levels, shape, lambda level: _LEVELS[level][2],
                    ("counter_id", "staff_user_id"), [(name, False) for name in _WORK])


def _throughput_from_rollups(
    session: Session, filters: Filters, parts: list[Part],
) -> tuple[dict[int, Throughput], dict[int, Throughput]]:
    """Done tasks, handling and open time per counter and per staff member (0: unknown)."""
    by_counter: dict[int, Counter[str]] = defaultdict(Counter)
    by_staff: dict[int, Counter[str]] = defaultdict(Counter)
    for (counter_id, staff_id), work in _summed(session, _counter_statement, 2,
                                                filters, parts).items():
        if counter_id:
            by_counter[counter_id].update(work)
        if staff_id:
            by_staff[staff_id].update(work)
    return _throughputs(by_counter), _throughputs(by_staff)


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
