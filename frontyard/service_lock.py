"""The service lock: every serving process holds it shared, `frontyard restore` holds it alone.

A restore must not replace the database under a running service (its connections would keep
writing to the replaced file, or break half-way through `pg_restore`). Each serving process
therefore holds a shared lock for as long as it lives, and the restore takes the same lock
exclusively or refuses. Both locks die with their process, `kill -9` included, so a crash
never leaves a stale lock behind:

- SQLite: `flock` on `<database>.serving-lock` next to the database file (one machine);
- PostgreSQL: a session advisory lock in the database itself, so workers on other machines
  count too.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

#: The advisory lock's key on PostgreSQL (any fixed 64-bit number: "Frontyrd" in ASCII).
ADVISORY_KEY = 0x46726F6E74797264
log = logging.getLogger("frontyard")


class ServiceLocked(RuntimeError):
    """The lock is held the other way: a service is running, or a restore is under way."""


class ServiceLock:
    """A held lock; `release()` lets it go (so does the process's death)."""

    def __init__(self, release: Callable[[], None] | None = None) -> None:
        self._release = release

    def release(self) -> None:
        """Let the lock go (idempotent)."""
        if self._release is not None:
            self._release()
            self._release = None

    def __enter__(self) -> ServiceLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def lock_path(sqlite_database: str) -> Path:
    """The lock file of a SQLite database file."""
    return Path(f"{sqlite_database}.serving-lock")


def _sqlite_database(url: str) -> str | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    return database if database and database != ":memory:" else None


def _flock(path: Path, exclusive: bool) -> ServiceLock | None:
    """The lock on `path`, or None when it is held the other way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return ServiceLock(lambda: os.close(descriptor))  # closing the descriptor unlocks


def _advisory(url: str, exclusive: bool) -> ServiceLock | None:
    """The advisory lock in the PostgreSQL database, on a connection of its own."""
    import psycopg

    from frontyard.realtime import libpq_dsn

    connection = psycopg.connect(libpq_dsn(url), autocommit=True)
    function = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
    row = connection.execute(f"SELECT {function}(%s)", (ADVISORY_KEY,)).fetchone()
    if not (row and row[0]):
        connection.close()
        return None
    return ServiceLock(connection.close)  # the session's end unlocks


def _acquire(url: str, exclusive: bool) -> ServiceLock | None:
    """The lock of the database at `url` (a no-op for an in-memory database)."""
    if make_url(url).get_backend_name() == "sqlite":
        database = _sqlite_database(url)
        return _flock(lock_path(database), exclusive) if database else ServiceLock()
    return _advisory(url, exclusive)


def hold_while_serving(url: str) -> ServiceLock:
    """The serving process's shared lock; refuses to serve while a restore runs."""
    unreachable: tuple[type[Exception], ...] = ()
    if make_url(url).get_backend_name() == "postgresql":
        import psycopg  # only here: a SQLite service need not load libpq (~9 MiB per worker)

        unreachable = (psycopg.OperationalError,)
    try:
        held = _acquire(url, exclusive=False)
    except unreachable as error:
        # A worker may start while PostgreSQL is down and answer /healthz with 503 until
        # it is back; it then serves without the lock, which a restore would not see.
        log.warning("the service lock could not be taken (database unreachable: %s); "
                    "`frontyard restore` will not see this worker", error)
        return ServiceLock()
    if held is None:
        raise ServiceLocked("A restore of the database is under way (`frontyard restore`); "
                            "start the service once it has finished.")
    return held


def hold_for_restore(url: str) -> ServiceLock:
    """The restore's exclusive lock; refuses while any serving process is running."""
    held = _acquire(url, exclusive=True)
    if held is None:
        raise ServiceLocked("The service is running on this database: stop every worker "
                            "first (e.g. `systemctl stop 'frontyard@*'`), then restore again.")
    return held
