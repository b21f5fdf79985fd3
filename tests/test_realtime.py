"""The realtime hub and the delivery of announcements after commit, across workers on PostgreSQL."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from frontyard import database
from frontyard.realtime import RESYNC, Hub, PostgresBridge, announce, libpq_dsn
from frontyard.settings import Settings


def run_isolated(scenario) -> None:  # type: ignore[no-untyped-def]
    """Run a coroutine in a thread of its own: Playwright's sync API (browser tests on the same
    xdist worker) leaves an event loop marked running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


async def _next(queue: asyncio.Queue, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    return await asyncio.wait_for(queue.get(), timeout)


def test_hub_delivers_per_topic_and_drops_oldest_when_full():
    """Subscribers get their topic only; a full queue loses its oldest message."""

    async def scenario() -> None:
        hub = Hub()
        async with hub.subscribe("office:1") as one, hub.subscribe("office:2") as two:
            assert hub.publish("office:1", {"n": 1}) == 1
            assert await _next(one) == {"n": 1}
            assert two.empty()
            for n in range(100):
                hub.publish("office:2", {"n": n})
            assert two.qsize() == 64 and (await _next(two))["n"] == 36
        assert hub.subscriber_count() == 0

    run_isolated(scenario)


def test_publish_threadsafe_from_worker_thread():
    """Sync endpoints run in threads; their announcements still reach the loop's subscribers."""

    async def scenario() -> None:
        hub = Hub()
        async with hub.subscribe("t") as queue:
            await asyncio.to_thread(hub.publish_threadsafe, "t", {"from": "thread"})
            assert await _next(queue) == {"from": "thread"}

    run_isolated(scenario)


@pytest.fixture
def sqlite_engine(tmp_path):  # type: ignore[no-untyped-def]
    """A migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'rt.sqlite3'}"
    database.upgrade(url)
    engine = database.make_engine(url)
    yield engine
    engine.dispose()


def test_sqlite_announcement_is_delivered_only_after_commit(sqlite_engine):
    """Nothing is announced before the commit, and nothing at all after a rollback."""

    async def scenario() -> None:
        hub = Hub()
        async with hub.subscribe("office:1") as queue:
            def change(commit: bool) -> None:
                with database.Session(sqlite_engine) as session:
                    session.execute(text("SELECT 1"))
                    announce(session, hub, "office:1", {"commit": commit})
                    assert queue.empty()  # not before the commit
                    session.commit() if commit else session.rollback()

            await asyncio.to_thread(change, False)
            await asyncio.to_thread(change, True)
            assert await _next(queue) == {"commit": True}
            await asyncio.sleep(0.05)
            assert queue.empty()

    run_isolated(scenario)


def test_oversized_message_is_refused(sqlite_engine):
    """Messages carry ids; a page-sized payload is a programming error."""
    with database.Session(sqlite_engine) as session, pytest.raises(ValueError):
        announce(session, Hub(), "t", {"html": "x" * 9000})




@pytest.fixture
def pg_url(postgres_base_url):  # type: ignore[no-untyped-def]
    """A migrated PostgreSQL database, or a skip (a failure in CI)."""
    from tests.conftest import skip_or_fail

    if postgres_base_url is None:
        skip_or_fail("PostgreSQL tests skipped: set FRONTYARD_TEST_POSTGRES_URL")
    return Settings(database_url=postgres_base_url).resolved_database_url()


@pytest.mark.postgres
def test_postgres_notification_reaches_another_worker_after_commit(pg_url):
    """A change committed through worker A's engine reaches worker B's hub; a rollback does not."""

    async def scenario() -> None:
        hub_a, hub_b = Hub(), Hub()
        bridge_b = PostgresBridge(libpq_dsn(pg_url), hub_b)
        await bridge_b.start()
        engine_a = database.make_engine(pg_url)
        try:
            async with hub_b.subscribe("office:7") as queue:
                def change(commit: bool) -> None:
                    with database.Session(engine_a) as session:
                        announce(session, hub_a, "office:7", {"commit": commit})
                        session.commit() if commit else session.rollback()

                await asyncio.to_thread(change, False)
                await asyncio.to_thread(change, True)
                assert await _next(queue) == {"commit": True}
                await asyncio.sleep(0.1)
                assert queue.empty()
        finally:
            await bridge_b.stop()
            engine_a.dispose()

    run_isolated(scenario)


@pytest.mark.postgres
def test_postgres_listener_survives_terminated_connection(pg_url):
    """After pg_terminate_backend the bridge reconnects, asks screens to resync, and delivers."""

    async def scenario() -> None:
        hub = Hub()
        bridge = PostgresBridge(libpq_dsn(pg_url), hub, max_backoff=0.5)
        await bridge.start()
        engine = database.make_engine(pg_url)
        try:
            async with hub.subscribe("office:9") as queue:
                old_pid = bridge.backend_pid

                def terminate() -> None:
                    with engine.begin() as connection:
                        connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                           {"pid": old_pid})

                await asyncio.to_thread(terminate)
                assert await _next(queue, timeout=10) == RESYNC
                assert bridge.reconnects == 1 and bridge.backend_pid != old_pid

                def change() -> None:
                    with database.Session(engine) as session:
                        announce(session, hub, "office:9", {"after": "reconnect"})
                        session.commit()

                await asyncio.to_thread(change)
                assert await _next(queue) == {"after": "reconnect"}
        finally:
            await bridge.stop()
            engine.dispose()

    run_isolated(scenario)


def test_malformed_notification_is_ignored():
    """A foreign NOTIFY on our channel is logged and dropped, never crashes the listener."""
    hub = Hub()
    bridge = PostgresBridge("postgresql://unused", hub)
    bridge._deliver("not json")
    bridge._deliver('{"no": "topic"}')
    assert hub.subscriber_count() == 0
