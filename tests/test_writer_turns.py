"""SQLite writers of one process take turns first come, first served (frontyard.writer_turns)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from frontyard import database
from frontyard.writer_turns import FairLock


def _wait_for(condition, timeout: float = 5) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_the_lock_goes_to_its_waiters_in_the_order_they_came():
    lock, order = FairLock(), []
    assert lock.acquire(1)

    def waiter(name: str) -> None:
        assert lock.acquire(5)
        order.append(name)
        lock.release()

    threads = []
    for number, name in enumerate("abcde", start=1):
        thread = threading.Thread(target=waiter, args=(name,))
        thread.start()
        threads.append(thread)
        _wait_for(lambda number=number: len(lock._waiters) == number)
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == list("abcde")
    assert lock.acquire(0.1)  # free again


def test_a_waiter_that_gives_up_leaves_the_queue():
    lock = FairLock()
    assert lock.acquire(1)
    assert not lock.acquire(0.05)
    assert not lock._waiters
    lock.release()
    assert lock.acquire(0.05)


@pytest.fixture
def sqlite_engine(tmp_path):  # type: ignore[no-untyped-def]
    engine = database.make_engine(f"sqlite:///{tmp_path / 'turns.sqlite3'}")
    with database.session_scope(engine) as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def test_writers_queue_for_their_turn_and_every_ending_frees_it(sqlite_engine):
    turns: FairLock = sqlite_engine.pool._frontyard_turns
    with pytest.raises(RuntimeError), database.session_scope(sqlite_engine) as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("rolled back")
    with database.session_scope(sqlite_engine) as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
    with sqlite_engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (3)"))
    assert turns.acquire(0.05)  # nobody kept the turn
    turns.release()
    with sqlite_engine.connect() as connection:  # ended by the COMMIT itself, not the pool
        with connection.begin():
            connection.execute(text("INSERT INTO t VALUES (6)"))
        assert turns.acquire(0.05)
        turns.release()
        with pytest.raises(RuntimeError), connection.begin():
            connection.execute(text("INSERT INTO t VALUES (7)"))
            raise RuntimeError("rolled back")
        assert turns.acquire(0.05)
        turns.release()

    order = []
    started = threading.Event()

    def second() -> None:
        started.set()
        with database.session_scope(sqlite_engine) as session:
            session.execute(text("INSERT INTO t VALUES (5)"))
            order.append("second")

    with database.session_scope(sqlite_engine) as session:
        session.execute(text("INSERT INTO t VALUES (4)"))
        thread = threading.Thread(target=second)
        thread.start()
        started.wait(5)
        _wait_for(lambda: len(turns._waiters) == 1)  # queued, not spinning in SQLite
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
    with database.read_session(sqlite_engine) as session:  # readers take no turn
        assert [row[0] for row in session.execute(text("SELECT n FROM t ORDER BY n"))] == [
            2, 3, 4, 5, 6]
