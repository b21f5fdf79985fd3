"""SQLite writers of one process take turns in the order they arrived.

SQLite lets one transaction write at a time; the others wait in its busy handler, which
sleeps and retries (1, 2, 5 … 100 ms) instead of queueing. A writer that has waited a while
sleeps 100 ms at a time, and writers arriving meanwhile take the lock first: with 20 ticket
printers issuing at once, most tickets took 0.2 s and a few 10–20 s (docs/load.md, "Twenty
printers at once"). Here the writers of one engine queue first, first come first served, and
only the head of the queue begins its `BEGIN IMMEDIATE`; its turn ends when its transaction
commits or rolls back. Other processes (a CLI command, a second worker) still meet SQLite's
busy handler, as before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

#: Where a connection's record notes that it holds its engine's turn.
_HELD = "frontyard_writer_turn"


class FairLock:
    """A lock handed to its waiters in the order they asked for it (threads; no re-entry)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait for the turn, at most `timeout` seconds; False if it did not come."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True  # handed over by `release`: the lock stayed held throughout
        with self._mutex:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return True  # handed over just as the wait ended
            return False

    def release(self) -> None:
        """End the turn: the longest waiter gets it directly (nobody can barge in)."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


def take_turns(engine: Engine, timeout: float) -> None:
    """Make the engine's writers queue for their turn (see `begin_turn`)."""
    engine.pool._frontyard_turns = FairLock()  # type: ignore[attr-defined]
    event.listen(engine, "commit", end_turn)
    event.listen(engine, "rollback", end_turn)
    event.listen(engine.pool, "checkin", _end_turn_on_checkin)
    engine.pool._frontyard_turn_timeout = timeout  # type: ignore[attr-defined]


def begin_turn(connection: Connection) -> None:
    """Wait for this engine's writing turn (called just before `BEGIN IMMEDIATE`)."""
    pool = connection.engine.pool
    turns: FairLock | None = getattr(pool, "_frontyard_turns", None)
    if turns is None or _HELD in connection.info:
        return
    if not turns.acquire(pool._frontyard_turn_timeout):  # type: ignore[attr-defined]
        raise sqlite3.OperationalError("database is locked")
    connection.info[_HELD] = turns


def end_turn(connection: Connection) -> None:
    """The transaction ends (just before its COMMIT or ROLLBACK): the next writer may begin.
    Until the COMMIT is through it meets the busy handler for a moment, but keeps its turn."""
    turns: FairLock | None = connection.info.pop(_HELD, None)
    if turns is not None:
        turns.release()


def _end_turn_on_checkin(_dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool holds no turn, however its transaction ended."""
    turns: FairLock | None = record.info.pop(_HELD, None)
    if turns is not None:
        turns.release()
