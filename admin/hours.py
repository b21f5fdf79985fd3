"""Editing opening hours, the holiday switch, closures and ticket cut-offs, audited: one set of
rules for the admin's pages, the `frontyard hours`/`closure` commands and the configuration file.

Hours are written as text everywhere: a rule key (`mon` … `sun` for every week, `sat#1` for the
first Saturday of the month) and its ranges, `08:30-12:00, 13:00-17:15` (empty: none). Changes
replace the whole set at once, after every range has been checked: nothing is half-written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from itertools import pairwise

import jpholiday
from sqlmodel import Session, col, delete, select

from admin import checks
from counter import hours
from counter.models import Office, Service
from frontyard import audit
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The most ranges one rule may have (a lunch gap is two).
MAX_RANGES = 6
MAX_CLOSURE_NAME = 100
#: The closures an office may have (a decade of year-ends and city days).
MAX_CLOSURES = 200
#: Closures may name days in this window (a typo of year 20266 is refused).
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
TIME = re.compile(r"(\d{1,2}):(\d{2})")
DASH = re.compile(r"\s*[-–〜~]\s*")

Hours = dict[str, list[hours.Interval]]


def rule_key(weekday: int, nth: int) -> str:
    """`mon` for every Monday, `sat#1` for the first Saturday of the month."""
    return WEEKDAY_KEYS[weekday] + (f"#{nth}" if nth else "")


def parse_key(key: str) -> tuple[int, int] | None:
    """(weekday, nth) of a rule key, or None when it is not one."""
    day, _hash, nth = key.strip().lower().partition("#")
    if day not in WEEKDAY_KEYS or (_hash and nth not in {str(n) for n in range(1, 6)}):
        return None
    return WEEKDAY_KEYS.index(day), int(nth or 0)


def fmt_minute(minute: int) -> str:
    """`08:30` (24:00 for the end of the day)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def fmt_ranges(intervals: list[hours.Interval]) -> str:
    """`08:30-12:00, 13:00-17:15`."""
    return ", ".join(f"{fmt_minute(start)}-{fmt_minute(end)}" for start, end in intervals)


def _minute(text: str) -> int | None:
    match = TIME.fullmatch(text.strip())
    if not match or int(match[2]) > 59:
        return None
    minute = int(match[1]) * 60 + int(match[2])
    return minute if minute <= hours.DAY_MINUTES else None


def parse_ranges(text: str) -> list[hours.Interval]:
    """The ranges of one rule; ValueError with a translated message for a bad one."""
    ranges: list[hours.Interval] = []
    for part in (piece for piece in re.split(r"[,、，]+", text.strip()) if piece.strip()):
        bounds = DASH.split(part.strip().rstrip(","))
        opens, closes = (_minute(bounds[0]), _minute(bounds[1])) if len(bounds) == 2 else (
            None, None)
        if opens is None or closes is None:
            raise ValueError(_("Write each range as HH:MM-HH:MM between 00:00 and 24:00, "
                               "e.g. 08:30-12:00, 13:00-17:15."))
        if closes <= opens:
            raise ValueError(_("%(range)s ends before it starts.") % {"range": part.strip()})
        ranges.append((opens, closes))
    if len(ranges) > MAX_RANGES:
        raise ValueError(_("At most %(max)d ranges a day.") % {"max": MAX_RANGES})
    ordered = sorted(ranges)
    if any(later[0] < earlier[1] for earlier, later in pairwise(ordered)):
        raise ValueError(_("The ranges overlap."))
    return ordered


def validate_hours(texts: Mapping[str, str]) -> tuple[Hours, checks.Problems]:
    """Every rule's ranges, and the problems keyed by rule key."""
    clean: Hours = {}
    problems: checks.Problems = {}
    for key, text in texts.items():
        if parse_key(key) is None:
            problems[key[:16]] = _("Unknown day: %(key)s (use mon … sun, or sat#1 for the first "
                                   "Saturday of the month).") % {"key": key[:16]}
            continue
        try:
            ranges = parse_ranges(str(text))
        except ValueError as error:
            problems[key] = str(error)
            continue
        if ranges:
            clean[key.strip().lower()] = ranges
    return clean, problems


# --- reading ----------------------------------------------------------------------------------


def hours_of(session: Session, office: Office, service: Service | None = None) -> Hours:
    """The office's (or the service's own) hours by rule key, weekdays first."""
    rows = session.exec(select(hours.OpeningRange).where(
        hours.OpeningRange.office_id == office.id,
        hours.OpeningRange.service_id == service.id if service is not None
        else col(hours.OpeningRange.service_id).is_(None)))
    result: Hours = {}
    for row in sorted(rows, key=lambda row: (row.nth, row.weekday, row.opens)):
        result.setdefault(rule_key(row.weekday, row.nth), []).append((row.opens, row.closes))
    return result


def as_text(week: Hours) -> dict[str, str]:
    """Hours as rule key → `08:30-12:00, 13:00-17:15`."""
    return {key: fmt_ranges(ranges) for key, ranges in week.items()}


def upcoming_holidays(today: date, days: int = 120) -> list[tuple[date, str]]:
    """The national holidays of the next `days` days, with their (Japanese) names."""
    return [(day, str(name)) for day, name in jpholiday.between(today, today + timedelta(days))]


# --- changing ---------------------------------------------------------------------------------


def set_hours(session: Session, user_id: int | None, office: Office, texts: Mapping[str, str],
              service: Service | None = None) -> Hours:
    """Replace the office's (or the service's own) hours with `texts` (rule key → ranges);
    ValidationFailed keyed by rule key when any is wrong, and then nothing changes."""
    week, problems = validate_hours(texts)
    checks.raise_if(problems)
    before = as_text(hours_of(session, office, service))
    service_id = service.id if service is not None else None
    session.execute(delete(hours.OpeningRange).where(
        col(hours.OpeningRange.office_id) == office.id,
        col(hours.OpeningRange.service_id) == service_id if service_id is not None
        else col(hours.OpeningRange.service_id).is_(None)))
    for key, ranges in week.items():
        weekday, nth = parse_key(key)  # type: ignore[misc]
        session.add_all(hours.OpeningRange(office_id=office.id, service_id=service_id,  # type: ignore[arg-type]
                                           weekday=weekday, nth=nth, opens=opens, closes=closes)
                        for opens, closes in ranges)
    session.flush()
    after = as_text(hours_of(session, office, service))
    if before != after:
        audit.record(session, user_id, "hours_changed", None, office_id=office.id,
                     service_id=service_id, before=before, after=after)
    return week


def set_holiday_switch(session: Session, user_id: int | None, office: Office,
                       closed: bool) -> None:
    """Whether the office closes on national holidays."""
    row = hours.calendar(session, office.id)  # type: ignore[arg-type]
    before = row.closed_on_national_holidays
    row.closed_on_national_holidays = bool(closed)
    session.add(row)
    session.flush()
    if before != row.closed_on_national_holidays:
        audit.record(session, user_id, "holidays_changed", None, office_id=office.id,
                     before={"closed_on_national_holidays": before},
                     after={"closed_on_national_holidays": row.closed_on_national_holidays})


def _day(value: str, field: str, problems: checks.Problems) -> date | None:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        problems[field] = _("Dates are written as YYYY-MM-DD.")
        return None
    if not EARLIEST <= day <= LATEST:
        problems[field] = _("Choose a date between %(first)s and %(last)s.") % {
            "first": EARLIEST.isoformat(), "last": LATEST.isoformat()}
        return None
    return day


def check_closure(first: str, last: str, name: str) -> tuple[date, date, str]:
    """A closure's days and name, checked (an empty last day is the first: one day)."""
    problems: checks.Problems = {}
    first_day = _day(first, "first_day", problems)
    last_day = _day(last, "last_day", problems) if last.strip() else first_day
    clean_name = checks.text(name, "name", MAX_CLOSURE_NAME, problems)
    if not clean_name and "name" not in problems:
        problems["name"] = _("Give the closure a name, e.g. Year-end holidays.")
    if first_day and last_day and last_day < first_day:
        problems["last_day"] = _("The end date is before the start date.")
    checks.raise_if(problems)
    return first_day, last_day, clean_name  # type: ignore[return-value]


def _closure_data(closure: hours.Closure) -> dict[str, str]:
    return {"first_day": closure.first_day.isoformat(), "last_day": closure.last_day.isoformat(),
            "name": closure.name}


def add_closure(session: Session, user_id: int | None, office: Office, first: str, last: str,
                name: str) -> hours.Closure:
    """Close the office from `first` to `last` (both included)."""
    first_day, last_day, clean_name = check_closure(first, last, name)
    if len(hours.closures(session, office.id)) >= MAX_CLOSURES:  # type: ignore[arg-type]
        checks.raise_if({"first_day": _("An office has at most %(max)d closures; remove past "
                                        "ones first.") % {"max": MAX_CLOSURES}})
    closure = hours.Closure(office_id=office.id, first_day=first_day,  # type: ignore[arg-type]
                            last_day=last_day, name=clean_name)
    session.add(closure)
    session.flush()
    audit.record(session, user_id, "closure_added", None, office_id=office.id,
                 before=None, after=_closure_data(closure))
    return closure


def remove_closure(session: Session, user_id: int | None, office: Office,
                   closure_id: int) -> None:
    """Remove one of the office's closures."""
    closure = session.get(hours.Closure, closure_id)
    if closure is None or closure.office_id != office.id:
        raise NotFound(_("This closure does not exist."))
    audit.record(session, user_id, "closure_removed", None, office_id=office.id,
                 before=_closure_data(closure), after=None)
    session.delete(closure)
    session.flush()


def set_cutoff(session: Session, user_id: int | None, service: Service,
               minutes: str | int) -> int:
    """Tickets for the service stop `minutes` before each of its closing times (0: none)."""
    problems: checks.Problems = {}
    value = checks.number(minutes if str(minutes).strip() else 0, "cutoff", 0, hours.MAX_CUTOFF,
                          problems)
    checks.raise_if(problems)
    before = hours.cutoff_minutes(session, service.id)  # type: ignore[arg-type]
    row = session.get(hours.ServiceCutoff, service.id)
    if value == 0:
        if row is not None:
            session.delete(row)
    else:
        row = row or hours.ServiceCutoff(service_id=service.id)  # type: ignore[arg-type]
        row.minutes = value
        session.add(row)
    session.flush()
    if before != value:
        audit.record(session, user_id, "cutoff_changed", None, office_id=service.office_id,
                     service_id=service.id, before={"minutes": before}, after={"minutes": value})
    return value
