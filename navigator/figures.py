"""The figures a resident's result shows beside the procedures: the wait now per service (the
crowding page's public figures), how long a visit to each counter usually takes (analytics'
measured handling time), and the busiest and a quieter time to come (the forecast).

Everything here only reads. The analytics part changes once a day at most (history up to
yesterday), so it is kept for a while per office in `FiguresCache` rather than recomputed for
every resident's page; the wait now is read fresh each time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from analytics.metrics import Filters, metrics
from counter import queue
from counter.waits import WaitRange, queue_wait_range
from frontyard.exceptions import DomainError
from navigator.best_time import BestTime, best_time, read_profiles

Kept = TypeVar("Kept")

#: The period a counter's usual handling time is measured over (days before today).
HANDLING_DAYS = 90
#: Measurements needed before a service's usual time is told (fewer: the catalog's estimate).
MIN_HANDLED = 10
#: How long the analytics figures of an office are kept before being read again.
CACHE_SECONDS = 15 * 60


@dataclass(frozen=True)
class WaitNow:
    """One service's queue now: how many wait and the range a resident may be told."""

    waiting: int
    shown: WaitRange


def waits_now(session: Session, office_id: int, now: datetime) -> dict[str, WaitNow]:
    """Each active service's wait now, by service code (what the crowding page shows)."""
    return {row.service.code: WaitNow(row.waiting, queue_wait_range(
        row.estimated_wait, waiting=row.waiting, counters_open=row.counters_open))
        for row in queue.queue_overview(session, office_id, now)}


def handling_minutes(session: Session, office_id: int, service_ids: dict[int, str],
                     today: date, tz: ZoneInfo) -> dict[str, int]:
    """The median handling time of each service with enough measurements, in whole minutes
    (rounded up), by service code; empty when analytics cannot tell."""
    filters = Filters(start=today - timedelta(days=HANDLING_DAYS),
                      end=today - timedelta(days=1), office_id=office_id)
    try:
        handling = metrics(session, filters, tz).durations.get("handling", {})
    except DomainError:  # rollups kept in another time zone: say nothing rather than guess
        return {}
    minutes = {}
    for service_id, code in service_ids.items():
        stats = handling.get((service_id, None))
        if stats is not None and stats.count >= MIN_HANDLED and stats.median is not None:
            minutes[code] = max(1, math.ceil(stats.median / 60))
    return minutes


class FiguresCache:
    """Analytics figures per office and day, kept CACHE_SECONDS (one per app, thread-safe)."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._kept: dict[tuple[int, date, frozenset[int]], tuple[float, object]] = {}

    def get(self, key: tuple[int, date, frozenset[int]], compute: Callable[[], Kept]) -> Kept:
        """The value kept for `key`, or `compute()` kept from now on."""
        moment = time.monotonic()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and moment - kept[0] < self.seconds:
                return kept[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            if len(self._kept) > 1000:  # many offices × service sets: start afresh
                self._kept.clear()
            self._kept[key] = (moment, value)
        return value


@dataclass(frozen=True)
class VisitFigures:
    """Everything the result shows about waiting and timing, for the services of a visit."""

    waits: dict[str, WaitNow]
    handling_minutes: dict[str, int]
    best: BestTime


def visit_figures(session: Session, cache: FiguresCache, *, office_id: int,
                  services: Iterable[tuple[int, str]], now: datetime,
                  tz: ZoneInfo) -> VisitFigures:
    """The figures for a visit to `services` ((id, code) pairs) of an office, now."""
    by_id = dict(services)
    today = now.astimezone(tz).date()
    key = (office_id, today, frozenset(by_id))

    def compute() -> tuple[dict[str, int], BestTime]:
        return (handling_minutes(session, office_id, by_id, today, tz),
                best_time(read_profiles(session, office_id, by_id, today)))

    minutes, best = cache.get(key, compute)
    waits = waits_now(session, office_id, now)
    return VisitFigures({code: waits[code] for code in by_id.values() if code in waits},
                        minutes, best)
