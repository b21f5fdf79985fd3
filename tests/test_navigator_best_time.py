"""When to come: the busiest and a quieter time from the forecast's profiles, in words per
language, and on the result page from an office's history (silence without history)."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert
from sqlmodel import select

from analytics.metrics import DurationStats
from analytics.models import stage_hour
from composition.demo import seed_structure
from counter.models import Service
from frontyard import database, i18n
from navigator import figures
from navigator.best_time import Span, best_time, busiest, combined, quieter
from navigator.when_words import span_words
from tests.test_navigator import RESULT, text_of

OPEN_HOURS = range(9, 17)


def week(busy: dict[tuple[int, int], float], usual: float = 5.0,
         days: range = range(5)) -> dict[int, dict[int, float]]:
    """A Monday-to-Friday profile: `usual` arrivals an hour, `busy` (weekday, hour) overrides."""
    return {day: {hour: busy.get((day, hour), usual) for hour in OPEN_HOURS} for day in days}


def test_the_peak_widens_to_neighbouring_busy_hours():
    """Monday 9–11 at 20 and 18 an hour: the busiest time is Monday 9:00–11:00."""
    assert busiest(week({(0, 9): 20, (0, 10): 18})) == Span((0,), 9, 11)
    assert busiest({}) is None


def test_quieter_is_the_least_busy_window_of_the_quieter_days():
    """Tuesday to Thursday are below average and quietest 13:00–15:00."""
    busy = {(0, hour): 12 for hour in OPEN_HOURS} | {(4, hour): 10 for hour in OPEN_HOURS}
    busy |= {(day, hour): 1 for day in (1, 2, 3) for hour in (13, 14)}
    assert quieter(week(busy)) == Span((1, 2, 3), 13, 15)


def test_a_flat_week_has_no_better_time():
    """Every hour alike: nothing to suggest (no guess)."""
    assert quieter(week({})) is None
    assert quieter({0: {9: 5.0, 10: 5.0, 11: 5.0}}) is None  # one day only


def test_profiles_of_several_services_add_up():
    """A visit to two counters: their arrivals are summed before the peak is found."""
    first = {0: {9: 4.0, 10: 1.0}}
    second = {0: {10: 6.0}, 1: {9: 2.0}}
    assert combined([first, second]) == {0: {9: 4.0, 10: 7.0}, 1: {9: 2.0}}
    assert best_time([first, second]).busiest == Span((0,), 10, 11)
    assert best_time([]).busiest is None and best_time([]).quieter is None


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "Tuesday–Thursday, 1:00\u202fPM–3:00\u202fPM"),
    ("ja", "火曜日〜木曜日 13:00〜15:00"),
    ("es", "martes a jueves, 13:00 a 15:00"),
])
def test_spans_in_words(code, expected):
    """Weekdays as a range, hours in the language's clock."""
    with i18n.use_locale(code):
        assert span_words(Span((1, 2, 3), 13, 15)) == expected


def test_spans_in_easy_japanese_carry_readings():
    """The weekdays' kanji get their readings; two days are listed, not a range."""
    with i18n.use_locale("ja_easy"):
        words = span_words(Span((1, 3), 13, 15))
    html = words.__html__()  # type: ignore[union-attr]
    assert "<ruby>火曜日<rp>(</rp><rt>かようび</rt>" in html
    assert "<ruby>木曜日<rp>(</rp><rt>もくようび</rt>" in html
    assert str(words) == "火曜日、木曜日 13:00〜15:00"
    assert span_words(None) is None


# --- on the result page ------------------------------------------------------------------------


@pytest.fixture
def office_id(engine) -> int:  # type: ignore[no-untyped-def]
    """An office with the services the bundled catalog names."""
    with database.session_scope(engine) as session:
        return seed_structure(session).id  # type: ignore[return-value]


def record_history(engine, office_id: int, weeks: int) -> None:  # type: ignore[no-untyped-def]
    """`weeks` ordinary weeks of arrivals at the register before today: Monday mornings and
    Fridays busy, Tuesday to Thursday afternoons quiet, as the rollups keep them."""
    with database.session_scope(engine) as session:
        service_id = session.exec(select(Service.id).where(Service.code == "residents")).one()
        rows = []
        today = date.today()
        for back in range(1, weeks * 7 + 1):
            day = today - timedelta(days=back)
            if day.weekday() > 4:
                continue
            for hour in OPEN_HOURS:
                count = 5
                if day.weekday() == 0 and hour in (9, 10):
                    count = 25
                elif day.weekday() in (1, 2, 3) and hour in (13, 14):
                    count = 1
                elif day.weekday() == 4:
                    count = 8
                rows.append({"local_date": day, "office_id": office_id,
                             "service_id": service_id, "step": "", "hour": hour,
                             "weekday": day.weekday(), "arrivals": count, "issued": count})
        session.execute(insert(stage_hour), rows)


def test_the_result_tells_the_busiest_and_a_quieter_time(client, office_id, engine):
    """With weeks of history, the page names Monday morning busy and suggests Tuesday to
    Thursday afternoons."""
    record_history(engine, office_id, weeks=4)
    page = client.get(RESULT, headers={"Accept-Language": "en"})
    text = text_of(page.text)
    # (text_of folds the narrow no-break space before AM/PM into a space)
    assert "Usually busiest: Monday, 9:00 AM–11:00 AM" in text
    assert "Usually quieter: Tuesday–Thursday, 1:00 PM–3:00 PM" in text


def test_too_little_history_says_nothing(client, office_id, engine):
    """One week of history is not enough to tell busy times: nothing is said."""
    record_history(engine, office_id, weeks=1)
    text = text_of(client.get(RESULT, headers={"Accept-Language": "en"}).text)
    assert "Usually busiest" not in text and "Usually quieter" not in text


def test_time_at_the_counter_comes_from_measured_handling(client, office_id, engine,
                                                          monkeypatch):
    """Enough measured visits: the median handling time (rounded up) replaces the catalog's
    estimate for that service; too few: the catalog's estimate stays."""
    with database.session_scope(engine) as session:
        ids = dict(session.exec(select(Service.code, Service.id)).all())
    durations = {(ids["residents"], None): DurationStats(40, 40 * 400_000, 400.0, 600.0),
                 (ids["insurance"], None): DurationStats(3, 3 * 60_000, 60.0, 60.0)}
    monkeypatch.setattr(figures, "metrics", lambda *args, **kwargs: SimpleNamespace(
        durations={"handling": durations}))
    text = text_of(client.get(RESULT, headers={"Accept-Language": "en"}).text)
    assert "usually about 7 minutes" in text  # 400 s at the register → 7 minutes
    assert "about 20 minutes" in text  # insurance: 3 measurements only, the catalog's 20
