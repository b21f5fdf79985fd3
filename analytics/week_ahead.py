"""Counters needed in the coming week, per day, service and hour: Erlang C on the forecast's
expected arrivals of each service and its measured mean handling time.

The staffing table answers "how many counters did each hour need on average"; this answers
"how many will each hour of next Monday need", so a busier weekday is not averaged away.
Bookings of the week add their booked load (analytics/booked_load.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from analytics.booked_load import (
    Load,
    booked_tickets,
    coming_bookings,
    show_rates,
    walk_in_history,
)
from analytics.erlang import agents_needed
from analytics.forecast import ForecastModel, History, learn
from analytics.metrics import Metrics
from analytics.models import NO_SERVICE, stage_hour
from analytics.staffing import ServiceTarget

#: How many days the week ahead covers, and how much history each service's forecast learns.
WEEK_DAYS = 7
HISTORY_DAYS = 365


@dataclass(frozen=True)
class HourNeed:
    """One service in one hour of a coming day: expected arrivals and the counters they need."""

    day: date
    service_id: int
    hour: int
    expected: float
    handling_seconds: float | None
    needed: int | None  # None: no handling time measured for the service yet
    #: Of `expected`, the bookings of the hour times the service's show rate.
    booked: float = 0.0


def week_ahead(models: Mapping[int, ForecastModel], handling: Mapping[int, float | None],
               first_day: date, target: ServiceTarget,
               days: int = WEEK_DAYS, booked: Load | None = None) -> list[HourNeed]:
    """Per day from `first_day`, per service (its forecast model) and hour, the counters needed
    for the target; days a service is usually closed have no rows unless it has bookings.
    `booked` (service → day → hour → expected booked arrivals) adds to the forecast."""
    booked = booked or {}
    needs = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for service_id in sorted(set(models) | set(booked)):
            model = models.get(service_id)
            seconds = handling.get(service_id)
            forecast = model.expected(day) if model is not None else {}
            extra = booked.get(service_id, {}).get(day, {})
            for hour in sorted(set(forecast) | set(extra)):
                expected = forecast.get(hour, 0.0) + extra.get(hour, 0.0)
                needed = (0 if expected <= 0 else None if not seconds else agents_needed(
                    expected, seconds, target.level, target.seconds, target.shrinkage))
                needs.append(HourNeed(day, service_id, hour, expected, seconds, needed,
                                      extra.get(hour, 0.0)))
    return needs


def service_histories(session: Session, start: date, end: date, office_id: int | None = None,
                      service_id: int | None = None) -> dict[int, History]:
    """Queue entries per service, local date and hour, from the rollups. Every day the office
    was open counts for every service (as no arrivals where it had none), so a service's
    quiet days lower its average instead of being left out."""
    query = (select(stage_hour.c.service_id, stage_hour.c.local_date, stage_hour.c.hour,
                    func.sum(stage_hour.c.arrivals), func.sum(stage_hour.c.issued))
             .where(stage_hour.c.local_date >= start, stage_hour.c.local_date <= end)
             .group_by(stage_hour.c.service_id, stage_hour.c.local_date, stage_hour.c.hour))
    if office_id is not None:
        query = query.where(stage_hour.c.office_id == office_id)
    open_days: set[date] = set()
    arrivals: dict[int, dict[date, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for service, local_date, hour, count, issued in session.execute(query):
        if count or issued:
            open_days.add(local_date)
        if count and service != NO_SERVICE and service_id in (None, service):
            arrivals[service][local_date][hour] = int(count)
    return {service: {day: by_day.get(day, {}) for day in sorted(open_days)}
            for service, by_day in sorted(arrivals.items())}


def coming_week(session: Session, metrics: Metrics, first_day: date,
                target: ServiceTarget, tz: ZoneInfo) -> list[HourNeed]:
    """The week from `first_day` for the metrics' office and service: each service's walk-in
    forecast learned from the year before (its booked tickets taken out), plus the week's
    bookings times the service's show rate, and its mean handling time measured in the
    metrics' period."""
    filters = metrics.filters
    first, last = first_day - timedelta(days=HISTORY_DAYS), first_day - timedelta(days=1)
    where = {"office_id": filters.office_id, "service_id": filters.service_id}
    histories = service_histories(session, first, last, **where)
    past_booked = booked_tickets(session, first, last, tz, **where)
    rates = show_rates(session, first, last, tz, **where)
    coming = coming_bookings(session, first_day, WEEK_DAYS, tz, rates, **where)
    handling_stats = metrics.durations.get("handling", {})
    handling = {service: (stats.mean if (stats := handling_stats.get((service, None))) else None)
                for service in set(histories) | set(coming)}
    return week_ahead({service: learn(walk_in_history(history, past_booked.get(service, {})))
                       for service, history in histories.items()},
                      handling, first_day, target, booked=coming)
