"""How an estimated wait is told to residents: an honest, rounded range, or plainly why there
is no estimate. The engine's number (`queue.estimated_wait`) is kept as it is; this only
decides what a phone, the crowding page or a ticket may claim from it.

- Nobody ahead and a counter open: "You are next."
- No counter open for the service: no estimate at all (the engine then assumes one opens).
- Under 10 minutes: "less than 10 minutes".
- Up to an hour: the estimate ±20 %, widened to multiples of 5 minutes ("about 15–25 minutes").
- Up to 3 hours: ±20 % in half hours ("about 1.5–2.5 hours").
- Beyond: "more than 3 hours" (a day's queue is not predictable to the minute).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from frontyard import i18n

#: The spread the range shows around the estimate: the engine's mean hides variation.
SPREAD = 0.2
SHORT_MINUTES = 10
LONGEST_MINUTES = 180


class WaitKind(StrEnum):
    """What can honestly be said about a wait."""

    NEXT = "next"
    NO_COUNTER = "no_counter"
    NONE = "none"  # nobody waiting (the crowding page)
    SHORT = "short"
    MINUTES = "minutes"
    HOURS = "hours"
    LONG = "long"


@dataclass(frozen=True)
class WaitRange:
    """A wait as it may be shown: its kind and, for ranges, the bounds (minutes or hours)."""

    kind: WaitKind
    low: float = 0
    high: float = 0


def wait_range(wait: timedelta, *, people_ahead: int, counter_open: bool) -> WaitRange:
    """The range a wait of `wait` (the engine's estimate) may be shown as."""
    if not counter_open:
        return WaitRange(WaitKind.NO_COUNTER)
    minutes = wait.total_seconds() / 60
    if people_ahead <= 0:
        return WaitRange(WaitKind.NEXT)
    if minutes < SHORT_MINUTES:
        return WaitRange(WaitKind.SHORT)
    if minutes <= 60:
        low = max(5, math.floor(minutes * (1 - SPREAD) / 5) * 5)
        return WaitRange(WaitKind.MINUTES, low, math.ceil(minutes * (1 + SPREAD) / 5) * 5)
    if minutes <= LONGEST_MINUTES:
        low = max(1.0, math.floor(minutes * (1 - SPREAD) / 30) / 2)
        return WaitRange(WaitKind.HOURS, low, math.ceil(minutes * (1 + SPREAD) / 30) / 2)
    return WaitRange(WaitKind.LONG)


def queue_wait_range(wait: timedelta, *, waiting: int, counters_open: int) -> WaitRange:
    """The range of a service's wait on the crowding page (someone joining the line now)."""
    if counters_open <= 0:
        return WaitRange(WaitKind.NO_COUNTER)
    if waiting <= 0:
        return WaitRange(WaitKind.NONE)
    return wait_range(wait, people_ahead=waiting, counter_open=True)


def wait_words(shown: WaitRange) -> str:
    """The range in words, in the current language."""
    if shown.kind == WaitKind.NEXT:
        return i18n.gettext("You are next.")
    if shown.kind == WaitKind.NO_COUNTER:
        return i18n.gettext("No counter is open for this now, so the wait cannot be estimated.")
    if shown.kind == WaitKind.NONE:
        return i18n.gettext("no wait")
    if shown.kind == WaitKind.SHORT:
        return i18n.gettext("less than 10 minutes")
    if shown.kind == WaitKind.LONG:
        return i18n.gettext("more than 3 hours")
    bounds = {"low": i18n.fmt_number(shown.low), "high": i18n.fmt_number(shown.high)}
    if shown.kind == WaitKind.MINUTES:
        return i18n.gettext("about %(low)s–%(high)s minutes") % bounds
    return i18n.gettext("about %(low)s–%(high)s hours") % bounds
