"""The database layer: migrations, the un-migrated refusal, SQLite tuning, UTC timestamps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import select
from starlette.testclient import TestClient

from composition.factory import create_app
from composition.schema import metadata
from frontyard import database
from frontyard.auth import Role, User, create_user
from frontyard.settings import Settings


def test_migrations_match_the_models(engine):
    """The migrated schema equals the models: autogenerate would find nothing to do."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, metadata())
    assert differences == []


def test_database_is_at_head(engine):
    """Test databases are migrated to the newest revision."""
    assert database.current_revision(engine) == database.head_revision()


def test_unmigrated_database_refuses_to_start(tmp_path):
    """The app will not start on an empty database and says what to run."""
    settings = Settings(data_dir=tmp_path, secret_key="k")
    app = create_app(settings)
    with pytest.raises(database.DatabaseNotMigrated, match="frontyard db upgrade"), \
            TestClient(app):
        pass


def test_upgrade_creates_schema_from_nothing(tmp_path):
    """`db upgrade` on a new file gives a working database."""
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    database.upgrade(url)
    engine = database.make_engine(url)
    database.ensure_migrated(engine)
    engine.dispose()


def test_sqlite_connections_are_tuned(tmp_path):
    """WAL, foreign keys and a busy timeout on every SQLite connection."""
    engine = database.make_engine(f"sqlite:///{tmp_path / 't.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    engine.dispose()


def test_the_serving_app_checkpoints_sqlite_in_the_background(tmp_path, monkeypatch):
    """Commits of the app's engine never checkpoint (a staff action never waits for the
    disk); a background task does, and copies the whole log when nobody reads."""
    url = f"sqlite:///{tmp_path / 'frontyard.sqlite3'}"
    database.upgrade(url)
    plain = database.make_engine(url)
    with plain.connect() as connection:
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
    plain.dispose()
    calls: list[tuple[int, int]] = []
    real_checkpoint = database.checkpoint

    def recorded(engine):  # type: ignore[no-untyped-def]
        calls.append(real_checkpoint(engine))
        return calls[-1]

    monkeypatch.setattr(database, "CHECKPOINT_INTERVAL", 0.05)
    monkeypatch.setattr(database, "checkpoint", recorded)
    app = create_app(Settings(data_dir=tmp_path, secret_key="k"))
    with TestClient(app):
        engine = app.state.engine
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        with database.session_scope(engine) as session:
            create_user(session, "checkpointed", "a long enough password", Role.STAFF)
        deadline = datetime.now(UTC) + timedelta(seconds=5)
        while not any(pages and copied == pages for pages, copied in calls):
            assert datetime.now(UTC) < deadline, calls
            time.sleep(0.02)


def test_foreign_keys_are_enforced(engine):
    """A row pointing at nothing is refused on both backends."""
    from sqlalchemy.exc import IntegrityError

    from counter.models import Counter

    with pytest.raises(IntegrityError), database.session_scope(engine) as session:
        session.add(Counter(office_id=999, number="1"))


def test_timestamps_come_back_aware_utc(engine):
    """Whatever the backend, timestamps are read back as aware UTC."""
    tokyo = timezone(timedelta(hours=9))
    with database.session_scope(engine) as session:
        user = create_user(session, "tz", "password-123", Role.STAFF)
        user.created_at = datetime(2026, 4, 1, 9, 0, tzinfo=tokyo)
    with database.session_scope(engine) as session:
        stored = session.get(User, user.id)
        assert stored.created_at == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
        assert stored.created_at.tzinfo is not None


def test_naive_timestamps_are_refused(engine):
    """A naive datetime is a bug, caught before it is stored."""
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError), database.session_scope(engine) as session:
        user = create_user(session, "naive", "password-123", Role.STAFF)
        user.created_at = datetime(2026, 4, 1, 9, 0)
        session.flush()


def test_session_scope_rolls_back_on_error(engine):
    """Nothing half-written survives an exception."""
    with pytest.raises(RuntimeError), database.session_scope(engine) as session:
        create_user(session, "ghost", "password-123", Role.STAFF)
        raise RuntimeError("fail after the write")
    with database.session_scope(engine) as session:
        assert session.exec(select(User).where(User.username == "ghost")).first() is None


def test_a_read_session_never_holds_up_a_writer(engine):
    """Screens and reports read in a session that does not take SQLite's write lock: a writer
    commits while the read transaction is open, and the reader keeps its snapshot."""
    import threading

    with database.session_scope(engine) as session:
        create_user(session, "before", "password-123", Role.STAFF)
    committed = threading.Event()

    def write() -> None:
        with database.session_scope(engine) as session:
            create_user(session, "during", "password-123", Role.STAFF)
        committed.set()

    with database.read_session(engine) as reader:
        names = set(reader.exec(select(User.username)))  # the read transaction is open now
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=10)
        assert committed.is_set(), "the writer waited for the read session"
        assert set(reader.exec(select(User.username))) == names  # still its snapshot
    with database.read_session(engine) as reader:
        assert "during" in set(reader.exec(select(User.username)))


def test_healthz_reports_unreachable_database(tmp_path):
    """/healthz is 503 when the database cannot be reached."""
    unreachable = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    settings = Settings(database_url=unreachable, data_dir=tmp_path, secret_key="k",
                        check_migrations=False)
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_visits_get_distinct_public_ids_when_migrated(database_url):
    """Migration 0006 gives every existing visit its own unguessable public id (a unique
    index), new visits get one too, and it reverts cleanly."""
    from alembic import command

    from counter.models import Visit

    url = Settings(database_url=database_url).resolved_database_url()
    config = database.alembic_config(url)
    command.downgrade(config, "0005")
    engine = database.make_engine(url)
    try:
        with engine.begin() as connection:  # rows as revision 0005 knew them, no ORM
            connection.execute(text("INSERT INTO office (code, names) VALUES ('old', '{}')"))
            office_id = connection.execute(text("SELECT id FROM office")).scalar_one()
            for number in range(3):
                connection.execute(text(
                    "INSERT INTO visit (office_id, ticket_number, ticket_day, status_token, "
                    "locale, priority, issued_at) VALUES (:office, :number, :day, :token, 'ja', "
                    "false, :at)"), {"office": office_id, "number": f"A-{number}",
                                     "day": datetime(2026, 4, 1).date(), "token": f"t{number}",
                                     "at": datetime(2026, 4, 1, tzinfo=UTC)})
        command.upgrade(config, "head")
        with engine.connect() as connection:
            ids = connection.execute(text("SELECT public_id FROM visit")).scalars().all()
        assert len(ids) == len(set(ids)) == 3 and all(len(public) >= 20 for public in ids)
        with database.session_scope(engine) as session:
            fresh = Visit(office_id=office_id, ticket_number="A-9",
                          ticket_day=datetime(2026, 4, 1).date(), status_token="t9")
            session.add(fresh)
            session.flush()
            assert fresh.public_id not in ids and len(fresh.public_id) >= 20
        command.downgrade(config, "0005")
        command.upgrade(config, "head")
    finally:
        command.upgrade(config, "head")  # the PostgreSQL database is shared by later tests
        engine.dispose()
