"""Backups and restores of the whole database: SQLite's backup API, PostgreSQL's pg_dump.

A restore never copies a file over the live database: on SQLite the backup is copied *into*
it through SQLite's backup API, so the live database's write-ahead log (left behind by a
crash) is SQLite's to settle and can never be replayed on top of the restored data. Both
backends check the backup first, refuse while the service runs (`frontyard.service_lock`),
and replace the data in one transaction: a failed restore leaves the database as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from frontyard import database
from frontyard.service_lock import ServiceLocked, hold_for_restore

#: How long pg_restore waits for another session's table lock before giving up.
PG_LOCK_TIMEOUT = "30s"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


class Carryover(Protocol):
    """What a restore keeps from the database it replaces (today's ticket numbers)."""

    def read(self, connection: Connection) -> object:
        """Read it from the database about to be replaced."""

    def apply(self, connection: Connection, previous: object | None, why_unknown: str) -> list[str]:
        """Apply it to the restored data (`previous` None: unreadable, `why_unknown` says
        why); returns notes for the operator."""


@dataclass
class Restored:
    """What a restore did."""

    source: Path
    revision: str
    notes: list[str] = field(default_factory=list)


def is_sqlite(url: str) -> bool:
    """Whether the URL is a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def default_backup_path(url: str, data_dir: Path, now: datetime) -> Path:
    """`<data_dir>/backups/frontyard-<UTC time>.sqlite3` (or `.dump` for PostgreSQL)."""
    suffix = "sqlite3" if is_sqlite(url) else "dump"
    return data_dir / "backups" / f"frontyard-{now:%Y%m%dT%H%M%SZ}.{suffix}"


def backup(url: str, target: Path) -> Path:
    """Write a consistent backup of the database while the service runs; returns `target`.

    It is written under a temporary name and renamed when complete, so a file with the
    final name is always a whole backup."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if is_sqlite(url):
            _backup_sqlite(_sqlite_file(url), partial)
        else:
            _run_pg("pg_dump", url, ["--format=custom", f"--file={partial}"])
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(url: str, source: Path, carryover: Carryover) -> Restored:
    """Replace the database's contents with the backup in `source` (service stopped)."""
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    try:
        lock = hold_for_restore(url)
    except ServiceLocked:
        raise
    except Exception as error:  # unreachable server, bad credentials, unwritable folder…
        raise BackupError(f"Cannot open the database to restore it: {error}") from error
    with lock:
        if is_sqlite(url):
            return _restore_sqlite(_sqlite_file(url), source, carryover)
        return _restore_pg(url, source, carryover)


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_file(url: str) -> Path:
    """The database file of a SQLite URL."""
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing to back up or restore.")
    return Path(name)


def _connect(path: Path) -> sqlite3.Connection:
    """A plain connection that waits for writers rather than failing at once."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _backup_sqlite(live: Path, target: Path) -> None:
    """Copy with SQLite's online backup (consistent while others write) into one file."""
    if not live.is_file():
        raise BackupError(f"No database at {live}: nothing to back up.")
    with closing(_connect(live)) as source, closing(_connect(target)) as copy:
        source.backup(copy)
        # A rollback-journal file stands alone: no -wal beside it that could get lost.
        copy.execute("PRAGMA journal_mode=DELETE")


def _integrity_problems(connection: sqlite3.Connection) -> list[str]:
    """What `PRAGMA integrity_check` finds (empty: sound)."""
    rows = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows


def _known_revision(revision: str | None, what: str) -> str:
    """`revision` when this code's migrations know it, else a refusal naming `what`."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if not revision:
        raise BackupError(f"{what} is not a Frontyard database (no migration revision).")
    try:
        known = ScriptDirectory.from_config(database.alembic_config("sqlite://")).get_revision(
            revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(f"{what} is at revision {revision!r}, which this version of Frontyard "
                          "does not know: restore it with the version that made it.")
    return revision


def _checked_revision(connection: Connection, what: str) -> str:
    """The migration revision of a Frontyard database, or a refusal naming `what`."""
    try:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        revision = None
    return _known_revision(revision, what)


def _restore_sqlite(live: Path, source: Path, carryover: Carryover) -> Restored:
    """Stage the backup beside the database, adjust it, then copy it in with the backup API."""
    staging = live.with_name(live.name + ".restoring")
    staging.unlink(missing_ok=True)
    try:
        try:
            with closing(_connect(source)) as backup_file, closing(_connect(staging)) as copy:
                backup_file.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
                problems = _integrity_problems(copy)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is not a usable SQLite backup: {error}.") from error
        if problems:
            raise BackupError(f"{source} is damaged (integrity check: {'; '.join(problems[:5])})"
                              "; nothing was restored. Try an older backup.")
        previous, why_unknown = _read_previous(f"sqlite:///{live}", live.is_file(), carryover)
        engine = create_engine(f"sqlite:///{staging}", poolclass=NullPool)
        try:
            with engine.begin() as connection:
                revision = _checked_revision(connection, str(source))
                notes = carryover.apply(connection, previous, why_unknown)
        finally:
            engine.dispose()
        notes += _copy_into_live(staging, live)
    finally:
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + "-journal").unlink(missing_ok=True)
    return Restored(source, revision, notes)


def _copy_into_live(staging: Path, live: Path) -> list[str]:
    """Overwrite the live database with the staged one in one write transaction.

    A live database SQLite cannot open (the reason for some restores) is moved aside, with
    its -wal and -shm, and the backup becomes a fresh file."""
    notes = []
    try:
        _backup_api_copy(staging, live)
    except sqlite3.DatabaseError as error:
        aside = live.with_name(f"{live.name}.damaged-{database.utcnow():%Y%m%dT%H%M%SZ}")
        for suffix in ("", "-wal", "-shm"):
            with suppress(FileNotFoundError):
                os.replace(f"{live}{suffix}", f"{aside}{suffix}")
        notes.append(f"The database could not be opened ({error}); it was moved to {aside}.")
        _backup_api_copy(staging, live)
    return notes


def _backup_api_copy(staging: Path, live: Path) -> None:
    """Copy `staging` into `live` through SQLite, then check the result and settle the log."""
    with closing(_connect(staging)) as source, closing(_connect(live)) as target:
        target.execute("PRAGMA journal_mode=WAL")  # what the service uses; settles a hot log
        source.backup(target)
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        problems = _integrity_problems(target)
    if problems:
        raise BackupError(f"The restored database at {live} fails its integrity check: "
                          f"{'; '.join(problems[:5])}.")


def _read_previous(url: str, exists: bool, carryover: Carryover) -> tuple[object | None, str]:
    """What the carryover reads from the database about to be replaced, or why it cannot."""
    if not exists:
        return None, "there was no database to read them from"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return carryover.read(connection), ""
    except (SQLAlchemyError, sqlite3.DatabaseError) as error:
        first_line = str(error).splitlines()[0]
        return None, f"the database being replaced could not be read ({first_line})"
    finally:
        engine.dispose()


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program, or a refusal saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (not found on PATH): install PostgreSQL's "
                          "client programs, the same major version as the server or newer "
                          "(Debian/Ubuntu: apt install postgresql-client).")
    return found


def _run_pg(tool: str, url: str | None, arguments: list[str]) -> str:
    """Run pg_dump or pg_restore against the database (password in the environment, never
    on the command line); returns its output or raises with its error output."""
    command = [_pg_tool(tool), *arguments]
    env = {**os.environ, "PGOPTIONS": f"-c lock_timeout={PG_LOCK_TIMEOUT}"}
    if url is not None:
        parsed = make_url(url)
        if parsed.password:
            env["PGPASSWORD"] = str(parsed.password)
        dsn = parsed.set(drivername="postgresql", password=None)
        command.append(f"--dbname={dsn.render_as_string(hide_password=False)}")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        error = completed.stderr.strip().splitlines()
        raise BackupError(f"{tool} failed: {' '.join(error[-3:]) or completed.returncode}")
    return completed.stdout


def _archived_revision(source: Path) -> str | None:
    """The migration revision recorded in a pg_dump archive (its alembic_version row)."""
    script = _run_pg("pg_restore", None, ["--data-only", "--table=alembic_version",
                                          "--file=-", str(source)])
    lines = script.splitlines()
    for number, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line:
            return lines[number + 1].strip() or None
    return None


def _restore_pg(url: str, source: Path, carryover: Carryover) -> Restored:
    """`pg_restore --clean --if-exists` in one transaction, then the carryover."""
    try:
        _run_pg("pg_restore", None, ["--list", str(source)])
    except BackupError as error:
        raise BackupError(f"{source} is not a pg_dump archive (custom format, "
                          f"`frontyard backup`): {error}") from error
    _known_revision(_archived_revision(source), str(source))
    previous, why_unknown = _read_previous(url, True, carryover)
    # --single-transaction: a failure rolls everything back, the database stays as it was.
    _run_pg("pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                                "--exit-on-error", str(source)])
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            revision = _checked_revision(connection, f"The restored database ({source})")
            notes = carryover.apply(connection, previous, why_unknown)
    finally:
        engine.dispose()
    return Restored(source, revision, notes)
