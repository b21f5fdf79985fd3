"""The demo history: two weeks played through the queue engine have the shape they promise."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, func, select

from analytics.forecast import BusyLevel, usually_busy_today
from analytics.metrics import Filters, metrics, metrics_from_log
from composition.demo import seed_structure
from composition.demo_history import generate_history, history_days
from counter.models import Counter as Desk
from counter.models import Event, EventKind, Task, Visit
from counter.queue import ACTIVE_STATES
from frontyard import database
from frontyard.database import session_scope
from frontyard.settings import Settings
from tests.analytics_log import TOKYO

END = date(2026, 6, 20)  # two ordinary weeks before it: no month-end, no moving season
FIRST, LAST = date(2026, 6, 6), date(2026, 6, 19)


@pytest.fixture(scope="module")
def history(tmp_path_factory, sqlite_template):  # type: ignore[no-untyped-def]
    """Two weeks of demo history on SQLite, played once for this module (it takes a while);
    returns the engine and the office id. `test_the_engine_path_on_each_database` covers
    PostgreSQL with a shorter history."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = database.make_engine(f"sqlite:///{path}")
    with session_scope(engine) as session:
        office_id = seed_structure(session).id
    lines = list(generate_history(engine, "main", 14, end=END, seed=7))
    assert "10 working day(s)" in lines[0]
    yield engine, office_id
    engine.dispose()


@pytest.fixture
def engine(history):  # type: ignore[no-untyped-def]
    """The history's engine (this module's tests only read it, or add nothing)."""
    return history[0]


@pytest.fixture
def demo(history) -> int:  # type: ignore[no-untyped-def]
    """The demo office's id."""
    return history[1]


def test_history_days_are_weekdays_before_the_end():
    """Weekends are closed; the end day (today) is not history."""
    days = history_days(END, 14)
    assert days[0] == date(2026, 6, 8) and days[-1] == LAST  # June 6 and 7: a weekend
    assert all(day.weekday() < 5 for day in days) and len(days) == 10


def test_the_history_has_peaks_busy_mondays_and_the_rest(engine, demo):
    """Morning and lunchtime peaks, Monday busier than Wednesday, no-shows, several steps."""
    with session_scope(engine) as session:
        result = metrics(session, Filters(FIRST, LAST, office_id=demo))
        per_hour = Counter()
        for (_weekday, hour), count in result.heatmap("issued").items():
            per_hour[hour] += count
        assert per_hour[9] + per_hour[10] > 1.5 * (per_hour[15] + per_hour[16])
        assert per_hour[12] > per_hour[14]
        per_day = {weekday: sum(c for (w, _h), c in result.heatmap("issued").items()
                                if w == weekday) / result.days[weekday] for weekday in (0, 2)}
        assert per_day[0] > 1.3 * per_day[2]
        assert result.calls[(None, None)].no_shows > 0
        handling = result.durations["handling"]
        assert {step for (_service, step) in handling if step} >= {"受付", "確認", "交付"}
        tasks = Counter(session.exec(select(Task.visit_id)).all())
        assert sum(1 for n in tasks.values() if n >= 2) > 0.2 * len(tasks)


def test_counters_open_close_and_nothing_is_left_running(engine, demo):
    """Lunch breaks close counters mid-day; every day ends with counters closed and every
    visit closed, so the live queue starts empty."""
    with session_scope(engine) as session:
        closings = session.exec(select(Event.at).where(
            Event.kind == EventKind.COUNTER_CLOSED)).all()
        assert any(at.astimezone(TOKYO).hour == 12 for at in closings)
        assert session.exec(select(func.count()).select_from(Desk).where(
            col(Desk.is_open).is_(True))).one() == 0
        assert session.exec(select(func.count()).select_from(Task).where(
            col(Task.state).in_(ACTIVE_STATES))).one() == 0
        assert session.exec(select(func.count()).select_from(Visit).where(
            col(Visit.closed_at).is_(None))).one() == 0


def test_the_history_went_through_the_rollups(engine, demo):
    """The rollups the engine kept equal a full replay of the generated log."""
    with session_scope(engine) as session:
        filters = Filters(FIRST, LAST, office_id=demo)
        rolled, exact = metrics(session, filters), metrics_from_log(session, filters)
    assert rolled.cells == exact.cells
    assert rolled.calls == exact.calls
    assert rolled.by_counter == exact.by_counter


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_engine_path_on_each_database(database_url, backend):
    """Two days on each database: the engine's rollups equal the replay there too."""
    if not database_url.startswith(backend):
        pytest.skip("runs once per database")
    engine = database.make_engine(Settings(database_url=database_url).resolved_database_url())
    with session_scope(engine) as session:
        office_id = seed_structure(session).id
    list(generate_history(engine, "main", 2, end=LAST, seed=3))
    with session_scope(engine) as session:
        filters = Filters(LAST - timedelta(days=2), LAST, office_id=office_id)
        rolled, exact = metrics(session, filters), metrics_from_log(session, filters)
    engine.dispose()
    assert rolled.cells == exact.cells and rolled.cells
    assert rolled.calls == exact.calls


def day_signature(engine, day: date) -> list[tuple[str, datetime, str]]:  # type: ignore[no-untyped-def]
    """What happened on a day: event kinds and times with the ticket numbers."""
    with session_scope(engine) as session:
        return [(str(kind), at, ticket) for kind, at, ticket in session.exec(
            select(Event.kind, Event.at, Visit.ticket_number)
            .join(Visit, col(Visit.id) == Event.visit_id)
            .where(Visit.ticket_day == day).order_by(col(Event.at), col(Event.id)))]


def test_a_second_run_adds_no_day_twice_and_the_same_seed_gives_the_same_day(
        engine, demo, tmp_path, sqlite_template):
    """Existing days are skipped; a day depends only on (seed, date), not on what came first."""
    lines = list(generate_history(engine, "main", 14, end=END, seed=7))
    assert "0 working day(s)" in lines[0] and "10 day(s) had visits already" in lines[0]
    other = tmp_path / "other.sqlite3"
    shutil.copy(sqlite_template, other)
    fresh = database.make_engine(f"sqlite:///{other}")
    with session_scope(fresh) as session:
        seed_structure(session)
    list(generate_history(fresh, "main", 1, end=END, seed=7))  # only the last day
    assert day_signature(fresh, LAST) == day_signature(engine, LAST) != []
    fresh.dispose()


def test_usually_busy_today_rates_the_hours(engine, demo):
    """The crowding page's profile for a Monday after the history: peaks rate busy."""
    with session_scope(engine) as session:
        hours = usually_busy_today(session, demo, TOKYO, datetime(2026, 6, 22, 0, 30,
                                                                  tzinfo=UTC))
        assert usually_busy_today(session, demo, TOKYO,
                                  datetime(2025, 1, 6, tzinfo=UTC)) == []
    levels = {hour.hour: hour.level for hour in hours}
    assert levels[9] is BusyLevel.BUSY or levels[10] is BusyLevel.BUSY
    assert BusyLevel.QUIET in levels.values()
