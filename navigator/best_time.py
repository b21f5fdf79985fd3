"""When to come: the usual busiest time and a quieter one, from the analytics forecast.

The forecast (`analytics.forecast.learn`) gives, per service, the mean arrivals per weekday and
hour of an ordinary week. For a resident's procedures the services' profiles are added up;
the busiest hour is the peak of that sum, widened to the neighbouring hours nearly as busy; the
quieter time is the least busy two-hour window of the weekdays that are below the week's
average, said only when it is clearly quieter than usual. With no history nothing is said:
better silence than a guess.

Pure computation over profiles, plus `read_profiles` to learn them from the rollups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from analytics.forecast import BUSY_FROM, learn
from analytics.week_ahead import HISTORY_DAYS, service_histories

#: weekday (Monday = 0) → local hour → mean arrivals
Profile = Mapping[int, Mapping[int, float]]
#: A quieter window is worth suggesting only when at most this share of an average hour.
CLEARLY_QUIETER = 0.8
#: Hours in the suggested quieter window.
WINDOW_HOURS = 2
#: Open days of history needed before anything is said about busy times.
MIN_OPEN_DAYS = 10


@dataclass(frozen=True)
class Span:
    """Some weekdays (Monday = 0) and the hours `start` to `end` (exclusive) on them."""

    weekdays: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class BestTime:
    """What the navigator tells about crowding: both are None when history says nothing."""

    busiest: Span | None
    quieter: Span | None


def combined(profiles: Iterable[Profile]) -> dict[int, dict[int, float]]:
    """The sum of several services' profiles (a visit to several counters)."""
    total: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for profile in profiles:
        for weekday, hours in profile.items():
            for hour, value in hours.items():
                total[weekday][hour] += value
    return {weekday: dict(sorted(hours.items())) for weekday, hours in sorted(total.items())}


def busiest(profile: Profile) -> Span | None:
    """The usual peak hour, with the neighbouring hours of its day nearly as busy."""
    cells = [(value, weekday, hour) for weekday, hours in profile.items()
             for hour, value in hours.items() if value > 0]
    if not cells:
        return None
    peak, weekday, hour = max(cells, key=lambda cell: (cell[0], -cell[1], -cell[2]))
    day = profile[weekday]
    start = end = hour
    while day.get(start - 1, 0) >= BUSY_FROM * peak:
        start -= 1
    while day.get(end + 1, 0) >= BUSY_FROM * peak:
        end += 1
    return Span((weekday,), start, end + 1)


def quieter(profile: Profile) -> Span | None:
    """The least busy window on the weekdays below the week's average, when it is clearly
    quieter than an average open hour; None otherwise (a flat week has no better time)."""
    days = {weekday: hours for weekday, hours in profile.items() if sum(hours.values()) > 0}
    open_hours = sorted({hour for hours in days.values() for hour in hours})
    if len(days) < 2 or len(open_hours) < WINDOW_HOURS + 1:
        return None
    totals = {weekday: sum(hours.values()) for weekday, hours in days.items()}
    average_day = sum(totals.values()) / len(totals)
    quiet_days = tuple(sorted(weekday for weekday, total in totals.items()
                              if total <= average_day))
    average_hour = sum(totals.values()) / (len(days) * len(open_hours))
    windows = [hour for hour in open_hours
               if all(hour + step in open_hours for step in range(WINDOW_HOURS))]
    if not windows:
        return None

    def load(start: int) -> float:
        return sum(days[weekday].get(start + step, 0.0) for weekday in quiet_days
                   for step in range(WINDOW_HOURS)) / (len(quiet_days) * WINDOW_HOURS)

    start = min(windows, key=lambda hour: (load(hour), hour))
    if load(start) > CLEARLY_QUIETER * average_hour:
        return None
    return Span(quiet_days, start, start + WINDOW_HOURS)


def best_time(profiles: Iterable[Profile]) -> BestTime:
    """The busiest and a quieter time for a visit to the services of `profiles`."""
    total = combined(profiles)
    return BestTime(busiest(total), quieter(total))


def read_profiles(session: Session, office_id: int, service_ids: Iterable[int],
                  today: date) -> list[Profile]:
    """Each service's ordinary-week profile, learned from the year before `today`; empty when
    the office has too little history to tell (fewer than MIN_OPEN_DAYS open days)."""
    wanted = set(service_ids)
    histories = service_histories(session, today - timedelta(days=HISTORY_DAYS),
                                  today - timedelta(days=1), office_id)
    open_days = {day for history in histories.values() for day in history}
    if len(open_days) < MIN_OPEN_DAYS:
        return []
    return [learn(history).base for service_id, history in histories.items()
            if service_id in wanted]
