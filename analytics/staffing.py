"""Counters needed per hour and service by Erlang C, beside the counters that were open."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from analytics.erlang import agents_needed, offered_load, service_level
from analytics.metrics import Metrics
from analytics.models import NO_SERVICE
from frontyard.errors import ValidationFailed
from frontyard.i18n import gettext as _


@dataclass(frozen=True)
class ServiceTarget:
    """The goal: `level` of residents called within `seconds` (default 80 % within 15 min).

    `shrinkage` turns counters into staff (breaks, back office); `over_margin` is how many
    counters above the need count as over-staffed; hours with fewer than
    `min_handling_samples` handling times use the service's mean over the whole period."""

    level: float = 0.8
    seconds: float = 15 * 60
    shrinkage: float = 0.0
    over_margin: float = 1.0
    min_handling_samples: int = 5

    def __post_init__(self) -> None:
        """Reject targets Erlang C cannot work with."""
        if not 0 < self.level < 1 or self.seconds < 0 or not 0 <= self.shrinkage < 1:
            raise ValidationFailed(
                _("The service target needs a share between 0 and 1, a non-negative time and "
                  "a shrinkage from 0 up to 1."))
        if self.over_margin <= 0 or self.min_handling_samples < 1:
            raise ValidationFailed(_("The over-staffing margin and the sample minimum must be "
                                     "positive."))


class StaffingStatus(StrEnum):
    """How the counters open compare with the counters needed."""

    UNDER = "under"
    OK = "ok"
    OVER = "over"
    UNKNOWN = "unknown"  # arrivals but no handling time measured yet


@dataclass(frozen=True)
class StaffingRow:
    """One service (None: all services) in one local hour of the day, averaged over open days."""

    service_id: int | None
    hour: int
    arrivals_per_hour: float
    handling_seconds: float | None
    needed: int | None  # counters at the desk
    staff_needed: int | None  # with shrinkage
    counters_open: float
    status: StaffingStatus
    #: Predicted share called within the target with the counters that were open (whole ones).
    level_with_open: float | None


def staffing(metrics: Metrics, target: ServiceTarget | None = None) -> list[StaffingRow]:
    """Needed vs open counters for every service and hour with arrivals or open counters, then
    one row per hour for all services together (needs added up: each service is its own queue)."""
    target = target or ServiceTarget()
    days = metrics.open_days()
    if days == 0:
        return []
    totals: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (service_id, _weekday, hour), cell in metrics.cells.items():
        for name in ("arrivals", "handling_n", "handling_ms", "open_ms"):
            totals[(service_id, hour)][name] += getattr(cell, name)
    rows = [_row(metrics, target, service_id, hour, values, days)
            for (service_id, hour), values in sorted(totals.items())
            if service_id != NO_SERVICE and (values["arrivals"] or values["open_ms"])]
    return rows + _all_services(rows, totals, target, days)


def _row(metrics: Metrics, target: ServiceTarget, service_id: int, hour: int,
         values: dict[str, int], days: int) -> StaffingRow:
    """Erlang C for one service and hour."""
    rate = values["arrivals"] / days
    handling = _handling_seconds(metrics, target, service_id, values)
    counters_open = values["open_ms"] / 3_600_000 / days
    if rate == 0:
        return StaffingRow(service_id, hour, 0.0, handling, 0, 0, counters_open,
                           _status(0, counters_open, target), None)
    if handling is None:
        return StaffingRow(service_id, hour, rate, None, None, None, counters_open,
                           StaffingStatus.UNKNOWN, None)
    needed = agents_needed(rate, handling, target.level, target.seconds)
    staff = math.ceil(needed / (1 - target.shrinkage) - 1e-9)
    level = service_level(math.floor(counters_open + 1e-9), offered_load(rate, handling),
                          handling, target.seconds)
    return StaffingRow(service_id, hour, rate, handling, needed, staff, counters_open,
                       _status(needed, counters_open, target), level)


def _handling_seconds(metrics: Metrics, target: ServiceTarget, service_id: int,
                      values: dict[str, int]) -> float | None:
    """The hour's mean handling time, or the service's over the period when the hour has few."""
    if values["handling_n"] >= target.min_handling_samples:
        return values["handling_ms"] / values["handling_n"] / 1000.0
    overall = metrics.durations.get("handling", {}).get((service_id, None))
    return overall.mean if overall is not None and overall.mean else None


def _status(needed: int, counters_open: float, target: ServiceTarget) -> StaffingStatus:
    """Under when fewer counters were open than needed, over when `over_margin` more."""
    if counters_open < needed - 1e-9:
        return StaffingStatus.UNDER
    if counters_open >= needed + target.over_margin - 1e-9:
        return StaffingStatus.OVER
    return StaffingStatus.OK


def _all_services(rows: list[StaffingRow], totals: dict[tuple[int, int], dict[str, int]],
                  target: ServiceTarget, days: int) -> list[StaffingRow]:
    """Per hour, all services: needs and arrivals added up; every open counter counted."""
    by_hour: dict[int, list[StaffingRow]] = defaultdict(list)
    for row in rows:
        by_hour[row.hour].append(row)
    open_ms: dict[int, int] = defaultdict(int)
    for (_service, hour), values in totals.items():
        open_ms[hour] += values["open_ms"]
    result = []
    for hour in sorted(set(by_hour) | {h for h, ms in open_ms.items() if ms}):
        parts = by_hour.get(hour, [])
        counters_open = open_ms[hour] / 3_600_000 / days
        if any(part.needed is None for part in parts):
            needed = staff = None
            status = StaffingStatus.UNKNOWN
        else:
            needed = sum(part.needed or 0 for part in parts)
            staff = sum(part.staff_needed or 0 for part in parts)
            status = _status(needed, counters_open, target)
        result.append(StaffingRow(None, hour, sum(part.arrivals_per_hour for part in parts),
                                  None, needed, staff, counters_open, status, None))
    return result
