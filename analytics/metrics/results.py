"""The metric result types (`Filters` in, `Metrics` out, and the records inside it), and how
their breakdowns are keyed and ordered.

Separate from the computations: `metrics` (rollups) and `metrics_from_log` (event log) build
the same records, and staffing, the simulation and the report read them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analytics.models import BUCKET_EDGES_SECONDS
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
    #: Counts per fixed duration bucket (`analytics.models.BUCKET_EDGES_SECONDS`), for shares.
    histogram: tuple[int, ...] = field(default=(), compare=False, repr=False)

    @property
    def mean(self) -> float | None:
        """Mean in seconds, or None with no measurements."""
        return self.total_ms / self.count / 1000.0 if self.count else None

    def share_within(self, seconds: float) -> float | None:
        """The measured share at most `seconds` long, read from the buckets (exact at a bucket
        edge such as 15 minutes, interpolated inside one); None without a histogram."""
        total = sum(self.histogram)
        if not total:
            return None
        within = 0.0
        edges = (*BUCKET_EDGES_SECONDS, math.inf)
        for index, count in enumerate(self.histogram):
            lower, upper = edges[index], edges[index + 1]
            if upper <= seconds:
                within += count
            elif lower < seconds:
                within += count * (seconds - lower) / (upper - lower)
        return within / total


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


def breakdowns(metric: str, service_id: int, step: str) -> list[Breakdown]:
    """The keys one row adds to: its step, its service and the total (stay has no steps)."""
    keys: list[Breakdown] = [(service_id, None), (None, None)]
    if metric != "stay":
        keys.insert(0, (service_id, step))
    return keys


def breakdown_order(item: tuple[Breakdown, Any]) -> tuple[int, int, str, int]:
    """Totals first, then per service, each service's steps after it."""
    service, step = item[0]
    return (service is not None, service or 0, step or "", step is not None)


def throughputs(totals: Mapping[int, Counter[str]]) -> dict[int, Throughput]:
    """Counters of work as Throughput records."""
    return {key: Throughput(**counts) for key, counts in sorted(totals.items())
            if any(counts.values())}
