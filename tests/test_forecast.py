"""Forecast: weekday × hour averages with month-end and moving-season factors learned from
history (or defaults), the "usually busy" profile, and history read from the rollups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.forecast import (
    DEFAULT_MONTH_END_FACTOR,
    DEFAULT_MOVING_SEASON_FACTOR,
    BusyLevel,
    arrival_history,
    in_moving_season,
    is_month_end,
    learn,
    usually_busy,
)
from frontyard.database import session_scope
from frontyard.errors import ValidationFailed
from tests.analytics_log import EventLog, tokyo

#: An ordinary weekday: morning and after-lunch peaks; Mondays are half as busy again.
PROFILE = {8: 4, 9: 20, 10: 16, 11: 10, 12: 6, 13: 14, 14: 10, 15: 6, 16: 2}


def ordinary(day: date) -> dict[int, float]:
    """The synthetic ordinary-day arrivals of a weekday (none at weekends)."""
    if day.weekday() >= 5:
        return {}
    scale = 1.5 if day.weekday() == 0 else 1.0
    return {hour: count * scale for hour, count in PROFILE.items()}


def synthetic(start: date, end: date, month_end: float, season: float) -> dict:
    """History with exact factors on month-end and moving-season days (product on both)."""
    history = {}
    day = start
    while day <= end:
        factor = (month_end if is_month_end(day) else 1.0) * (
            season if in_moving_season(day) else 1.0)
        if ordinary(day):
            history[day] = {hour: round(count * factor * 10) for hour, count in
                            ordinary(day).items()}
        day += timedelta(days=1)
    return history


def test_calendar_rules():
    """Month-end is the last three calendar days; the season runs 15 March – 15 April."""
    assert [is_month_end(date(2026, 2, d)) for d in (25, 26, 28)] == [False, True, True]
    assert is_month_end(date(2026, 3, 29)) and not is_month_end(date(2026, 3, 28))
    assert in_moving_season(date(2026, 3, 15)) and in_moving_season(date(2026, 4, 15))
    assert not in_moving_season(date(2026, 3, 14)) and not in_moving_season(date(2026, 4, 16))


def test_learns_base_and_factors_from_history():
    """×1.3 at month-end and ×1.6 in the season are recovered from a year of history."""
    model = learn(synthetic(date(2025, 5, 1), date(2026, 4, 30), 1.3, 1.6))
    assert model.month_end_learned and model.moving_season_learned
    assert model.month_end_factor == pytest.approx(1.3, rel=0.01)
    assert model.moving_season_factor == pytest.approx(1.6, rel=0.01)
    assert model.base[0][9] == pytest.approx(300.0)  # Mondays: 20 × 1.5 × 10
    assert model.base[2][9] == pytest.approx(200.0)
    assert 5 not in model.base and 6 not in model.base


def test_forecast_for_coming_dates():
    """An ordinary Wednesday, a month-end Friday, a season Monday and a Tuesday that is
    both: base × the factors that apply; a Saturday (never open) expects nothing."""
    model = learn(synthetic(date(2025, 5, 1), date(2026, 4, 30), 1.3, 1.6))
    assert model.expected(date(2026, 5, 13))[9] == pytest.approx(200.0)
    assert model.expected(date(2026, 5, 29))[9] == pytest.approx(260.0, rel=0.01)
    assert model.expected(date(2027, 3, 22))[9] == pytest.approx(480.0, rel=0.01)
    assert model.expected(date(2027, 3, 30))[9] == pytest.approx(200 * 1.3 * 1.6, rel=0.02)
    assert model.expected(date(2026, 5, 16)) == {}


def test_defaults_without_special_days():
    """Two ordinary weeks in May hold no season and too few month-ends: defaults apply."""
    model = learn(synthetic(date(2026, 5, 4), date(2026, 5, 15), 1.3, 1.6))
    assert not model.month_end_learned and not model.moving_season_learned
    assert model.month_end_factor == DEFAULT_MONTH_END_FACTOR
    assert model.moving_season_factor == DEFAULT_MOVING_SEASON_FACTOR
    assert model.expected(date(2026, 6, 30))[9] == pytest.approx(
        200.0 * DEFAULT_MONTH_END_FACTOR)


def test_usually_busy_profile():
    """Hours rated against the week's busiest hour (Monday 9h): a Wednesday's 9h is 2/3 of
    it (moderate), Monday 9h is busy, 16h is quiet."""
    model = learn(synthetic(date(2026, 5, 4), date(2026, 5, 22), 1.0, 1.0))
    wednesday = {row.hour: row.level for row in usually_busy(model, date(2026, 6, 10))}
    monday = {row.hour: row.level for row in usually_busy(model, date(2026, 6, 8))}
    assert wednesday[9] is BusyLevel.MODERATE and monday[9] is BusyLevel.BUSY
    assert wednesday[16] is BusyLevel.QUIET and monday[13] is BusyLevel.MODERATE
    assert usually_busy(model, date(2026, 6, 13)) == []


def test_history_from_the_rollups(engine):
    """Tickets per local date and hour (a ticket at 00:30 Tokyo is on the Tokyo date)."""
    with session_scope(engine) as session:
        log = EventLog(session)
        service = log.service("tax")
        for n, when in enumerate(["2026-04-06 09:10", "2026-04-06 09:50", "2026-04-07 00:30",
                                  "2026-04-07 13:00"]):
            log.visit(f"E{n}", tokyo(when), service)
        history = arrival_history(session, date(2026, 4, 6), date(2026, 4, 7),
                                  office_id=log.office.id)
        assert history == {date(2026, 4, 6): {9: 2}, date(2026, 4, 7): {0: 1, 13: 1}}
        with pytest.raises(ValidationFailed):
            arrival_history(session, date(2026, 4, 7), date(2026, 4, 6))
