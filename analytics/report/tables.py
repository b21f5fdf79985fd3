"""The page's tables: `Table`s of raw values (ids, seconds, shares) with typed columns, laid
out from the aggregates, the staffing rows, the forecast and a what-if run.

Separate from the report that reads the data: these are pure layouts, which the page formats
for the reader's language and the exports write as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from analytics.forecast import BusyHour
from analytics.metrics import Metrics
from analytics.simulation import SimulationResult
from analytics.staffing import ServiceTarget, StaffingRow
from analytics.week_ahead import HourNeed
from frontyard.i18n import lazy_gettext


class Kind(StrEnum):
    """How a column's raw values are shown (page) and written (exports)."""

    TEXT = "text"
    COUNT = "count"
    DECIMAL = "decimal"
    SECONDS = "seconds"
    SHARE = "share"
    WEEKDAY = "weekday"
    HOUR = "hour"
    SERVICE = "service"
    COUNTER = "counter"
    STAFF = "staff"
    STATUS = "status"
    METRIC = "metric"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    """One column: its key (export header), its translated label and its kind."""

    key: str
    label: Any
    kind: Kind


@dataclass
class Table:
    """One table of the page, exportable as CSV and XLSX."""

    name: str
    title: Any
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    #: Rows the page marks (e.g. under-staffed hours); indexes into `rows`.
    flagged: set[int] = field(default_factory=set)


def _columns(*spec: tuple[str, Any, Kind]) -> list[Column]:
    """Columns from (key, label, kind) triples."""
    return [Column(key, label, kind) for key, label, kind in spec]


METRIC_LABELS = {"wait": lazy_gettext("wait"), "walk": lazy_gettext("walk"),
                 "handling": lazy_gettext("handling"), "stay": lazy_gettext("stay")}
STATUS_LABELS = {"under": lazy_gettext("under-staffed"), "ok": lazy_gettext("as needed"),
                 "over": lazy_gettext("over-staffed"),
                 "unknown": lazy_gettext("no handling time yet")}
LEVEL_LABELS = {"quiet": lazy_gettext("usually quiet"), "moderate": lazy_gettext("moderate"),
                "busy": lazy_gettext("usually busy")}
TABLE_NAMES = ("week_ahead", "waits", "heatmap", "durations", "calls", "staffing", "in_time",
               "counters", "staff", "forecast", "whatif", "events", "appointments")
#: How many of the longest waits the page leads with.
LONGEST_WAITS = 5


def heatmap_table(result: Metrics) -> Table:
    """Arrivals by weekday × hour, with tickets, open days and counters open."""
    table = Table("heatmap", lazy_gettext("Arrivals by weekday and hour"), _columns(
        ("weekday", lazy_gettext("Weekday"), Kind.WEEKDAY),
        ("hour", lazy_gettext("Hour"), Kind.HOUR),
        ("arrivals", lazy_gettext("Arrivals (queue entries)"), Kind.COUNT),
        ("issued", lazy_gettext("Tickets issued"), Kind.COUNT),
        ("open_days", lazy_gettext("Open days"), Kind.COUNT),
        ("arrivals_per_day", lazy_gettext("Arrivals per open day"), Kind.DECIMAL),
        ("counters_open", lazy_gettext("Counters open (average)"), Kind.DECIMAL)))
    arrivals, issued = result.heatmap("arrivals"), result.heatmap("issued")
    counters = result.counters_open()
    for weekday, hour in sorted(set(arrivals) | set(issued) | set(counters)):
        days = result.days.get(weekday, 0)
        count = arrivals.get((weekday, hour), 0)
        table.rows.append([weekday, hour, count, issued.get((weekday, hour), 0), days,
                           round(count / days, 2) if days else None,
                           round(counters.get((weekday, hour), 0.0), 2)])
    return table


def durations_table(result: Metrics) -> Table:
    """Wait, walk, handling and stay per service and step: count, mean, median, p90."""
    table = Table("durations", lazy_gettext("Times per service and step"), _columns(
        ("metric", lazy_gettext("Duration"), Kind.METRIC),
        ("service", lazy_gettext("Service"), Kind.SERVICE),
        ("step", lazy_gettext("Step"), Kind.TEXT),
        ("count", lazy_gettext("Measured"), Kind.COUNT),
        ("mean_seconds", lazy_gettext("Mean"), Kind.SECONDS),
        ("median_seconds", lazy_gettext("Median"), Kind.SECONDS),
        ("p90_seconds", lazy_gettext("90th percentile"), Kind.SECONDS)))
    for metric in ("wait", "walk", "handling", "stay"):
        for (service, step), stats in result.durations.get(metric, {}).items():
            table.rows.append([metric, service, step, stats.count, _round(stats.mean),
                               _round(stats.median), _round(stats.p90)])
    return table


def _round(value: float | None, digits: int = 1) -> float | None:
    """Rounded for display and export (None stays None)."""
    return None if value is None else round(value, digits)


def calls_table(result: Metrics) -> Table:
    """Calls, recalls, no-shows and the no-show rate per service and step."""
    table = Table("calls", lazy_gettext("Calls and no-shows"), _columns(
        ("service", lazy_gettext("Service"), Kind.SERVICE),
        ("step", lazy_gettext("Step"), Kind.TEXT),
        ("calls", lazy_gettext("Calls"), Kind.COUNT),
        ("recalls", lazy_gettext("Recalls"), Kind.COUNT),
        ("no_shows", lazy_gettext("No-shows"), Kind.COUNT),
        ("no_show_rate", lazy_gettext("No-show rate"), Kind.SHARE)))
    for (service, step), stats in result.calls.items():
        rate = stats.no_show_rate
        table.rows.append([service, step, stats.calls, stats.recalls, stats.no_shows,
                           None if rate is None else round(rate, 4)])
    return table


def staffing_table(rows: list[StaffingRow]) -> Table:
    """Counters needed by Erlang C against counters open, per hour and service."""
    table = Table("staffing", lazy_gettext("Counters needed and open per hour"), _columns(
        ("hour", lazy_gettext("Hour"), Kind.HOUR),
        ("service", lazy_gettext("Service"), Kind.SERVICE),
        ("arrivals_per_hour", lazy_gettext("Arrivals per hour"), Kind.DECIMAL),
        ("handling_seconds", lazy_gettext("Mean handling"), Kind.SECONDS),
        ("needed", lazy_gettext("Counters needed"), Kind.COUNT),
        ("staff_needed", lazy_gettext("Staff needed"), Kind.COUNT),
        ("counters_open", lazy_gettext("Counters open"), Kind.DECIMAL),
        ("status", lazy_gettext("Staffing"), Kind.STATUS),
        ("level_with_open", lazy_gettext("Model: share called in time with the counters open"),
         Kind.SHARE)))
    for row in sorted(rows, key=lambda r: (r.hour, r.service_id is not None, r.service_id or 0)):
        if row.status.value in {"under", "over"}:
            table.flagged.add(len(table.rows))
        table.rows.append([row.hour, row.service_id, round(row.arrivals_per_hour, 2),
                           _round(row.handling_seconds), row.needed, row.staff_needed,
                           round(row.counters_open, 2), row.status.value,
                           _round(row.level_with_open, 4)])
    return table


def throughput_table(result: Metrics, by: str) -> Table:
    """Tasks done, open hours and handling per counter or per staff member."""
    title = (lazy_gettext("Throughput per counter") if by == "counters"
             else lazy_gettext("Throughput per staff member"))
    kind = Kind.COUNTER if by == "counters" else Kind.STAFF
    label = lazy_gettext("Counter") if by == "counters" else lazy_gettext("Staff member")
    table = Table(by, title, _columns(
        ("counter" if by == "counters" else "staff", label, kind),
        ("done", lazy_gettext("Tasks done"), Kind.COUNT),
        ("open_hours", lazy_gettext("Hours open"), Kind.DECIMAL),
        ("done_per_open_hour", lazy_gettext("Done per open hour"), Kind.DECIMAL),
        ("mean_handling_seconds", lazy_gettext("Mean handling"), Kind.SECONDS)))
    for key, work in (result.by_counter if by == "counters" else result.by_staff).items():
        per_hour = work.done_per_open_hour
        table.rows.append([key, work.done, round(work.open_hours, 2),
                           None if per_hour is None else round(per_hour, 2),
                           _round(work.mean_handling)])
    return table


def forecast_table(hours: list[BusyHour]) -> Table:
    """Expected arrivals per hour of the forecast date, and how busy that usually is."""
    table = Table("forecast", lazy_gettext("Forecast of arrivals"), _columns(
        ("hour", lazy_gettext("Hour"), Kind.HOUR),
        ("expected", lazy_gettext("Expected arrivals"), Kind.DECIMAL),
        ("level", lazy_gettext("Usually"), Kind.STATUS)))
    table.rows = [[hour.hour, round(hour.expected, 1), hour.level.value] for hour in hours]
    return table


def whatif_table(predicted: SimulationResult | None,
                 real: Mapping[tuple[int | None, int], float]) -> Table:
    """Real and predicted waits per hour of queue entry (all services)."""
    table = Table("whatif", lazy_gettext("What-if: predicted waits per hour"), _columns(
        ("hour", lazy_gettext("Hour"), Kind.HOUR),
        ("real_mean_wait_seconds", lazy_gettext("Real mean wait"), Kind.SECONDS),
        ("predicted_mean_wait_seconds", lazy_gettext("Predicted mean wait"), Kind.SECONDS),
        ("predicted_p90_wait_seconds", lazy_gettext("Predicted 90th percentile"), Kind.SECONDS),
        ("predicted_within_target", lazy_gettext("Predicted share called in time"),
         Kind.SHARE),
        ("residents_per_day", lazy_gettext("Residents per day"), Kind.DECIMAL)))
    simulated = predicted.by_hour if predicted is not None else {}
    hours = sorted({hour for service, hour in [*simulated, *real] if service is None})
    for hour in hours:
        summary = simulated.get((None, hour))
        table.rows.append([
            hour, _round(real.get((None, hour))),
            _round(summary.mean) if summary else None, _round(summary.p90) if summary else None,
            _round(summary.within_target, 4) if summary else None,
            round(summary.entered, 2) if summary else None])
    return table


def week_ahead_table(needs: list[HourNeed]) -> Table:
    """Counters needed per day of the coming week, service and hour (Erlang C on the forecast)."""
    table = Table("week_ahead", lazy_gettext("Counters needed next week"), _columns(
        ("date", lazy_gettext("Date"), Kind.DATE),
        ("service", lazy_gettext("Service"), Kind.SERVICE),
        ("hour", lazy_gettext("Hour"), Kind.HOUR),
        ("expected", lazy_gettext("Expected arrivals"), Kind.DECIMAL),
        ("handling_seconds", lazy_gettext("Mean handling"), Kind.SECONDS),
        ("needed", lazy_gettext("Counters needed"), Kind.COUNT)))
    table.rows = [[need.day, need.service_id, need.hour, round(need.expected, 1),
                   _round(need.handling_seconds), need.needed] for need in needs]
    return table


def waits_table(result: Metrics) -> Table:
    """Mean measured wait per service and hour of queue entry, longest first."""
    table = Table("waits", lazy_gettext("Where residents wait longest"), _columns(
        ("service", lazy_gettext("Service"), Kind.SERVICE),
        ("hour", lazy_gettext("Hour"), Kind.HOUR),
        ("mean_wait_seconds", lazy_gettext("Mean wait"), Kind.SECONDS),
        ("waits", lazy_gettext("Waits measured"), Kind.COUNT)))
    sums: dict[tuple[int, int], list[int]] = {}
    for (service, _weekday, hour), cell in result.cells.items():
        if cell.wait_n:
            total = sums.setdefault((service, hour), [0, 0])
            total[0] += cell.wait_n
            total[1] += cell.wait_ms
    rows = [[service, hour, round(ms / n / 1000.0, 1), n]
            for (service, hour), (n, ms) in sums.items()]
    table.rows = sorted(rows, key=lambda row: (-row[2], row[1], row[0]))
    table.flagged = set(range(min(LONGEST_WAITS, len(table.rows))))
    return table


def in_time_table(result: Metrics, rows: list[StaffingRow], target: ServiceTarget) -> Table:
    """Per service, the share called within the target as measured and as the model predicts
    with the counters open (weighted by arrivals); the two differ when counters are shared."""
    table = Table("in_time", lazy_gettext("Share called in time: measured and model"), _columns(
        ("service", lazy_gettext("Service"), Kind.SERVICE),
        ("waits", lazy_gettext("Waits measured"), Kind.COUNT),
        ("measured_share", lazy_gettext("Measured: share called in time"), Kind.SHARE),
        ("model_share", lazy_gettext("Model: share called in time with the counters open"),
         Kind.SHARE)))
    weighted: dict[int, list[float]] = {}
    for row in rows:
        if row.service_id is not None and row.level_with_open is not None:
            total = weighted.setdefault(row.service_id, [0.0, 0.0])
            total[0] += row.level_with_open * row.arrivals_per_hour
            total[1] += row.arrivals_per_hour
    for (service, step), stats in result.durations.get("wait", {}).items():
        if step is not None:
            continue
        model = weighted.get(service) if service is not None else None
        measured = stats.share_within(target.seconds)
        table.rows.append([service, stats.count, _round(measured, 4),
                           _round(model[0] / model[1], 4) if model and model[1] else None])
    return table
