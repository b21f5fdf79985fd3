"""The managers' report: page parameters, and every table the page shows and exports.

`parse_query` turns the page's GET parameters into filters and a service target (refusing
nonsense with a `ValidationFailed` naming the field); `build_report` reads the aggregates once
and lays them out as `Table`s whose rows hold raw values (ids, seconds, shares). The page
formats them for the reader's language, the exports write them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from analytics.forecast import BusyHour, arrival_history, learn, usually_busy
from analytics.metrics import Filters, Metrics, metrics
from analytics.models import NO_SERVICE
from analytics.simulation import (
    SimulationResult,
    StaffPlan,
    history_input,
    measured_waits,
    simulate,
)
from analytics.staffing import ServiceTarget, StaffingRow, staffing
from analytics.timeline import COUNTER_KINDS
from counter.models import Counter, Event, Office, Service, Visit
from frontyard.auth import User
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext

#: The default period: the last four weeks, today included.
DEFAULT_DAYS = 28
#: Longer ranges are refused (the page is meant for a year or two at a time).
MAX_DAYS = 3 * 366
#: How much history the forecast learns from.
FORECAST_HISTORY_DAYS = 365
#: What-if: simulated days per run, and the hours a plan may cover.
SIMULATED_DAYS = 10
MAX_PLAN_COUNTERS = 50


class Query(Protocol):
    """What the page's parameters look like (Starlette's QueryParams and FormData match)."""

    def get(self, key: str, default: Any = None) -> Any:
        """One value."""

    def getlist(self, key: str) -> list[Any]:
        """Every value of a repeated parameter."""


@dataclass(frozen=True)
class PageQuery:
    """The page's parameters, checked."""

    filters: Filters
    target: ServiceTarget
    forecast_date: date

    def params(self) -> list[tuple[str, str]]:
        """The same query as URL parameters (for export links and the what-if page)."""
        f = self.filters
        pairs = [("start", f.start.isoformat()), ("end", f.end.isoformat())]
        pairs += [(name, str(value)) for name, value in (
            ("office", f.office_id), ("service", f.service_id), ("step", f.step))
            if value is not None]
        pairs += [("weekday", str(day)) for day in sorted(f.weekdays or ())]
        pairs += [("level", _plain(self.target.level * 100)),
                  ("minutes", _plain(self.target.seconds / 60)),
                  ("date", self.forecast_date.isoformat())]
        return pairs


def _plain(value: float) -> str:
    """A number without a needless ".0"."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _fail(field_name: str, message: str) -> ValidationFailed:
    """A refusal naming the parameter at fault."""
    return ValidationFailed(message, **{field_name: message})


def _date(query: Query, name: str, default: date) -> date:
    """A YYYY-MM-DD parameter."""
    text = (query.get(name) or "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(name, _("Dates are written as YYYY-MM-DD.")) from None


def _number(query: Query, name: str, default: float, low: float, high: float) -> float:
    """A number parameter within [low, high]."""
    text = (query.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise _fail(name, _("Enter a number from %(low)s to %(high)s.")
                    % {"low": _plain(low), "high": _plain(high)})
    return value


def _optional_id(query: Query, name: str) -> int | None:
    """An id parameter (empty: all)."""
    text = (query.get(name) or "").strip()
    if not text:
        return None
    # ASCII digits only ("²" is a digit to isdigit), and no more than an id can have.
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise _fail(name, _("Choose an entry from the list."))
    return int(text)


def parse_query(query: Query, today: date, session: Session) -> PageQuery:
    """Check the page's parameters: dates, office, service, step, weekdays and target."""
    end = _date(query, "end", today)
    start = _date(query, "start", end - timedelta(days=DEFAULT_DAYS - 1))
    if (end - start).days >= MAX_DAYS:
        raise _fail("start", _("Choose a period of at most three years."))
    office_id, service_id = _optional_id(query, "office"), _optional_id(query, "service")
    if office_id is not None and session.get(Office, office_id) is None:
        raise _fail("office", _("Choose an office from the list."))
    service = session.get(Service, service_id) if service_id is not None else None
    if service_id is not None and (service is None or (
            office_id is not None and service.office_id != office_id)):
        raise _fail("service", _("Choose a service of the chosen office."))
    step = (query.get("step") or "").strip() or None
    if step is not None and len(step) > 64:
        raise _fail("step", _("Choose a step from the list."))
    weekdays = None
    chosen = [value for value in query.getlist("weekday") if str(value).strip()]
    if chosen:
        if not all(str(value).strip() in {str(day) for day in range(7)} for value in chosen):
            raise _fail("weekday", _("Choose weekdays from the list."))
        weekdays = frozenset(int(value) for value in chosen)
    level = _number(query, "level", 80, 1, 99)
    minutes = _number(query, "minutes", 15, 0, 600)
    filters = Filters(start, end, office_id, service_id, step, weekdays)
    return PageQuery(filters, ServiceTarget(level=level / 100, seconds=minutes * 60),
                     _date(query, "date", today + timedelta(days=1)))


# --- tables ----------------------------------------------------------------------------------

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
TABLE_NAMES = ("heatmap", "durations", "calls", "staffing", "counters", "staff", "forecast",
               "whatif", "events")


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
        ("level_with_open", lazy_gettext("Share called in time with the counters open"),
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


# --- the report --------------------------------------------------------------------------------

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
    tables: dict[str, Table] = field(default_factory=dict)


def build_report(session: Session, query: PageQuery, tz: ZoneInfo) -> Report:
    """Read the aggregates once and lay out every table of the page."""
    result = metrics(session, query.filters, tz)
    rows = staffing(result, query.target)
    forecast = forecast_hours(session, query.filters, query.forecast_date)
    report = Report(query, result, rows, forecast, Names.load(session))
    for table in (heatmap_table(result), durations_table(result), calls_table(result),
                  staffing_table(rows), throughput_table(result, "counters"),
                  throughput_table(result, "staff"), forecast_table(forecast)):
        report.tables[table.name] = table
    return report


def forecast_hours(session: Session, filters: Filters, day: date) -> list[BusyHour]:
    """Expected arrivals per hour of `day`, learned from the year before it (the filter's
    office and service apply, its dates do not)."""
    history = arrival_history(session, day - timedelta(days=FORECAST_HISTORY_DAYS),
                              day - timedelta(days=1), filters.office_id, filters.service_id)
    return usually_busy(learn(history), day) if history else []


# --- what-if -----------------------------------------------------------------------------------

def default_plan(rows: Iterable[StaffingRow]) -> dict[int, dict[int, int]]:
    """The counters that were open, rounded: the plan the what-if form starts from."""
    plan: dict[int, dict[int, int]] = {}
    for row in rows:
        if row.service_id is not None and row.service_id != NO_SERVICE:
            # A counter shared by k services counts 1/k here; the simulation models a counter
            # per service, so any share of one becomes a whole counter.
            counters = round(row.counters_open)
            plan.setdefault(row.service_id, {})[row.hour] = (
                max(1, counters) if row.counters_open >= 0.05 else counters)
    return plan


def parse_plan(query: Query, services: Iterable[int], hours: Iterable[int]) -> StaffPlan | None:
    """The plan from `plan-<service>-<hour>` parameters, or None if the form was not sent."""
    plan: dict[int, dict[int, int]] = {}
    sent = False
    for service in services:
        for hour in hours:
            name = f"plan-{service}-{hour}"
            text = (query.get(name) or "").strip()
            if not text:
                continue
            sent = True
            if not text.isdigit() or int(text) > MAX_PLAN_COUNTERS:
                raise _fail(name, _("Enter a whole number of counters from 0 to %(max)d.")
                            % {"max": MAX_PLAN_COUNTERS})
            plan.setdefault(service, {})[hour] = int(text)
    return plan if sent else None


def run_whatif(session: Session, report: Report, plan: StaffPlan,
               tz: ZoneInfo) -> SimulationResult:
    """Simulate the plan over the period's measured arrivals, routes and handling times."""
    inputs = history_input(session, report.query.filters, tz, source=report.metrics)
    return simulate(inputs, plan, days=SIMULATED_DAYS, seed=0,
                    target_seconds=report.query.target.seconds)


def real_waits(report: Report) -> dict[tuple[int | None, int], float]:
    """Measured mean waits per hour, for beside the predicted ones."""
    return measured_waits(report.metrics)


# --- events (the import format) ---------------------------------------------------------------

def events_table(session: Session, filters: Filters, tz: ZoneInfo, names: Names) -> Table:
    """The events of the visits issued in the filter's dates and office, and the counter
    events of those dates, in the import format (docs/analytics.md)."""
    from analytics.importer import COLUMNS

    table = Table("events", lazy_gettext("Events"),
                  [Column(name, name, Kind.TEXT) for name in COLUMNS])
    start = datetime.combine(filters.start, time(), tz)
    end = datetime.combine(filters.end + timedelta(days=1), time(), tz)
    visits = select(Visit.id).where(Visit.issued_at >= start, Visit.issued_at < end)  # type: ignore[arg-type]
    counters = and_(col(Event.kind).in_(COUNTER_KINDS), Event.at >= start, Event.at < end)  # type: ignore[arg-type]
    query = select(Event, Visit.ticket_number).join(
        Visit, col(Visit.id) == Event.visit_id, isouter=True).where(
        or_(col(Event.visit_id).in_(visits), counters))
    if filters.office_id is not None:
        query = query.where(Event.office_id == filters.office_id)
    for event, ticket in session.exec(query.order_by(col(Event.at), col(Event.id))):
        table.rows.append(_event_row(event, ticket, tz, names))
    return table


def _event_row(event: Event, ticket: str | None, tz: ZoneInfo, names: Names) -> list[Any]:
    """One event as a row of the import format."""
    services = (event.data or {}).get("service_ids") if event.kind in COUNTER_KINDS else None
    service_ids = [int(s) for s in services or []] or (
        [event.service_id] if event.service_id else [])
    codes = ";".join(names.services[s].code for s in service_ids if s in names.services)
    counter = names.counters.get(event.counter_id) if event.counter_id else None
    staff = names.staff.get(event.staff_user_id) if event.staff_user_id else None
    return [event.visit_id or "", ticket or "", names.offices[event.office_id].code, codes,
            event.step or "", event.kind.value, event.at.astimezone(tz).isoformat(),
            counter.number if counter else "", event.task_id or "",
            staff.username if staff else ""]


def table_for(name: str, session: Session, report: Report, tz: ZoneInfo,
              query: Query) -> Table:
    """Any table by name: those of the report, the what-if run and the events."""
    if name in report.tables:
        return report.tables[name]
    if name == "events":
        return events_table(session, report.query.filters, tz, report.names)
    if name == "whatif":
        plan = whatif_plan(report, query)
        return whatif_table(run_whatif(session, report, plan, tz), real_waits(report))
    raise _fail("table", _("There is no table of that name."))


def plan_hours(report: Report) -> list[int]:
    """The hours a plan covers: those with arrivals or open counters in the period."""
    return sorted({row.hour for row in report.staffing})


def plan_services(report: Report) -> list[int]:
    """The services a plan covers: those with staffing rows in the period."""
    return sorted({row.service_id for row in report.staffing
                   if row.service_id is not None and row.service_id != NO_SERVICE})


def whatif_plan(report: Report, query: Query) -> StaffPlan:
    """The plan sent with the query, or the counters that were open."""
    sent = parse_plan(query, plan_services(report), plan_hours(report))
    return sent if sent is not None else default_plan(report.staffing)
