"""Backups and restores (`frontyard backup`, `frontyard restore`), as an operator runs them:
real `frontyard serve` processes, a `kill -9`, the commands in fresh processes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from composition.demo import seed_structure
from composition.factory import create_app
from counter.queue import issue_ticket
from counter.restored_numbers import TicketNumbers
from frontyard import PROJECT_ROOT, database
from frontyard.backup import BackupError, backup, restore
from frontyard.service_lock import ServiceLocked, hold_for_restore
from frontyard.settings import Settings
from tests.conftest import POSTGRES_ENV, skip_or_fail
from tests.processes import Processes, issue, seed


def frontyard(data_dir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a `frontyard` command in a fresh process."""
    env = {**os.environ, "FRONTYARD_DATA_DIR": str(data_dir),
           "FRONTYARD_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "composition.cli", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def own_postgres(worker_id: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own (a restore drops and creates tables)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        skip_or_fail(f"PostgreSQL restore skipped: set {POSTGRES_ENV} to a reachable server "
                     "(pg_dump and pg_restore on PATH)")
    assert base is not None
    import psycopg

    url = make_url(base)
    name = f"frontyard_restore_{worker_id}_{os.getpid()}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that does not exist yet (SQLite) or is empty (PostgreSQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'frontyard.sqlite3'}"
    return str(request.getfixturevalue("own_postgres"))


def visits(url: str) -> list[str]:
    """The ticket numbers in the database, in order."""
    engine = database.make_engine(Settings(database_url=url).resolved_database_url())
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT ticket_number FROM visit ORDER BY ticket_number")).scalars())
    finally:
        engine.dispose()


def test_restore_round_trip_after_kill_9(fresh_url: str, tmp_path: Path) -> None:
    """Tickets, a backup while serving, more tickets, a `kill -9`: the restore brings back
    exactly the backup's data, sound, and the next ticket follows the last one printed."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    assert frontyard(data, fresh_url, "db", "upgrade").returncode == 0
    world = seed(fresh_url, kiosks=1, staff=1)
    service = sorted(world["services"])[0]
    processes = Processes(fresh_url, data)
    try:
        worker = processes.start_worker()
        client = processes.keep(httpx2.Client(base_url=worker.url, timeout=30))
        backed_up = [issue(client, world["kiosks"][0], [service])["ticket_number"]
                     for _ in range(3)]
        saved = frontyard(data, fresh_url, "backup", "--output", str(tmp_path / "saved"))
        assert saved.returncode == 0, saved.stderr
        lost = [issue(client, world["kiosks"][0], [service])["ticket_number"] for _ in range(4)]

        refused = frontyard(data, fresh_url, "restore", str(tmp_path / "saved"))
        assert refused.returncode == 2
        assert "The service is running" in refused.stderr
        assert visits(fresh_url) == sorted(backed_up + lost)

        processes.kill(worker)  # mid-day crash: no shutdown, SQLite's log left behind
        if fresh_url.startswith("sqlite"):
            wal = Path(f"{make_url(fresh_url).database}-wal")
            assert wal.stat().st_size > 0, "the crash should leave a write-ahead log"

        restored = frontyard(data, fresh_url, "restore", str(tmp_path / "saved"))
        assert restored.returncode == 0, restored.stderr
        assert f"tickets {lost[0]} to {lost[-1]} were issued today after the backup" \
            in restored.stderr
        assert visits(fresh_url) == sorted(backed_up)
        if fresh_url.startswith("sqlite"):
            with sqlite3.connect(make_url(fresh_url).database or "") as check:
                assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

        worker = processes.start_worker()
        client = processes.keep(httpx2.Client(base_url=worker.url, timeout=30))
        prefix, last = lost[-1].split("-")
        assert issue(client, world["kiosks"][0], [service])["ticket_number"] == \
            f"{prefix}-{int(last) + 1:03d}"
        assert visits(fresh_url) == sorted([*backed_up, f"{prefix}-{int(last) + 1:03d}"])
    finally:
        processes.close()


def test_restore_refuses_while_an_app_serves(settings: Settings, tmp_path: Path) -> None:
    """An app in its lifespan holds the lock; a restore meanwhile changes nothing."""
    url = settings.resolved_database_url()
    target = backup(url, tmp_path / "copy")
    with TestClient(create_app(settings)), \
            pytest.raises(ServiceLocked, match="The service is running"):
        restore(url, target, TicketNumbers(settings.tz))
    restore(url, target, TicketNumbers(settings.tz))  # stopped: restores


def test_the_service_does_not_start_during_a_restore(settings: Settings) -> None:
    """A worker starting while a restore holds the lock refuses with a clear message."""
    with hold_for_restore(settings.resolved_database_url()):
        client = TestClient(create_app(settings))
        with pytest.raises(ServiceLocked, match="A restore of the database is under way"):
            client.__enter__()


def _world_with_tickets(url: str, count: int) -> list[str]:
    """The demo structure and `count` tickets at its first service; their numbers."""
    engine = database.make_engine(url)
    try:
        with database.session_scope(engine) as session:
            office = seed_structure(session)
            return [issue_ticket(session, office_id=office.id or 0,  # flushed: has an id
                                 service_codes=["residents"]).ticket_number
                    for _ in range(count)]
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated) -> str:  # type: ignore[no-untyped-def]
    """A migrated SQLite database in tmp_path."""
    return f"sqlite:///{migrated(tmp_path)}"


def test_a_damaged_live_database_is_moved_aside(sqlite_url: str, tmp_path: Path) -> None:
    """A database SQLite cannot open is kept aside; today's numbers then skip as told."""
    numbers = _world_with_tickets(sqlite_url, 2)
    target = backup(sqlite_url, tmp_path / "copy")
    live = Path(make_url(sqlite_url).database or "")
    live.write_bytes(b"not a database at all" * 100)
    restored = restore(sqlite_url, target, TicketNumbers(Settings().tz, skip=10))
    assert any("tickets issued today after the backup are unknown" in note
               for note in restored.notes)
    assert any("moved to" in note for note in restored.notes)
    assert list(tmp_path.glob("frontyard.sqlite3.damaged-*"))
    assert visits(sqlite_url) == numbers
    prefix = numbers[0].split("-")[0]
    assert f"the next {prefix} ticket today is {prefix}-013." in " ".join(restored.notes)


def test_a_damaged_backup_is_refused_and_nothing_changes(sqlite_url: str, tmp_path: Path) -> None:
    """A backup failing SQLite's integrity check is refused before anything is replaced."""
    numbers = _world_with_tickets(sqlite_url, 3)
    target = backup(sqlite_url, tmp_path / "copy")
    damaged = bytearray(target.read_bytes())
    page = 4096
    for offset in range(2 * page, len(damaged) - page, page):  # every table page's header
        damaged[offset:offset + 8] = b"\xff" * 8
    target.write_bytes(bytes(damaged))
    _world_with_tickets(sqlite_url, 1)
    with pytest.raises(BackupError, match=r"damaged|not a usable"):
        restore(sqlite_url, target, TicketNumbers(Settings().tz))
    assert len(visits(sqlite_url)) == len(numbers) + 1


def test_a_file_that_is_no_backup_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    """Not a database, no file at all, a database of something else: clear refusals."""
    junk = tmp_path / "junk"
    junk.write_text("hello")
    with pytest.raises(BackupError, match="not a usable SQLite backup"):
        restore(sqlite_url, junk, TicketNumbers(Settings().tz))
    with pytest.raises(BackupError, match="No backup file"):
        restore(sqlite_url, tmp_path / "missing", TicketNumbers(Settings().tz))
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not a Frontyard database"):
        restore(sqlite_url, other, TicketNumbers(Settings().tz))


def test_postgres_without_client_programs_or_server_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pg_dump on PATH, no server: messages saying so, no traceback."""
    monkeypatch.setenv("PATH", str(tmp_path))
    result = frontyard(tmp_path, "postgresql://nobody@127.0.0.1:1/none", "backup")
    assert result.returncode == 2
    assert "pg_dump is not installed" in result.stderr and "Traceback" not in result.stderr
    archive = tmp_path / "frontyard.dump"
    archive.write_bytes(b"PGDMP")
    result = frontyard(tmp_path, "postgresql://nobody@127.0.0.1:1/none", "restore", str(archive))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Cannot open the database to restore it" in result.stderr


def test_a_backup_of_yesterday_gets_todays_numbers(sqlite_url: str, tmp_path: Path) -> None:
    """Restoring last night's backup at noon: today's sequence, absent from the backup, is
    created past the numbers issued this morning; a quiet day changes nothing."""
    noon = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
    engine = database.make_engine(sqlite_url)
    try:
        with database.session_scope(engine) as session:
            office = seed_structure(session)
            issue_ticket(session, office_id=office.id or 0, service_codes=["residents"],
                         now=noon - timedelta(days=1))
        target = backup(sqlite_url, tmp_path / "last-night")
        with database.session_scope(engine) as session:
            morning = [issue_ticket(session, office_id=office.id or 0,
                                    service_codes=["residents"], now=noon).ticket_number
                       for _ in range(5)]
    finally:
        engine.dispose()
    numbers = TicketNumbers(Settings().tz, now=lambda: noon)
    restored = restore(sqlite_url, target, numbers)
    assert f"tickets {morning[0]} to {morning[-1]} were issued today" in " ".join(restored.notes)
    assert "the next A ticket today is A-006." in " ".join(restored.notes)
    again = restore(sqlite_url, target, TicketNumbers(Settings().tz,
                                                      now=lambda: noon + timedelta(days=3)))
    assert again.notes == ["No ticket was issued today, neither in the backup nor since: "
                           "today's numbering is unchanged."]
