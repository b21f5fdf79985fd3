"""Weekly booking hours and the slots of a day.

Separate because it is pure arithmetic over local times: which slots a day has, whether a
given start is one of them, and the text form of the hours the admin page and CLI edit
("mon-fri 09:00-12:00 15 2": weekdays, time range, slot minutes, places per slot).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlmodel import Session, col, delete, select

from counter.appointments.models import BookableService, BookingHours, SlotTally
from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 240
MAX_CAPACITY = 50
MAX_RANGES = 50
_LINE = re.compile(r"^\s*(\w{3})(?:\s*-\s*(\w{3}))?\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})"
                   r"\s+(\d{1,3})\s+(\d{1,3})\s*$")


@dataclass(frozen=True)
class HoursRange:
    """One weekly range: a weekday, local start and end ("HH:MM"), slot length, places."""

    weekday: int
    start: str
    end: str
    slot_minutes: int
    capacity: int


@dataclass(frozen=True)
class Slot:
    """One bookable slot of a day: start and end (aware, UTC), places and places taken."""

    start: datetime
    end: datetime
    capacity: int
    taken: int

    @property
    def free(self) -> int:
        """Places left."""
        return max(0, self.capacity - self.taken)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hours(text: str) -> list[HoursRange]:
    """The ranges of a text, one a line ("mon-fri 09:00-12:00 15 2"); blank lines ignored.

    Raises ValidationFailed (field `hours`) naming the first bad line and what is wrong.
    """
    ranges: list[HoursRange] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line.lower())
        if match is None:
            _bad(number, _("write it as: mon-fri 09:00-12:00 15 2 (days, hours, slot "
                           "minutes, places)"))
        first, last, start, end, slot, places = match.groups()  # type: ignore[union-attr]
        days = [first] if last is None else [first, last]
        if any(day not in WEEKDAYS for day in days):
            _bad(number, _("days are mon, tue, wed, thu, fri, sat, sun"))
        begin, finish = WEEKDAYS.index(days[0]), WEEKDAYS.index(days[-1])
        if finish < begin:
            _bad(number, _("the first day must come before the last"))
        for weekday in range(begin, finish + 1):
            ranges.append(_checked(number, weekday, start, end, int(slot), int(places)))
    if len(ranges) > MAX_RANGES:
        _bad(0, _("at most %(max)d ranges") % {"max": MAX_RANGES})
    _check_overlaps(ranges)
    return ranges


def _bad(number: int, problem: str) -> None:
    """Refuse the hours: `number` is the bad line, or 0 when no single line is at fault."""
    message = (_("Booking hours, line %(line)d: %(problem)s.") % {"line": number,
                                                                   "problem": problem}
               if number else _("Booking hours: %(problem)s.") % {"problem": problem})
    raise ValidationFailed(message, hours=message)


def _checked(number: int, weekday: int, start: str, end: str, slot: int,
             places: int) -> HoursRange:
    try:
        begin, finish = _minutes(start), _minutes(end)
        time.fromisoformat(f"{int(start.split(':')[0]):02d}:{start.split(':')[1]}")
        if end != "24:00":  # a range may run to midnight
            time.fromisoformat(f"{int(end.split(':')[0]):02d}:{end.split(':')[1]}")
    except ValueError:
        _bad(number, _("times are HH:MM between 00:00 and 23:59"))
    if begin >= finish:
        _bad(number, _("the range must end after it starts"))
    if not MIN_SLOT_MINUTES <= slot <= MAX_SLOT_MINUTES or (finish - begin) % slot:
        _bad(number, _("slots are %(min)d to %(max)d minutes and must divide the range "
                       "exactly") % {"min": MIN_SLOT_MINUTES, "max": MAX_SLOT_MINUTES})
    if not 1 <= places <= MAX_CAPACITY:
        _bad(number, _("places per slot are 1 to %(max)d") % {"max": MAX_CAPACITY})
    return HoursRange(weekday, _hhmm(begin), _hhmm(finish), slot, places)


def _check_overlaps(ranges: list[HoursRange]) -> None:
    for weekday in range(7):
        day = sorted((r for r in ranges if r.weekday == weekday), key=lambda r: r.start)
        for before, after in itertools.pairwise(day):
            if _minutes(after.start) < _minutes(before.end):
                _bad(0, _("two ranges overlap on %(day)s") % {"day": WEEKDAYS[weekday]})


def format_hours(ranges: list[HoursRange]) -> str:
    """The text form of ranges, one line per weekday and range (what `parse_hours` reads)."""
    return "\n".join(f"{WEEKDAYS[r.weekday]} {r.start}-{r.end} {r.slot_minutes} {r.capacity}"
                     for r in sorted(ranges, key=lambda r: (r.weekday, r.start)))


def service_hours(session: Session, service_id: int) -> list[HoursRange]:
    """A service's weekly ranges, by weekday and start."""
    rows = session.exec(select(BookingHours).where(BookingHours.service_id == service_id)
                        .order_by(col(BookingHours.weekday), col(BookingHours.start)))
    return [HoursRange(r.weekday, r.start, r.end, r.slot_minutes, r.capacity) for r in rows]


def is_bookable(session: Session, service_id: int) -> bool:
    """Whether residents may book the service now."""
    row = session.get(BookableService, service_id)
    return row is not None and row.enabled


def set_bookable(session: Session, service_id: int, enabled: bool,
                 ranges: list[HoursRange]) -> None:
    """Turn booking of a service on or off and replace its weekly ranges (flushes only)."""
    row = session.get(BookableService, service_id)
    if row is None:
        row = BookableService(service_id=service_id, enabled=enabled)
    row.enabled = enabled
    session.add(row)
    session.exec(delete(BookingHours).where(col(BookingHours.service_id) == service_id))  # type: ignore[call-overload]
    session.add_all(BookingHours(service_id=service_id, weekday=r.weekday, start=r.start,
                                 end=r.end, slot_minutes=r.slot_minutes, capacity=r.capacity)
                    for r in ranges)
    session.flush()


def _starts(ranges: list[HoursRange], day: date, tz: tzinfo) -> list[tuple[datetime, HoursRange]]:
    found = []
    for r in ranges:
        if r.weekday != day.weekday():
            continue
        for minute in range(_minutes(r.start), _minutes(r.end), r.slot_minutes):
            local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
            found.append((local.astimezone(UTC), r))
    return sorted(found, key=lambda item: item[0])


def day_slots(session: Session, service_id: int, day: date, tz: tzinfo) -> list[Slot]:
    """Every slot of a local day, with places taken (full and past ones included)."""
    starts = _starts(service_hours(session, service_id), day, tz)
    if not starts:
        return []
    taken = dict(session.exec(
        select(SlotTally.slot_start, SlotTally.taken).where(
            SlotTally.service_id == service_id,
            col(SlotTally.slot_start) >= starts[0][0],
            col(SlotTally.slot_start) <= starts[-1][0])).all())
    return [Slot(start, start + timedelta(minutes=r.slot_minutes), r.capacity,
                 taken.get(start, 0)) for start, r in starts]


def find_slot(session: Session, service_id: int, start: datetime, tz: tzinfo) -> Slot | None:
    """The slot of a service starting exactly at `start` (aware), or None."""
    day = start.astimezone(tz).date()
    return next((slot for slot in day_slots(session, service_id, day, tz)
                 if slot.start == start), None)
