"""How the report reads on the page: cells and charts in the reader's language.

Numbers, percentages and weekday names come from Babel for the current language; durations
are shown in minutes. The charts hold the same values as the tables beside them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date, get_day_names
from babel.numbers import format_percent

from analytics import charts
from analytics.models import NO_SERVICE
from analytics.report import LEVEL_LABELS, METRIC_LABELS, STATUS_LABELS, Kind, Names, Report
from analytics.simulation import SimulationResult
from frontyard import i18n
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext

STATUS_MARKS = {"under": "▲", "over": "▼"}
STATUS_SHORT = {"under": lazy_gettext("▲ under"), "over": lazy_gettext("▼ over"),
                "unknown": "?"}
LEVEL_SHORT = {"quiet": lazy_gettext("quiet"), "moderate": lazy_gettext("moderate"),
               "busy": lazy_gettext("busy")}


def weekday_name(day: int, width: str = "abbreviated") -> str:
    """Monday = 0 … in the current language."""
    return str(get_day_names(width, locale=i18n.current_language().babel)[day])


def hour_label(hour: int) -> str:
    """An hour of the day, e.g. "9:00" or "9時"."""
    return _("%(hour)d:00") % {"hour": hour}


def minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal, e.g. "5.5 min"."""
    if seconds is None:
        return "–"
    return _("%(minutes)s min") % {"minutes": i18n.fmt_number(round(seconds / 60, 1))}


def service_name(service_id: int | None, names: Names) -> str:
    """A service's name in the current language; None is every service."""
    if service_id is None:
        return _("All services")
    if service_id == NO_SERVICE:
        return _("No service")
    service = names.services.get(service_id)
    return i18n.translate_map(service.names) or service.code if service else str(service_id)


def cell_text(kind: Kind, value: Any, names: Names) -> str:
    """One table cell for the page."""
    if value is None and kind not in (Kind.SERVICE, Kind.TEXT):
        return "–"
    match kind:
        case Kind.COUNT | Kind.DECIMAL:
            return i18n.fmt_number(value)
        case Kind.SECONDS:
            return minutes(value)
        case Kind.SHARE:
            # One decimal: 2.4 % and 2.6 % of no-shows are not both "2 %".
            return format_percent(value, "#,##0.0%", locale=i18n.current_language().babel)
        case Kind.DATE:
            return format_date(value, "full", locale=i18n.current_language().babel)
        case Kind.WEEKDAY:
            return weekday_name(value, "wide")
        case Kind.HOUR:
            return hour_label(value)
        case Kind.SERVICE:
            return service_name(value, names)
        case Kind.COUNTER:
            counter = names.counters.get(value)
            return (i18n.translate_map(counter.names) or counter.number) if counter else "–"
        case Kind.STAFF:
            user = names.staff.get(value)
            return (user.display_name or user.username) if user else "–"
        case Kind.STATUS:
            label = STATUS_LABELS.get(value) or LEVEL_LABELS.get(value) or value
            return f"{STATUS_MARKS.get(value, '')} {label}".strip()
        case Kind.METRIC:
            return str(METRIC_LABELS.get(value, value))
    if value is None:
        return _("All steps")
    return str(value) or "–"


@dataclass(frozen=True)
class DayNeeds:
    """One coming day of the week-ahead answer: counters needed per service (rows) and hour."""

    day: date
    hours: list[int]
    rows: list[tuple[int, list[int | None]]]
    peak: int | None  # the most counters any hour needs, all services together
    peak_hour: int | None


def week_ahead_days(report: Report) -> list[DayNeeds]:
    """The week-ahead needs laid out per day as service × hour, with the day's busiest hour."""
    by_day: dict[date, dict[int, dict[int, int | None]]] = {}
    for need in report.week_ahead:
        by_day.setdefault(need.day, {}).setdefault(need.service_id, {})[need.hour] = need.needed
    days = []
    for day, services in sorted(by_day.items()):
        hours = sorted({hour for by_hour in services.values() for hour in by_hour})
        totals = {hour: sum(n or 0 for by_hour in services.values()
                            if (n := by_hour.get(hour)) is not None) for hour in hours}
        peak_hour = max(hours, key=lambda hour: (totals[hour], -hour)) if hours else None
        days.append(DayNeeds(day, hours, [
            (service, [by_hour.get(hour) for hour in hours])
            for service, by_hour in sorted(services.items())],
            totals[peak_hour] if peak_hour is not None else None, peak_hour))
    return days


def heatmap_chart(report: Report) -> charts.Chart | None:
    """Arrivals per open day, weekday × hour."""
    table = report.tables["heatmap"]
    values = {(row[0], row[1]): row[5] or 0 for row in table.rows if row[2]}
    if not values:
        return None
    hours = range(min(h for _, h in values), max(h for _, h in values) + 1)
    days = sorted({day for day, _ in values})
    return charts.heatmap(values, {day: weekday_name(day) for day in days},
                          {hour: str(hour) for hour in hours}, i18n.fmt_number)


def duration_charts(report: Report) -> dict[str, charts.Chart]:
    """Per time (wait, walk, handling, stay): mean, median and p90 per service and step."""
    series = [("bar-mean", _("mean")), ("bar-median", _("median")), ("bar-p90", _("90th pct."))]
    result = {}
    for metric, by_key in report.metrics.durations.items():
        steps = Counter(service for service, step in by_key if step is not None)
        rows = []
        for (service, step), stats in by_key.items():
            label = service_name(service, report.names)
            if step is not None:
                if steps[service] < 2:
                    continue  # the service's only step: the same figures as its total row
                label = f"{label} / {step or '–'}"
            elif service is not None and steps[service] > 1:
                label = _("%(service)s (all steps)") % {"service": label}
            values = [stats.mean, stats.median, stats.p90]
            rows.append(charts.BarRow(label, values, [minutes(v) for v in values]))
        if rows:
            result[metric] = charts.bars(rows, series)
    return result


def staffing_chart(report: Report) -> charts.Chart | None:
    """Counters needed and counters open per hour: for the chosen service, else for all
    services together; short and long hours are marked under the hour."""
    service = report.query.filters.service_id
    rows = [row for row in report.staffing if row.service_id == service]
    if not rows:
        return None
    groups = []
    for row in rows:
        status = row.status.value
        groups.append(charts.ColumnGroup(
            hour_label(row.hour), [row.needed, row.counters_open],
            [i18n.fmt_number(row.needed) if row.needed is not None else "?",
             i18n.fmt_number(round(row.counters_open, 1))],
            str(STATUS_SHORT.get(status, "")), f"note-{status}"))
    return charts.columns(groups, [("bar-needed", _("counters needed")),
                                   ("bar-open", _("counters open"))])


def forecast_chart(report: Report) -> charts.Chart | None:
    """Expected arrivals per hour of the forecast date."""
    if not report.forecast:
        return None
    groups = [charts.ColumnGroup(str(hour.hour), [hour.expected],
                                 [i18n.fmt_number(round(hour.expected, 1))],
                                 str(LEVEL_SHORT[hour.level.value]),
                                 f"note-{hour.level.value}")
              for hour in report.forecast]
    return charts.columns(groups, [("bar-expected", _("expected arrivals"))])


def whatif_chart(predicted: SimulationResult,
                 real: dict[tuple[int | None, int], float]) -> charts.Chart | None:
    """Real and predicted mean waits per hour (all services)."""
    hours = sorted({hour for service, hour in [*predicted.by_hour, *real] if service is None})
    if not hours:
        return None
    groups = []
    for hour in hours:
        summary = predicted.by_hour.get((None, hour))
        values = [real.get((None, hour)), summary.mean if summary else None]
        groups.append(charts.ColumnGroup(str(hour), values, [
            i18n.fmt_number(round(v / 60, 1)) if v is not None else "–" for v in values]))
    return charts.columns(groups, [("bar-real", _("real mean wait (min)")),
                                   ("bar-predicted", _("predicted mean wait (min)"))])
