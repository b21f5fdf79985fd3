"""SQLite writers of one process take turns in the order they arrived.

SQLite lets one transaction write at a time; the others wait in its busy handler, which
sleeps and retries (1, 2, 5 … 100 ms) instead of queueing. A writer that has waited a while
sleeps 100 ms at a time, and writers arriving meanwhile take the lock first: with 20 ticket
printers issuing at once, most tickets took 0.2 s and a few 10–20 s (docs/load.md, "Twenty
printers at once"). Here the writers of one engine queue first, first come first served, and
only the head of the queue begins its `BEGIN IMMEDIATE`; its turn ends when its transaction
has committed or rolled back. Other processes (a CLI command, a second worker) still meet SQLite's
busy handler, as before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable
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
    """Make the engine's writers queue for their turn (see `begin_turn`); a turn ends once
    the transaction's COMMIT or ROLLBACK is through (the dialect's own, wrapped here), so the
    next writer's BEGIN never meets the busy handler and its sleeps."""
    engine.pool._frontyard_turns = FairLock()  # type: ignore[attr-defined]
    engine.pool._frontyard_turn_timeout = timeout  # type: ignore[attr-defined]
    dialect = engine.dialect
    dialect.do_commit = _then_end_turn(dialect.do_commit)  # type: ignore[method-assign]
    dialect.do_rollback = _then_end_turn(dialect.do_rollback)  # type: ignore[method-assign]
    event.listen(engine.pool, "checkin", _end_turn_on_checkin)


def _then_end_turn(finish: Callable[[Any], None]) -> Callable[[Any], None]:
    """The dialect's COMMIT or ROLLBACK, then the end of the connection's turn."""

    def finish_then_end_turn(dbapi_connection: Any) -> None:
        try:
            finish(dbapi_connection)
        finally:
            try:  # the pool's proxy shares its record's; others (on first connect) have none
                info = dbapi_connection.info
            except (AttributeError, NotImplementedError):
                info = None
            turns: FairLock | None = info.pop(_HELD, None) if info is not None else None
            if turns is not None:
                turns.release()

    return finish_then_end_turn


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
    """Give the turn up without a COMMIT or ROLLBACK (its BEGIN failed)."""
    turns: FairLock | None = connection.info.pop(_HELD, None)
    if turns is not None:
        turns.release()


def _end_turn_on_checkin(_dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool holds no turn, however its transaction ended."""
    turns: FairLock | None = record.info.pop(_HELD, None)
    if turns is not None:
        turns.release()
