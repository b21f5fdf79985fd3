"""The report: `build_report` reads the aggregates once and lays out every table of the page;
`Names` says what the tables' ids mean.

Separate from the parameters and the table layouts it combines, and from the what-if and
export tables, which are built only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from analytics.forecast import BusyHour, arrival_history, learn, usually_busy
from analytics.metrics import Filters, Metrics, metrics
from analytics.report.query import PageQuery
from analytics.report.tables import (
    Table,
    calls_table,
    durations_table,
    forecast_table,
    heatmap_table,
    in_time_table,
    staffing_table,
    throughput_table,
    waits_table,
    week_ahead_table,
)
from analytics.staffing import StaffingRow, staffing
from analytics.week_ahead import HourNeed, coming_week
from counter.models import Counter, Office, Service
from frontyard.auth import User

#: How much history the forecast learns from.
FORECAST_HISTORY_DAYS = 365


@dataclass
class Names:
    """What ids mean: services, counters and staff, for the page and the exports."""

    services: dict[int, Service] = field(default_factory=dict)
    counters: dict[int, Counter] = field(default_factory=dict)
    staff: dict[int, User] = field(default_factory=dict)
    offices: dict[int, Office] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Names:
        """Every office, service, counter and staff member (a city hall has a few dozen)."""
        return cls({s.id: s for s in session.exec(select(Service))},  # type: ignore[misc]
                   {c.id: c for c in session.exec(select(Counter))},  # type: ignore[misc]
                   {u.id: u for u in session.exec(select(User))},  # type: ignore[misc]
                   {o.id: o for o in session.exec(select(Office))})  # type: ignore[misc]


@dataclass
class Report:
    """Everything the page shows for one query."""

    query: PageQuery
    metrics: Metrics
    staffing: list[StaffingRow]
    forecast: list[BusyHour]
    names: Names
    #: Counters needed per day, service and hour of the week from the forecast date.
    week_ahead: list[HourNeed] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)


def build_report(session: Session, query: PageQuery, tz: ZoneInfo) -> Report:
    """Read the aggregates once and lay out every table of the page."""
    result = metrics(session, query.filters, tz)
    rows = staffing(result, query.target)
    forecast = forecast_hours(session, query.filters, query.forecast_date)
    week = coming_week(session, result, query.forecast_date, query.target, tz)
    report = Report(query, result, rows, forecast, Names.load(session), week)
    for table in (week_ahead_table(week), waits_table(result), heatmap_table(result),
                  durations_table(result), calls_table(result), staffing_table(rows),
                  in_time_table(result, rows, query.target), throughput_table(result, "counters"),
                  throughput_table(result, "staff"), forecast_table(forecast)):
        report.tables[table.name] = table
    return report


def forecast_hours(session: Session, filters: Filters, day: date) -> list[BusyHour]:
    """Expected arrivals per hour of `day`, learned from the year before it (the filter's
    office and service apply, its dates do not)."""
    history = arrival_history(session, day - timedelta(days=FORECAST_HISTORY_DAYS),
                              day - timedelta(days=1), filters.office_id, filters.service_id)
    return usually_busy(learn(history), day) if history else []
