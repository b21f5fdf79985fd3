"""The managers' analytics pages: access, filters, refusals, exports and the import round trip."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from composition.factory import create_app
from counter.models import Event, Visit
from frontyard import database
from frontyard.auth import Role, create_user
from frontyard.settings import Settings
from tests.conftest import PASSWORDS, TEST_ORIGIN, log_in, make_client, seed_queue_world
from tests.test_analytics_engine import morning

DAY = "start=2026-04-06&end=2026-04-06"
TABLES = ["heatmap", "durations", "calls", "staffing", "counters", "staff"]


@pytest.fixture
def manager(manager_client):  # type: ignore[no-untyped-def]
    """The signed-in manager, reading in English."""
    manager_client.headers["Accept-Language"] = "en"
    return manager_client


@pytest.fixture
def history(engine, world):  # type: ignore[no-untyped-def]
    """The hand-computed morning of test_analytics_engine, written through the engine."""
    return morning(engine, world)


def rows_of(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """A CSV export's rows (header first)."""
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def same_values(rows: list[list[object]], width: int) -> list[list[object]]:
    """Cells compared by value: numbers as floats, empty cells as "", rows padded to `width`
    (a spreadsheet drops trailing empty cells and writes 540.0 back as 540)."""
    def value(cell: object) -> object:
        text = "" if cell is None else str(cell)
        try:
            return float(text)
        except ValueError:
            return text
    return [[value(cell) for cell in row] + [""] * (width - len(row)) for row in rows]


def test_manager_sees_the_page_with_the_figures(manager, history):
    """Headings, an accessible SVG heatmap and its table, the staffing and the definitions."""
    page = manager.get(f"/analytics?{DAY}")
    assert page.status_code == 200
    html = page.text
    assert 'role="img"' in html and 'aria-labelledby="chart-heatmap-title' in html
    assert "Arrivals by weekday and hour" in html
    assert "Counters needed and open per hour" in html
    assert "From a task's entry into its queue to its first call" in html  # definitions
    assert "<table" in html and "Monday" in html  # the heatmap's table names the weekday
    assert "20.0%" in html  # no-show rate: 1 of 5 calls, with one decimal


def test_page_is_localised_in_japanese(manager_client, history):
    """Dates, weekdays and labels in Japanese."""
    html = manager_client.get(f"/analytics?{DAY}", headers={"Accept-Language": "ja"}).text
    assert '<html lang="ja"' in html
    assert "月曜日" in html  # the heatmap table's weekday
    assert "定義" in html


def test_staff_get_403_and_strangers_sign_in(staff_client, client):
    """Only managers (and admins) see analytics."""
    assert staff_client.get("/analytics").status_code == 403
    assert staff_client.get("/analytics/export/heatmap.csv").status_code == 403
    response = client.get("/analytics", follow_redirects=False)
    assert response.status_code == 303 and "/login" in response.headers["location"]


def test_filters_change_the_figures(manager, history, world):
    """A weekday without data empties the page; a service filter narrows the tables."""
    tuesday = rows_of(manager.get(f"/analytics/export/heatmap.csv?{DAY}&weekday=1"))
    assert tuesday == [tuesday[0]]
    everything = rows_of(manager.get(f"/analytics/export/heatmap.csv?{DAY}"))
    arrivals = {(row[0], row[1]): row[2] for row in everything[1:] if row[2] != "0"}
    assert arrivals == {("0", "9"): "4"}  # 4 arrivals, Monday 9h
    child = world.services["childcare"]
    calls = rows_of(manager.get(f"/analytics/export/calls.csv?{DAY}&service={child}"))
    assert {row[0] for row in calls[1:]} == {"childcare", "*"}
    page = manager.get(f"/analytics?{DAY}&weekday=1")
    assert "Nothing was recorded in this period" in page.text


@pytest.mark.parametrize(("query", "message"), [
    ("start=2026-13-01", "Dates are written as YYYY-MM-DD."),
    ("start=2026-04-07&end=2026-04-06", "The end date is before the start date."),
    ("start=2020-01-01&end=2026-04-06", "Choose a period of at most three years."),
    ("level=150", "Enter a number from 1 to 99."),
    ("minutes=soon", "Enter a number from 0 to 600."),
    ("office=abc", "Choose an entry from the list."),
    ("office=999", "Choose an office from the list."),
    ("weekday=9", "Choose weekdays from the list."),
    ("date=tomorrow", "Dates are written as YYYY-MM-DD."),
])
def test_bad_filters_are_refused_with_a_message(manager, query, message):
    """Nonsense parameters give a 422 naming the problem, never a 500."""
    response = manager.get(f"/analytics?{query}")
    assert response.status_code == 422
    assert message in response.text
    assert manager.get(f"/analytics/export/heatmap.csv?{query}").status_code == 422


def test_unknown_export_is_404(manager):
    """Only the page's tables, as csv or xlsx."""
    assert manager.get("/analytics/export/secrets.csv").status_code == 404
    assert manager.get("/analytics/export/heatmap.pdf").status_code == 404


@pytest.mark.parametrize("table", TABLES)
def test_xlsx_holds_the_same_rows_as_csv(manager, history, table):
    """Each table's Excel file has the CSV's header and values (numbers as numbers)."""
    rows = rows_of(manager.get(f"/analytics/export/{table}.csv?{DAY}"))
    response = manager.get(f"/analytics/export/{table}.xlsx?{DAY}")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert same_values(cells, len(rows[0])) == same_values(rows, len(rows[0]))  # type: ignore[arg-type]
    assert len(rows) > 1


def test_whatif_runs_a_plan(manager, history, world):
    """The default plan is the counters that were open; a sent plan is simulated."""
    page = manager.get(f"/analytics/whatif?{DAY}")
    assert page.status_code == 200 and 'name="plan-' in page.text
    res = world.services["residents"]
    result = manager.get(f"/analytics/whatif?{DAY}&run=1&plan-{res}-9=2")
    assert result.status_code == 200
    assert "Predicted and real waits per hour" in result.text
    exported = rows_of(manager.get(f"/analytics/export/whatif.csv?{DAY}&plan-{res}-9=2"))
    assert exported[0][:3] == ["hour", "real_mean_wait_seconds", "predicted_mean_wait_seconds"]
    assert "9" in [row[0] for row in exported[1:]]
    bad = manager.get(f"/analytics/whatif?{DAY}&run=1&plan-{res}-9=-1")
    assert bad.status_code == 422 and "whole number of counters" in bad.text


# --- import -------------------------------------------------------------------------------------

@pytest.fixture
def second_app(tmp_path: Path, sqlite_template: Path):  # type: ignore[no-untyped-def]
    """Another installation (SQLite) with the same office, services, counters and staff, and an
    admin signed in: where exported events are imported back."""
    path = tmp_path / "second.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path / "second",
                        secret_key="second-secret-key-for-tests", base_url=TEST_ORIGIN)
    engine = database.make_engine(settings.resolved_database_url())
    seed_queue_world(engine)
    with database.session_scope(engine) as session:
        create_user(session, "admin2", PASSWORDS[Role.ADMIN], Role.ADMIN)
    with make_client(create_app(settings)) as client:
        log_in(client, "admin2", PASSWORDS[Role.ADMIN])
        client.headers["Accept-Language"] = "en"
        yield client, engine
    engine.dispose()


def upload(client, data: bytes):  # type: ignore[no-untyped-def]
    """Post a CSV to the import form."""
    return client.post("/analytics/import", files={"file": ("events.csv", data, "text/csv")})


def test_exports_survive_an_import_round_trip(manager, history, second_app):
    """Events exported here and imported into another installation give the same tables."""
    events = manager.get(f"/analytics/export/events.csv?{DAY}")
    assert events.status_code == 200
    client, _engine = second_app
    response = upload(client, events.content)
    assert response.status_code == 200, response.text
    assert "Imported 29 events of 2 visits" in response.text, response.text[-3000:]
    for table in TABLES:
        original = rows_of(manager.get(f"/analytics/export/{table}.csv?{DAY}"))
        assert rows_of(client.get(f"/analytics/export/{table}.csv?{DAY}")) == original, table
    again = upload(client, events.content)  # the same visits twice: refused, line by line
    assert again.status_code == 422 and "in the database already" in again.text


def test_an_export_sorted_by_time_and_event_with_a_repeated_row(manager, history, second_app):
    """Issue 13: rows sorted by `timestamp, event` (called before queued in one second) and a
    repeated row give the original tables; the repeat is listed with its line."""
    lines = manager.get(f"/analytics/export/events.csv?{DAY}").content.decode(
        "utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    names = header.split(",")
    at, event = names.index("timestamp"), names.index("event")
    rows.sort(key=lambda line: (line.split(",")[at], line.split(",")[event]))
    rows.append(rows[3])
    client, _engine = second_app
    response = upload(client, "\n".join([header, *rows]).encode())
    assert response.status_code == 200, response.text[-3000:]
    assert "Imported 29 events of 2 visits" in response.text
    assert "1 rows repeated an earlier row" in response.text
    assert f"Line {len(rows) + 1}: This row repeats line 5; it was counted once." in response.text
    for table in TABLES:
        original = rows_of(manager.get(f"/analytics/export/{table}.csv?{DAY}"))
        assert rows_of(client.get(f"/analytics/export/{table}.csv?{DAY}")) == original, table


BAD_FILE = """visit,ticket,office,service,step,event,timestamp,counter,task,staff
v1,A-001,test,residents,受付,issued,2026-04-06T09:00:00+09:00,,,
v1,A-001,test,residents,受付,queued,2026-04-06 09:00,,,
v1,A-001,test,dentist,,called,2026-04-06T09:05:00+09:00,1,,
v1,A-001,test,residents,,started,2026-04-06T09:06:00+09:00,1,,counter-staff-1
,,test,,,counter_opened,2026-04-06T08:55:00+09:00,,,
v2,A-002,test,residents,,wandered,2026-04-06T09:07:00+09:00,1,,
v2,A-002,test,residents,,done,2026-04-06T09:08:00+09:00,1,,nobody
"""


def count_rows(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Visits and events in a database."""
    with database.session_scope(engine) as session:
        return (session.exec(select(func.count()).select_from(Visit)).one(),
                session.exec(select(func.count()).select_from(Event)).one())


def test_bad_import_lists_every_line_and_imports_nothing(second_app):
    """Each wrong row is reported by line number; the good rows are not imported either."""
    client, engine = second_app
    before = count_rows(engine)
    response = upload(client, BAD_FILE.encode())
    assert response.status_code == 422
    html = response.text
    for line, fragment in [(3, "is not ISO 8601 with an offset"),
                           (4, "Unknown service &#39;dentist&#39;"),
                           (6, "counter is required for counter_opened events"),
                           (7, "Unknown event type &#39;wandered&#39;"),
                           (8, "Unknown staff account &#39;nobody&#39;")]:
        assert f"Line {line}: " in html and fragment in html, (line, fragment)
    for good in (2, 5):
        assert f"Line {good}:" not in html
    assert count_rows(engine) == before


@pytest.mark.parametrize(("data", "fragment"), [
    (b"when,what\n1,2\n", "Line 1: The header must name the columns"),
    (b"office,event,timestamp\n", "Line 1: The file has no events."),
    (b"", "Line 1: The file is empty."),
    (b"office,event,timestamp\n" + b"x" * 200_000 + b"\n", "Line 2: This line is not valid CSV"),
    ("office,event,timestamp\nテスト,issued,x\n".encode("shift_jis"), "is not UTF-8"),
    (b"office,event,timestamp\ntest,counter_closed\n", "Line 2: This row has 2 fields"),
])
def test_unreadable_files_are_refused(second_app, data, fragment):
    """Wrong header, no rows, an empty file, another encoding, a short row, a huge field:
    refused on the import form (never an error page), with the line."""
    client, engine = second_app
    before = count_rows(engine)
    response = upload(client, data)
    assert response.status_code == 422
    assert fragment in response.text
    assert 'name="file"' in response.text  # the form again, to choose another file
    assert count_rows(engine) == before


def test_only_admins_import(manager, staff_client):
    """Managers read analytics; importing history is an admin's job."""
    assert manager.get("/analytics/import").status_code == 403
    assert upload(staff_client, b"x").status_code == 403
    assert upload(manager, b"x").status_code == 403


def test_import_form_shows_the_schema(admin_client):
    """The form lists the columns of the file."""
    page = admin_client.get("/analytics/import")
    assert page.status_code == 200
    for column in ("visit", "ticket", "office", "service", "step", "event", "timestamp",
                   "counter"):
        assert f"<code>{column}</code>" in page.text
