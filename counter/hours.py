"""Opening hours, closures and ticket cut-offs: is an office or a service open at an instant,
and when does it next open.

The tables hold what the admin sets; `Schedule` is their plain, database-free form and every
answer (`day_intervals`, `status`) is a pure function of a schedule, an instant and the city's
time zone, so tests choose the clock.

The rules, in order:
- A day inside one of the city's closures (e.g. 12/29–1/3) is closed.
- An office with no weekly hours at all is open always (an upgraded installation keeps working);
  once hours are set, they rule, and national holidays (`jpholiday`) are closed unless the
  office's switch says otherwise.
- A day's hours are its weekday's every-week ranges plus the ranges of the rules for that
  weekday's occurrence in the month ("first and third Saturday 09:00–12:00").
- A service is open when its office is and, if it has ranges of its own, within them.
- Tickets for a service stop `cutoff` minutes before each of its closing times (before the lunch
  gap too); with no cut-off, until closing.
Times are minutes from local midnight (a range ends at 24:00 at the latest: none crosses midnight).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

import jpholiday
from sqlmodel import Field, Session, SQLModel, col, select

from counter.models import Service
from frontyard.errors import Conflict
from frontyard.i18n import fmt_when, translate_map
from frontyard.i18n import gettext as _

DAY_MINUTES = 24 * 60
#: How far ahead `status` looks for the next opening (a year-end closure, a long holiday).
HORIZON_DAYS = 400
#: The most minutes a ticket cut-off may be (a whole day).
MAX_CUTOFF = DAY_MINUTES
#: Occurrences of a weekday in a month ("the 1st Saturday" … "the 5th").
MAX_NTH = 5

Interval = tuple[int, int]


# --- tables -----------------------------------------------------------------------------------


class OpeningRange(SQLModel, table=True):
    """One range of opening hours of an office (no service) or of one of its services."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    #: None: the office's hours; else this service's own hours.
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    #: 0 = Monday … 6 = Sunday.
    weekday: int
    #: 0: every week; 1–5: only that occurrence of the weekday in the month.
    nth: int = 0
    #: Minutes from local midnight; `closes` is at most 24:00.
    opens: int
    closes: int


class OfficeCalendar(SQLModel, table=True):
    """An office's calendar switches (no row: the defaults)."""

    office_id: int = Field(foreign_key="office.id", primary_key=True)
    closed_on_national_holidays: bool = True


class Closure(SQLModel, table=True):
    """Days the city closes an office, e.g. the year-end holidays 12/29–1/3 (both included)."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    first_day: date
    last_day: date
    name: str = Field(default="", max_length=100)


class ServiceCutoff(SQLModel, table=True):
    """Tickets for a service stop this many minutes before each of its closing times."""

    service_id: int = Field(foreign_key="service.id", primary_key=True)
    minutes: int = 0


# --- the plain schedule -----------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Rule:
    """Opening hours on a weekday (every week, or its `nth` occurrence in the month)."""

    weekday: int
    nth: int
    opens: int
    closes: int


@dataclass(frozen=True)
class ClosedDays:
    """A closure: every day from `first` to `last`, both included."""

    first: date
    last: date
    name: str = ""


def national_holiday(day: date) -> bool:
    """Whether `day` is a Japanese national holiday (substitute holidays included)."""
    return bool(jpholiday.is_holiday(day))


@dataclass(frozen=True)
class Schedule:
    """Everything that decides when an office (or one of its services) is open."""

    office_rules: tuple[Rule, ...] = ()
    closures: tuple[ClosedDays, ...] = ()
    closed_on_holidays: bool = True
    #: The service's own ranges (none: the office's hours).
    service_rules: tuple[Rule, ...] = ()
    #: Minutes before each closing time when tickets stop.
    cutoff: int = 0
    holiday: Callable[[date], bool] = field(default=national_holiday, compare=False)

    @property
    def has_hours(self) -> bool:
        """Whether any weekly hours are set (else: open always, outside closures)."""
        return bool(self.office_rules or self.service_rules)


@dataclass(frozen=True)
class Status:
    """Whether something is open at an instant, and when that changes."""

    open: bool
    #: When closed: when it next opens (None: not within HORIZON_DAYS).
    next_opening: datetime | None = None
    #: When open: when this opening ends (None: open always).
    closes_at: datetime | None = None


ALWAYS_OPEN = Status(open=True)


def occurrence(day: date) -> int:
    """Which occurrence of its weekday in the month `day` is (1 for the first Saturday…)."""
    return (day.day - 1) // 7 + 1


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted intervals, overlapping or touching ones joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    """The times within both lists of intervals."""
    return merge((max(a, c), min(b, d)) for a, b in first for c, d in second
                 if max(a, c) < min(b, d))


def rules_on(rules: Iterable[Rule], day: date) -> list[Interval]:
    """The ranges the rules give `day` (its weekday every week, and its occurrence)."""
    nth = occurrence(day)
    return merge((rule.opens, rule.closes) for rule in rules
                 if rule.weekday == day.weekday() and rule.nth in (0, nth))


def closure_on(schedule: Schedule, day: date) -> ClosedDays | None:
    """The closure `day` falls in, if any."""
    return next((closure for closure in schedule.closures
                 if closure.first <= day <= closure.last), None)


def day_intervals(schedule: Schedule, day: date) -> list[Interval]:
    """When it is open on a local day, as minutes from midnight."""
    if closure_on(schedule, day) is not None:
        return []
    if not schedule.has_hours:
        return [(0, DAY_MINUTES)]
    if schedule.closed_on_holidays and schedule.holiday(day):
        return []
    hours = rules_on(schedule.office_rules, day) if schedule.office_rules else [(0, DAY_MINUTES)]
    if schedule.service_rules:
        hours = intersect(hours, rules_on(schedule.service_rules, day))
    return hours


def ticket_intervals(schedule: Schedule, day: date) -> list[Interval]:
    """When tickets are issued on a local day: the opening hours less the cut-off."""
    cutoff = schedule.cutoff if schedule.has_hours else 0  # open always: no closing time
    return [(start, end - cutoff) for start, end in day_intervals(schedule, day)
            if end - cutoff > start]


def _at(day: date, minute: int, tz: tzinfo) -> datetime:
    """The instant of `minute` after local midnight of `day` (24:00 is the next midnight)."""
    return datetime.combine(day + timedelta(days=minute // DAY_MINUTES),
                            time(minute % DAY_MINUTES // 60, minute % 60), tzinfo=tz)


def status(schedule: Schedule, at: datetime, tz: tzinfo, *, tickets: bool = False) -> Status:
    """Whether it is open at `at` (or, with `tickets`, whether tickets are issued), with the
    next opening when closed and the end of this opening when open."""
    hours = ticket_intervals if tickets else day_intervals
    local = at.astimezone(tz)
    today, minute = local.date(), local.hour * 60 + local.minute
    if not schedule.has_hours and not schedule.closures:
        return ALWAYS_OPEN
    for offset in range(HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        for start, end in hours(schedule, day):
            if offset == 0 and end <= minute:
                continue
            if offset == 0 and start <= minute:
                return Status(open=True, closes_at=_closing(schedule, hours, day, end, tz))
            return Status(open=False, next_opening=_at(day, start, tz))
    return Status(open=False)


def _closing(schedule: Schedule, hours: Callable[[Schedule, date], list[Interval]], day: date,
             end: int, tz: tzinfo) -> datetime | None:
    """When an opening that reaches `end` on `day` ends (open through midnight continues)."""
    for _offset in range(HORIZON_DAYS):
        if end < DAY_MINUTES:
            return _at(day, end, tz)
        day += timedelta(days=1)
        following = hours(schedule, day)
        if not following or following[0][0] > 0:
            return _at(day, 0, tz)
        end = following[0][1]
    return None


# --- reading the tables -----------------------------------------------------------------------


def _rules(session: Session, office_id: int, service_id: int | None) -> tuple[Rule, ...]:
    rows = session.exec(select(OpeningRange).where(
        OpeningRange.office_id == office_id,
        OpeningRange.service_id == service_id if service_id is not None
        else col(OpeningRange.service_id).is_(None)))
    return tuple(sorted(Rule(row.weekday, row.nth, row.opens, row.closes) for row in rows))


def calendar(session: Session, office_id: int) -> OfficeCalendar:
    """The office's calendar switches (the defaults when none is stored)."""
    return session.get(OfficeCalendar, office_id) or OfficeCalendar(office_id=office_id)


def closures(session: Session, office_id: int) -> list[Closure]:
    """The office's closures, by first day."""
    return list(session.exec(select(Closure).where(Closure.office_id == office_id)
                             .order_by(col(Closure.first_day), col(Closure.id))))


def cutoff_minutes(session: Session, service_id: int) -> int:
    """A service's ticket cut-off in minutes (0: until closing)."""
    row = session.get(ServiceCutoff, service_id)
    return row.minutes if row else 0


def office_schedule(session: Session, office_id: int) -> Schedule:
    """The office's schedule."""
    return Schedule(
        office_rules=_rules(session, office_id, None),
        closures=tuple(ClosedDays(row.first_day, row.last_day, row.name)
                       for row in closures(session, office_id)),
        closed_on_holidays=calendar(session, office_id).closed_on_national_holidays)


def service_schedule(session: Session, service: Service,
                     office: Schedule | None = None) -> Schedule:
    """A service's schedule: its office's, narrowed by its own ranges, with its cut-off."""
    base = office or office_schedule(session, service.office_id)
    return Schedule(office_rules=base.office_rules, closures=base.closures,
                    closed_on_holidays=base.closed_on_holidays,
                    service_rules=_rules(session, service.office_id, service.id),
                    cutoff=cutoff_minutes(session, service.id),  # type: ignore[arg-type]
                    holiday=base.holiday)


# --- refusing tickets -------------------------------------------------------------------------


class OutsideHours(Conflict):
    """No ticket now: the office is closed, or a service is closed or past its cut-off."""

    def __init__(self, *, service: Service | None, next_opening: datetime | None,
                 tz: tzinfo) -> None:
        self.service, self.next_opening, self.tz = service, next_opening, tz
        super().__init__(self.explain(), next_opening=next_opening.isoformat()
                         if next_opening else "")

    def explain(self) -> str:
        """The refusal in the current language, with the next opening time."""
        when = fmt_when(self.next_opening, self.tz) if self.next_opening else None  # type: ignore[arg-type]
        if self.service is None:
            if when:
                return _("The office is closed now. It opens again on %(when)s.") % {
                    "when": when}
            return _("The office is closed now.")
        name = translate_map(self.service.names) or self.service.code
        if when:
            return _("%(service)s is not issuing tickets now. Tickets again from %(when)s.") % {
                "service": name, "when": when}
        return _("%(service)s is not issuing tickets now.") % {"service": name}


def check_tickets(session: Session, office_id: int, services: Sequence[Service], now: datetime,
                  tz: tzinfo) -> None:
    """Raise OutsideHours unless the office is open and every service issues tickets now."""
    office = office_schedule(session, office_id)
    office_now = status(office, now, tz)
    if not office_now.open:
        raise OutsideHours(service=None, next_opening=office_now.next_opening, tz=tz)
    for service in services:
        service_now = status(service_schedule(session, service, office), now, tz, tickets=True)
        if not service_now.open:
            raise OutsideHours(service=service, next_opening=service_now.next_opening, tz=tz)


def ticket_status(session: Session, services: Sequence[Service], now: datetime,
                  tz: tzinfo) -> dict[int, Status]:
    """Whether each service issues tickets now (by service id), for screens."""
    offices: dict[int, Schedule] = {}
    result = {}
    for service in services:
        if service.office_id not in offices:
            offices[service.office_id] = office_schedule(session, service.office_id)
        result[service.id] = status(service_schedule(session, service, offices[service.office_id]),
                                    now, tz, tickets=True)
    return result  # type: ignore[return-value]


def office_status(session: Session, office_id: int, now: datetime, tz: tzinfo) -> Status:
    """Whether the office is open now, and when that changes."""
    return status(office_schedule(session, office_id), now, tz)
