"""The import's worker process counts what the importing process would, the import does without
it when it cannot help, and a wrong row found after visits were written undoes them all
(analytics/import_facts.py, through `import_events` on SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from analytics import import_facts, importer
from analytics.bulk_insert import Inserting
from analytics.importer import ImportRejected, import_events
from counter.models import Event, Visit
from frontyard.i18n import use_locale
from tests.analytics_log import TOKYO
from tests.test_import_order import HEADER, rollups_after

START = datetime(2026, 4, 6, 9, 0, tzinfo=TOKYO)


def history(visits: int) -> list[list[str]]:
    """A day of one counter and `visits` visits: waits, a no-show that returns, a repeated row."""
    at = START.isoformat()
    rows = [["", "", "test", "residents;insurance", "", "counter_opened", at, "1", "",
             "counter-staff-1"]]
    for number in range(visits):
        issued = START + timedelta(minutes=number)
        visit, ticket = f"v{number}", f"A-{number:03d}"
        events = ["issued", "queued", "called"] + (["no_show", "returned", "called"]
                                                   if number % 5 == 0 else []) + [
            "started", "done", "visit_closed"]
        for step, event in enumerate(events):
            # Some visits' events share a second (a no-show's second call must not).
            pace = number % 3 + (1 if number % 5 == 0 else 0)
            at = (issued + timedelta(seconds=30 * step * pace)).isoformat()
            counter = "1" if event in {"called", "started", "done", "no_show"} else ""
            rows.append([visit, ticket, "test", "residents", "", event, at, counter,
                         "" if event in {"issued", "visit_closed"} else "t1",
                         "counter-staff-1" if counter else ""])
    rows.append(rows[3])
    rows.append(["", "", "test", "", "", "counter_closed",
                 (START + timedelta(hours=5)).isoformat(), "1", "", ""])
    return rows


def csv_of(rows: list[list[str]]) -> bytes:
    """The rows as an import file, sorted by time as exports are."""
    rows = sorted(rows, key=lambda row: row[6])
    return ("\n".join([HEADER, *(",".join(row) for row in rows)]) + "\n").encode()


@pytest.fixture
def data() -> bytes:
    """A file of 40 visits."""
    return csv_of(history(40))


def imported(engine, stream: Any) -> tuple[Any, dict[str, list[Any]]]:  # type: ignore[no-untyped-def]
    """`rollups_after` for a stream or a file's path."""
    if isinstance(stream, Path):
        with stream.open("rb") as file:
            return rollups_after(engine, file)  # type: ignore[arg-type]
    return rollups_after(engine, stream)


def test_a_worker_counts_what_the_importer_counts(engine, world, data, tmp_path, monkeypatch):
    """From a file, or an upload copied to one: the same rollups as counted in-process."""
    expected_result, expected = rollups_after(engine, data)  # too small for a worker
    assert expected_result.repeats == 1 and any(expected.values())
    path = tmp_path / "events.csv"
    path.write_bytes(data)
    monkeypatch.setattr(import_facts, "WORKER_BYTES", 0)
    found = []
    original = import_facts.Worker.deltas
    monkeypatch.setattr(import_facts.Worker, "deltas",
                        lambda self: found.append(original(self)) or found[-1])
    for stream in (path, io.BytesIO(data)):
        result, tables = imported(engine, stream)
        assert found.pop() is not None  # the worker's changes were used
        assert tables == expected
        assert (result.events, result.visits, result.repeats) == (
            expected_result.events, expected_result.visits, 1)


def test_without_a_worker_the_importer_counts_alone(engine, world, data, monkeypatch):
    """No process could start, or it failed: the same rollups all the same."""
    _result, expected = rollups_after(engine, data)
    monkeypatch.setattr(import_facts, "WORKER_BYTES", 0)

    def cannot_start(*_args: Any) -> None:
        raise OSError("no more processes")

    with monkeypatch.context() as patched:
        patched.setattr(import_facts.Worker, "__init__", cannot_start)
        assert rollups_after(engine, data)[1] == expected
    with monkeypatch.context() as patched:
        patched.setattr(import_facts, "__name__", "analytics.no_such_module")  # exits at once
        assert rollups_after(engine, data)[1] == expected


def test_a_wrong_row_after_written_visits_undoes_them(engine, world, monkeypatch):
    """Visits are written as they are read; a wrong row or a ticket taken later in the file
    undoes them, and the caller's session goes on (the writes were in a savepoint)."""
    monkeypatch.setattr(importer, "BATCH_VISITS", 2)
    rows = history(10)
    wrong = [*rows, ["v99", "A-099", "test", "residents", "", "issued", "2026-04-06T17:00",
                     "", "", ""]]
    taken = [*rows, ["v98", "A-001", "test", "residents", "", "issued",
                     (START + timedelta(hours=7)).isoformat(), "", "", ""]]
    with use_locale("en"), Session(engine) as session:
        before = (session.scalar(select(func.count()).select_from(Visit)),
                  session.scalar(select(func.count()).select_from(Event)))
        first = csv_of(taken).decode().splitlines().index(
            ",".join(next(row for row in rows if row[0] == "v1"))) + 1
        for data, message in [(wrong, "is not ISO 8601"),
                              (taken, f"used by another visit on line {first}")]:
            with pytest.raises(ImportRejected) as rejected:
                import_events(session, csv_of(data), "Asia/Tokyo")
            # The wrong row is the file's last, after several batches of visits were written.
            assert [(problem.line, message in problem.message)
                    for problem in rejected.value.problems] == [(len(data) + 1, True)]
            assert (session.scalar(select(func.count()).select_from(Visit)),
                    session.scalar(select(func.count()).select_from(Event))) == before
        session.rollback()


def test_a_failed_insert_in_its_thread_is_raised_by_the_next_wait():
    """The batches' inserts run in a thread; their error reaches the importer, once."""
    inserting = Inserting()
    written: list[list[int]] = []

    def fail(_rows: list[int]) -> None:
        raise RuntimeError("disk full")

    inserting.start(written.append, [1], fail, [2], written.append, [3])
    with pytest.raises(RuntimeError, match="disk full"):
        inserting.wait()
    assert written == [[1]]
    inserting.wait()
