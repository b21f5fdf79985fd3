"""Opening hours as pure rules (counter/hours.py): weekday ranges, occurrence rules, national
holidays, the city's closures across the new year, services' own hours and ticket cut-offs,
and the engine refusing a ticket outside them, on a clock the tests choose."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from counter import queue
from counter.hours import (
    ALWAYS_OPEN,
    ClosedDays,
    Closure,
    OfficeCalendar,
    OpeningRange,
    OutsideHours,
    Rule,
    Schedule,
    ServiceCutoff,
    day_intervals,
    occurrence,
    status,
)
from frontyard import database
from frontyard.i18n import use_locale

TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS = tuple(Rule(day, 0, 8 * 60 + 30, 17 * 60 + 15) for day in range(5))
LUNCH = (Rule(0, 0, 9 * 60, 12 * 60), Rule(0, 0, 13 * 60, 17 * 60))
SATURDAYS = (Rule(5, 1, 9 * 60, 12 * 60), Rule(5, 3, 9 * 60, 12 * 60))
YEAR_END = ClosedDays(date(2026, 12, 29), date(2027, 1, 3), "年末年始")


def at(text: str) -> datetime:
    """An instant in Tokyo, from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def test_no_hours_is_open_always():
    """An upgraded installation keeps issuing tickets at any hour, holidays included."""
    assert status(Schedule(), at("2027-01-11 01:13"), TOKYO) == ALWAYS_OPEN
    assert day_intervals(Schedule(), date(2027, 1, 11)) == [(0, 1440)]


def test_closures_apply_even_without_hours():
    """The city's own closed days close an office that has no weekly hours yet."""
    schedule = Schedule(closures=(YEAR_END,))
    closed = status(schedule, at("2026-12-31 10:00"), TOKYO)
    assert not closed.open and closed.next_opening == at("2027-01-04 00:00")
    open_now = status(schedule, at("2026-12-28 10:00"), TOKYO)
    assert open_now.open and open_now.closes_at == at("2026-12-29 00:00")


def test_weekday_hours_and_the_next_opening():
    """Mon–Fri 08:30–17:15: at 01:13 it opens at 08:30; Friday evening → Monday morning."""
    schedule = Schedule(office_rules=WEEKDAYS)
    night = status(schedule, at("2026-12-08 01:13"), TOKYO)  # a Tuesday
    assert not night.open and night.next_opening == at("2026-12-08 08:30")
    day = status(schedule, at("2026-12-08 08:30"), TOKYO)
    assert day.open and day.closes_at == at("2026-12-08 17:15")
    assert not status(schedule, at("2026-12-08 17:15"), TOKYO).open
    weekend = status(schedule, at("2026-12-11 17:20"), TOKYO)  # Friday
    assert weekend.next_opening == at("2026-12-14 08:30")


def test_a_lunch_gap_is_two_ranges():
    """12:30 on a Monday is closed until 13:00."""
    schedule = Schedule(office_rules=LUNCH)
    lunch = status(schedule, at("2026-12-07 12:30"), TOKYO)
    assert not lunch.open and lunch.next_opening == at("2026-12-07 13:00")
    assert status(schedule, at("2026-12-07 11:59"), TOKYO).closes_at == at("2026-12-07 12:00")


def test_first_and_third_saturday():
    """The nth-weekday rule opens only those Saturdays."""
    assert occurrence(date(2027, 1, 2)) == 1 and occurrence(date(2027, 1, 16)) == 3
    schedule = Schedule(office_rules=WEEKDAYS + SATURDAYS)
    assert day_intervals(schedule, date(2027, 2, 6)) == [(540, 720)]  # 1st Saturday
    assert day_intervals(schedule, date(2027, 2, 13)) == []  # 2nd
    assert day_intervals(schedule, date(2027, 2, 20)) == [(540, 720)]  # 3rd
    friday = status(schedule, at("2027-02-12 18:00"), TOKYO)
    assert friday.next_opening == at("2027-02-15 08:30")
    friday = status(schedule, at("2027-02-19 18:00"), TOKYO)
    assert friday.next_opening == at("2027-02-20 09:00")


def test_national_holidays_close_unless_switched_off():
    """2027-01-11 (Coming-of-Age Day) is closed; with the switch off it is a normal Monday."""
    schedule = Schedule(office_rules=WEEKDAYS)
    holiday = status(schedule, at("2027-01-11 10:00"), TOKYO)
    assert not holiday.open and holiday.next_opening == at("2027-01-12 08:30")
    assert status(Schedule(office_rules=WEEKDAYS, closed_on_holidays=False),
                  at("2027-01-11 10:00"), TOKYO).open


def test_year_end_closure_across_the_new_year():
    """12/29–1/3 closed; 1/1 is a holiday too; it opens on Monday 1/4 at 08:30."""
    schedule = Schedule(office_rules=WEEKDAYS, closures=(YEAR_END,))
    for moment in ("2026-12-28 18:00", "2026-12-29 10:00", "2027-01-01 10:00"):
        closed = status(schedule, at(moment), TOKYO)
        assert not closed.open and closed.next_opening == at("2027-01-04 08:30"), moment


def test_service_hours_narrow_the_office_and_the_cutoff_stops_tickets():
    """A mornings-only service with a 30-minute cut-off: tickets until 11:30, then the next
    working morning; the office's holidays close it too."""
    schedule = Schedule(office_rules=WEEKDAYS,
                        service_rules=tuple(Rule(day, 0, 8 * 60 + 30, 12 * 60)
                                            for day in range(7)), cutoff=30)
    assert status(schedule, at("2026-12-08 11:29"), TOKYO, tickets=True).open
    late = status(schedule, at("2026-12-08 11:30"), TOKYO, tickets=True)
    assert not late.open and late.next_opening == at("2026-12-09 08:30")
    assert status(schedule, at("2026-12-08 11:45"), TOKYO).open  # still open, no new tickets
    saturday = status(schedule, at("2026-12-12 09:00"), TOKYO, tickets=True)
    assert not saturday.open and saturday.next_opening == at("2026-12-14 08:30")


def test_nothing_within_the_horizon_has_no_next_opening():
    """A closure longer than the look-ahead: closed, no opening time to promise."""
    schedule = Schedule(office_rules=WEEKDAYS,
                        closures=(ClosedDays(date(2026, 1, 1), date(2030, 1, 1)),))
    assert status(schedule, at("2026-12-08 10:00"), TOKYO) == status(
        schedule, at("2026-12-09 10:00"), TOKYO)
    assert status(schedule, at("2026-12-08 10:00"), TOKYO).next_opening is None


# --- the engine -------------------------------------------------------------------------------


@pytest.fixture
def hours_world(world, engine):  # type: ignore[no-untyped-def]
    """The test office open Mon–Fri 08:30–17:15; insurance has a 30-minute cut-off."""
    with database.session_scope(engine) as session:
        for day in range(5):
            session.add(OpeningRange(office_id=world.office_id, weekday=day,
                                     opens=8 * 60 + 30, closes=17 * 60 + 15))
        session.add(ServiceCutoff(service_id=world.services["insurance"], minutes=30))
        session.add(Closure(office_id=world.office_id, first_day=date(2026, 12, 29),
                            last_day=date(2027, 1, 3), name="年末年始"))
    return world


def _issue(engine, world, codes, moment, **extra):  # type: ignore[no-untyped-def]
    with database.session_scope(engine) as session:
        return queue.issue_ticket(session, office_id=world.office_id, service_codes=codes,
                                  now=at(moment), **extra).ticket_number


def test_the_engine_refuses_tickets_outside_hours(engine, hours_world):
    """01:13 → refused with the opening time; 10:00 → a ticket; past the cut-off → refused."""
    with use_locale("en"), pytest.raises(OutsideHours) as refused:
        _issue(engine, hours_world, ["residents"], "2026-12-08 01:13")
    assert refused.value.status_code == 409
    assert "The office is closed now. It opens again on Dec 8, 2026, 8:30" in str(refused.value)
    assert refused.value.fields["next_opening"] == "2026-12-08T08:30:00+09:00"
    assert _issue(engine, hours_world, ["residents"], "2026-12-08 10:00") == "A-001"
    with use_locale("ja"), pytest.raises(OutsideHours) as refused:
        _issue(engine, hours_world, ["residents", "insurance"], "2026-12-08 16:50")
    assert "insurance（ja）は" in str(refused.value) and "2026年12月9日 8:30" in str(refused.value)
    with pytest.raises(OutsideHours):
        _issue(engine, hours_world, ["residents"], "2026-12-30 10:00")


def test_staff_may_issue_outside_hours_deliberately(engine, hours_world):
    """`outside_hours=True` (a resident let in at closing) issues the ticket anyway."""
    assert _issue(engine, hours_world, ["residents"], "2026-12-08 17:20",
                  outside_hours=True) == "A-001"


def test_the_holiday_switch_is_read_from_the_office(engine, hours_world):
    """Switched off, Coming-of-Age Day issues tickets."""
    with pytest.raises(OutsideHours):
        _issue(engine, hours_world, ["residents"], "2027-01-11 10:00")
    with database.session_scope(engine) as session:
        session.add(OfficeCalendar(office_id=hours_world.office_id,
                                   closed_on_national_holidays=False))
    assert _issue(engine, hours_world, ["residents"], "2027-01-11 10:00") == "A-001"
