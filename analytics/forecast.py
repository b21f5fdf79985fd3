"""Expected arrivals per hour for a coming date, and the "usually busy" profile residents see.

Model: the weekday × hour average over ordinary open days, times a month-end factor on the
last days of a month and a moving-season factor from mid-March to mid-April (when many people
move and register). Each factor is learned from history as actual ÷ expected-by-base on such
days, or falls back to a documented default when history holds too few of them.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from analytics.models import stage_hour
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _

#: The last this-many calendar days of a month count as month-end.
MONTH_END_DAYS = 3
#: The moving season, inclusive: (month, day) to (month, day).
MOVING_SEASON = ((3, 15), (4, 15))
#: Used when history has fewer than `MIN_SPECIAL_DAYS` days to learn a factor from.
DEFAULT_MONTH_END_FACTOR = 1.2
DEFAULT_MOVING_SEASON_FACTOR = 1.5
MIN_SPECIAL_DAYS = 3
#: Hour-level shares of the week's busiest hour that separate quiet, moderate and busy.
QUIET_BELOW = 0.4
BUSY_FROM = 0.75

#: local date → local hour → arrivals (only days the office was open)
History = Mapping[date, Mapping[int, int]]


def is_month_end(day: date) -> bool:
    """One of the last `MONTH_END_DAYS` calendar days of its month."""
    return day.day > calendar.monthrange(day.year, day.month)[1] - MONTH_END_DAYS


def in_moving_season(day: date) -> bool:
    """Between mid-March and mid-April (inclusive)."""
    start, end = MOVING_SEASON
    return start <= (day.month, day.day) <= end


@dataclass(frozen=True)
class ForecastModel:
    """What was learned: per weekday and hour the base, and the two factors."""

    base: dict[int, dict[int, float]] = field(default_factory=dict)
    month_end_factor: float = DEFAULT_MONTH_END_FACTOR
    moving_season_factor: float = DEFAULT_MOVING_SEASON_FACTOR
    month_end_learned: bool = False
    moving_season_learned: bool = False

    def factor(self, day: date) -> float:
        """The multiplier for a date (both apply on a month-end in the moving season)."""
        result = 1.0
        if is_month_end(day):
            result *= self.month_end_factor
        if in_moving_season(day):
            result *= self.moving_season_factor
        return result

    def expected(self, day: date) -> dict[int, float]:
        """Expected arrivals per local hour; empty for a weekday the office is never open."""
        factor = self.factor(day)
        return {hour: value * factor for hour, value in sorted(
            self.base.get(day.weekday(), {}).items())}


def learn(history: History) -> ForecastModel:
    """Base profile from ordinary days, factors from month-end and moving-season days."""
    ordinary = {d: hours for d, hours in history.items()
                if not is_month_end(d) and not in_moving_season(d)}
    base = _weekday_hour_means(ordinary)
    # A weekday seen only on special days still gets a profile, unadjusted.
    for weekday, profile in _weekday_hour_means(history).items():
        base.setdefault(weekday, profile)
    month_end = _factor(history, base, lambda d: is_month_end(d) and not in_moving_season(d))
    season = _factor(history, base, lambda d: in_moving_season(d) and not is_month_end(d))
    return ForecastModel(
        base, month_end or DEFAULT_MONTH_END_FACTOR, season or DEFAULT_MOVING_SEASON_FACTOR,
        month_end is not None, season is not None)


def _weekday_hour_means(history: History) -> dict[int, dict[int, float]]:
    """weekday → hour → mean arrivals over that weekday's open days."""
    totals: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    days: dict[int, int] = defaultdict(int)
    for day, hours in history.items():
        days[day.weekday()] += 1
        for hour, count in hours.items():
            totals[day.weekday()][hour] += count
    return {weekday: {hour: total / days[weekday] for hour, total in sorted(hours.items())}
            for weekday, hours in sorted(totals.items())}


def _factor(history: History, base: dict[int, dict[int, float]],
            chosen: Callable[[date], bool]) -> float | None:
    """Actual ÷ base-expected over the chosen days, or None with too few of them."""
    special = [d for d in history if chosen(d)]
    expected = sum(sum(base.get(d.weekday(), {}).values()) for d in special)
    if len(special) < MIN_SPECIAL_DAYS or expected <= 0:
        return None
    return sum(sum(history[d].values()) for d in special) / expected


class BusyLevel(StrEnum):
    """How busy an hour usually is, for the public crowding page (translated there)."""

    QUIET = "quiet"
    MODERATE = "moderate"
    BUSY = "busy"


@dataclass(frozen=True)
class BusyHour:
    """One hour of the "usually busy" profile."""

    hour: int
    expected: float
    level: BusyLevel


def usually_busy(model: ForecastModel, day: date) -> list[BusyHour]:
    """The day's hours, each rated against the busiest hour of an ordinary week."""
    peak = max((value for profile in model.base.values() for value in profile.values()),
               default=0.0)
    rows = []
    for hour, expected in model.expected(day).items():
        share = expected / peak if peak else 0.0
        level = (BusyLevel.QUIET if share < QUIET_BELOW
                 else BusyLevel.BUSY if share >= BUSY_FROM else BusyLevel.MODERATE)
        rows.append(BusyHour(hour, expected, level))
    return rows


def arrival_history(session: Session, start: date, end: date, office_id: int | None = None,
                    service_id: int | None = None) -> dict[date, dict[int, int]]:
    """Tickets issued (or, for one service, its queue entries) per local date and hour, from
    the rollups; days with nothing recorded are left out as closed."""
    if end < start:
        raise ValidationFailed(_("The end date is before the start date."))
    column = stage_hour.c.issued if service_id is None else stage_hour.c.arrivals
    query = (select(stage_hour.c.local_date, stage_hour.c.hour, func.sum(column))
             .where(stage_hour.c.local_date >= start, stage_hour.c.local_date <= end)
             .group_by(stage_hour.c.local_date, stage_hour.c.hour))
    if office_id is not None:
        query = query.where(stage_hour.c.office_id == office_id)
    if service_id is not None:
        query = query.where(stage_hour.c.service_id == service_id)
    history: dict[date, dict[int, int]] = defaultdict(dict)
    for local_date, hour, count in session.execute(query):
        if count:
            history[local_date][hour] = int(count)
    return dict(sorted(history.items()))


#: How far back `usually_busy_today` learns from.
USUALLY_BUSY_HISTORY_DAYS = 365


def usually_busy_today(session: Session, office_id: int, tz: ZoneInfo,
                       now: datetime) -> list[BusyHour]:
    """The public crowding page's "usually busy" profile: today's hours (local to `tz`), each
    rated against the office's busiest ordinary hour, learned from the tickets of the year
    before today. Empty when there is no history or the office is usually closed today."""
    today = now.astimezone(tz).date()
    history = arrival_history(session, today - timedelta(days=USUALLY_BUSY_HISTORY_DAYS),
                              today - timedelta(days=1), office_id)
    return usually_busy(learn(history), today) if history else []
