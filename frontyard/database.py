"""The database: engine set-up for SQLite and PostgreSQL, sessions, and Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Session, create_engine

from frontyard.writer_turns import begin_turn, end_turn, take_turns

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store aware datetimes as UTC; a naive one is a programming error."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Attach UTC to what SQLite hands back naive."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class DatabaseNotMigrated(RuntimeError):
    """The schema is missing or older than this code; `frontyard db upgrade` fixes it."""


def make_engine(url: str, *, background_checkpoints: bool = False) -> Engine:
    """An engine tuned for the backend: WAL, foreign keys and a busy timeout on SQLite.

    With `background_checkpoints` (the serving app, which runs `checkpoint` every
    `CHECKPOINT_INTERVAL` seconds), SQLite's commits never checkpoint on their own."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _configure_sqlite_connection)
        # pysqlite's own transaction handling defers BEGIN; take it over so that
        # `begin_immediate` can serialise writers explicitly.
        event.listen(engine, "begin", _begin_sqlite)
        take_turns(engine, timeout=30)  # this process's writers queue first come, first served
        if background_checkpoints:
            event.listen(engine, "connect", _no_automatic_checkpoints)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    event.listen(engine, "before_cursor_execute", _refuse_nul_characters)
    return engine


#: Execution option of a bulk statement whose text values were all checked for NUL before (the
#: rows of an import file): the guard does not walk its parameters again.
NUL_CHECKED = "frontyard_nul_checked"


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return False
    # Checked on every statement: skip numbers (long IN lists of ids) without a call each.
    return any(_holds_nul(item) for item in value if type(item) is not int)


def _refuse_nul_characters(_connection: Any, _cursor: Any, _statement: str, parameters: Any,
                           context: Any, _executemany: bool) -> None:
    """Refuse text with a NUL character before it reaches the database.

    PostgreSQL cannot store or even compare it (the driver raises, which would be a 500), and
    no legitimate input has one: anything a user types or posts with one is refused, on both
    databases alike, as invalid input (422) and the transaction rolls back. A statement run
    with the `NUL_CHECKED` option vouches for its values instead: walking every value of a
    bulk insert cost an import 12 % of its time.
    """
    if context is not None and context.execution_options.get(NUL_CHECKED):
        return
    if _holds_nul(parameters):
        from frontyard.exceptions import ValidationFailed
        from frontyard.i18n import gettext as _

        raise ValidationFailed(_("The text contains a character that cannot be stored (NUL)."))


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings that make it safe for a busy multi-threaded service."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def plain_rows(session: Session, statement: Any, params: dict[str, Any]) -> Any:
    """The rows of a prebuilt Core statement, run on the session's connection: the ORM's own
    work per statement (≈ 150 µs) skipped, for reads that run on every change. Pending
    changes are flushed first, as the ORM's queries would do."""
    session.flush()
    return session.connection().execute(statement, params)


#: How often the serving app copies SQLite's write-ahead log into the database (seconds).
CHECKPOINT_INTERVAL = 2.0


def _no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    """By default the commit that fills the log past 1,000 pages copies it into the database
    file and waits for the disk: a staff action now and then took 5–100 ms longer. The
    serving app checkpoints from a background thread instead (`checkpoint`)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def checkpoint(engine: Engine) -> tuple[int, int]:
    """Copy SQLite's write-ahead log into the database file as far as readers allow, without
    waiting for anyone (PASSIVE; the rest goes next time). Returns the pages in the log and
    those copied so far."""
    connection = engine.raw_connection()  # no transaction: a checkpoint cannot run in one
    try:
        cursor = connection.cursor()
        _busy, pages, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        cursor.close()
        return int(pages), int(copied)
    finally:
        connection.close()


#: Execution option of connections that only read (see `read_session`).
READ_ONLY = "frontyard_read_only"


def _begin_sqlite(connection: Any) -> None:
    """Start every SQLite transaction as IMMEDIATE: writers queue at BEGIN (this process's
    in the order they came, `frontyard.writer_turns`), never deadlock later. Read-only work
    begins a deferred transaction instead: in WAL mode it reads a snapshot without taking
    the write lock, so screens and reports never hold up writers."""
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        begin_turn(connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            end_turn(connection)
            raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for work that only reads (live screens, reports), on one snapshot.

    On SQLite its transaction is deferred, so it neither waits for nor blocks the queue's
    writers (WAL readers see the snapshot of their first read). On PostgreSQL, where MVCC
    already keeps readers and writers apart, it is a read-only REPEATABLE READ transaction,
    so the several queries of one screen see the same moment too.
    """
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with Session(engine.execution_options(**options)) as session:
        yield session


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this package's migrations against the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema up to the given revision."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run against a database whose schema is not at the head revision."""
    current = current_revision(engine)
    if current != head_revision():
        state = "is empty (never migrated)" if current is None else f"is at revision {current}"
        raise DatabaseNotMigrated(
            f"The database {engine.url.render_as_string(hide_password=True)} {state}; "
            f"this version needs revision {head_revision()}. Run `frontyard db upgrade` first."
        )


def is_reachable(engine: Engine) -> bool:
    """Whether a trivial query succeeds (for /healthz)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def enum_column(enum_class: type[Any], *, nullable: bool = False, index: bool = False) -> Any:
    """A column that stores a StrEnum's values as plain strings (no native enum type to migrate)."""
    from sqlalchemy import Column, Enum

    return Column(
        Enum(enum_class, native_enum=False, length=24, create_constraint=False,
             values_callable=lambda members: [member.value for member in members]),
        nullable=nullable,
        index=index,
    )
