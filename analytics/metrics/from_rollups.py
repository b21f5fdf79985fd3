"""`metrics`: the aggregates read from the rollup tables (fast, for pages and exports).

A date range is split into whole months (read from the month tables) and the days of its
partial months (from the day tables); each figure is one statement, built once per filter shape
and combination of levels. Separate from the event-log reference (`from_log`), which it must
agree with.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
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

from analytics.metrics.quantiles import Sums
from analytics.metrics.results import (
    STAGE_COUNTS,
    STAGE_DURATIONS,
    Breakdown,
    CallStats,
    DurationStats,
    Filters,
    HourCell,
    Metrics,
    Throughput,
    breakdown_order,
    breakdowns,
    throughputs,
)
from analytics.models import (
    BUCKET_COUNT,
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
from analytics.rollups import DEFAULT_TIMEZONE, Zone, check_timezone


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
    sums: dict[str, dict[Breakdown, Sums]] = {metric: defaultdict(Sums) for metric in DURATIONS}
    calls: dict[Breakdown, Counter[str]] = defaultdict(Counter)
    for (service_id, step), row in _summed(session, _stage_statement, 2, filters, parts).items():
        for metric in DURATIONS:
            histogram = [row[bucket_column(metric, i)] for i in range(BUCKET_COUNT)]
            part = Sums(row[f"{metric}_n"], row[f"{metric}_ms"], histogram)
            if part.count:
                for key in breakdowns(metric, service_id, step):
                    sums[metric][key].add(part)
        if any(row[name] for name in _CALL_COUNTS):
            for key in breakdowns("calls", service_id, step):
                calls[key].update({name: row[name] for name in _CALL_COUNTS})
    durations = {metric: {key: value.stats() for key, value in sorted(
        by_key.items(), key=breakdown_order)} for metric, by_key in sums.items()}
    return durations, {key: CallStats(**{name: counts[name] for name in _CALL_COUNTS})
                       for key, counts in sorted(calls.items(), key=breakdown_order)}


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
    return throughputs(by_counter), throughputs(by_staff)
