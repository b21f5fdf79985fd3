"""`frontyard analytics rebuild|import` and `frontyard demo --days`, run in-process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, func, select

from analytics.metrics import Filters, metrics
from composition.cli import main
from counter.models import Event
from frontyard import database
from tests.analytics_log import day

GOOD = """visit,ticket,office,service,step,event,timestamp,counter,task,staff
,,main,residents,,counter_opened,2026-04-06T08:30:00+09:00,1,,
v1,A-001,main,residents,受付,issued,2026-04-06T09:00:00+09:00,,,
v1,A-001,main,residents,受付,queued,2026-04-06T09:00:00+09:00,,,
v1,A-001,main,residents,受付,called,2026-04-06T09:10:00+09:00,1,,
v1,A-001,main,residents,受付,started,2026-04-06T09:11:00+09:00,1,,
v1,A-001,main,residents,受付,done,2026-04-06T09:20:00+09:00,1,,
v1,A-001,main,,,visit_closed,2026-04-06T09:20:00+09:00,,,
,,main,,,counter_closed,2026-04-06T12:00:00+09:00,1,,
"""


@pytest.fixture
def run(tmp_path):  # type: ignore[no-untyped-def]
    """Run a CLI command against a migrated SQLite database with the demo office."""
    env = {"FRONTYARD_DATA_DIR": str(tmp_path), "FRONTYARD_DATABASE_URL": ""}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), env=env)

    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("demo").exit_code == 0
    return invoke


@pytest.fixture
def cli_engine(tmp_path):  # type: ignore[no-untyped-def]
    """The CLI database's engine."""
    engine = database.make_engine(f"sqlite:///{tmp_path / 'frontyard.sqlite3'}")
    yield engine
    engine.dispose()


def test_import_then_rebuild(run, cli_engine, tmp_path: Path):
    """A good file is imported and counted; a rebuild from the log gives the same figures."""
    (tmp_path / "good.csv").write_text(GOOD, encoding="utf-8")
    result = run("analytics", "import", str(tmp_path / "good.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported 8 events of 1 visits" in result.output
    with Session(cli_engine) as session:
        before = metrics(session, Filters(day("2026-04-06"), day("2026-04-06")))
    assert before.durations["wait"][(None, None)].total_ms == 600_000
    assert before.counters_open()[(0, 9)] == 1.0
    result = run("analytics", "rebuild")
    assert result.exit_code == 0 and "Rebuilt the analytics" in result.output
    with Session(cli_engine) as session:
        after = metrics(session, Filters(day("2026-04-06"), day("2026-04-06")))
    assert after.cells == before.cells and after.calls == before.calls
    assert run("analytics", "rebuild", "--office", "nowhere").exit_code == 2


def test_a_bad_file_lists_lines_and_imports_nothing(run, cli_engine, tmp_path: Path):
    """Exit 1, one `file:line: problem` per wrong row, and no event written."""
    bad = GOOD.replace("2026-04-06T09:10:00+09:00", "yesterday").replace(
        "2026-04-06T09:20:00+09:00,1,,", "2026-04-06T09:20:00+09:00,9,,")
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    with Session(cli_engine) as session:
        events = session.exec(select(func.count()).select_from(Event)).one()
    result = run("analytics", "import", str(tmp_path / "bad.csv"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.csv'}:5: The timestamp 'yesterday'" in result.output
    assert f"{tmp_path / 'bad.csv'}:7:" in result.output  # counter 9 does not exist
    assert "nothing was imported" in result.output
    with Session(cli_engine) as session:
        assert session.exec(select(func.count()).select_from(Event)).one() == events


def test_a_nul_character_is_refused_with_its_line(run, cli_engine, tmp_path: Path):
    """Events are written past the database layer's NUL guard, so the import refuses a NUL in
    any field itself: with its line, and nothing written."""
    (tmp_path / "nul.csv").write_text(GOOD.replace("受付,called", "受\x00付,called"),
                                      encoding="utf-8")
    with Session(cli_engine) as session:
        events = session.exec(select(func.count()).select_from(Event)).one()
    result = run("analytics", "import", str(tmp_path / "nul.csv"))
    assert result.exit_code == 1
    assert (f"{tmp_path / 'nul.csv'}:5: The text contains a character that cannot be stored "
            "(NUL).") in result.output
    with Session(cli_engine) as session:
        assert session.exec(select(func.count()).select_from(Event)).one() == events


def test_a_counter_event_keeps_the_visit_it_names(run, cli_engine, tmp_path: Path):
    """Counters' events are written before the visits': one that names a visit of the file
    still gets that visit's id."""
    named = GOOD.replace(",,main,,,counter_closed", "v1,A-001,main,,,counter_closed")
    (tmp_path / "named.csv").write_text(named, encoding="utf-8")
    result = run("analytics", "import", str(tmp_path / "named.csv"))
    assert result.exit_code == 0, result.output
    with Session(cli_engine) as session:
        closed = session.exec(select(Event).where(
            Event.kind == "counter_closed", Event.at == datetime(2026, 4, 6, 3, tzinfo=UTC))).one()
        issued = session.exec(select(Event).where(
            Event.kind == "issued", Event.at == datetime(2026, 4, 6, 0, tzinfo=UTC))).one()
    assert closed.visit_id is not None and closed.visit_id == issued.visit_id


def test_demo_days_plays_history(run):
    """`demo --days 3` adds the weekdays among the last three days (none twice)."""
    result = run("demo", "--days", "3")
    assert result.exit_code == 0 and "Demo history:" in result.output
    again = run("demo", "--days", "3")
    assert "0 working day(s)" in again.output or "had visits already" in again.output
