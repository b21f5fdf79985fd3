"""Realtime: a per-process hub of topics, and how state changes reach it from every worker.

A change is *announced* inside the transaction that makes it (`announce`). Nothing is
delivered unless that transaction commits, so a screen never shows what the database lost:
- SQLite (one process): the message goes to this process's hub after the commit.
- PostgreSQL (several workers): `pg_notify` runs in the same transaction; PostgreSQL delivers
  it on commit to every worker's listener (`PostgresBridge`), which republishes it locally.
  The listener reconnects with backoff after a lost connection and then tells every local
  subscriber to resync, because notifications sent while it was away are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

log = logging.getLogger("frontyard.realtime")

QUEUE_LIMIT = 64
CHANNEL = "frontyard"
RESYNC = {"type": "resync"}
#: PostgreSQL refuses NOTIFY payloads of 8000 bytes or more: announce ids, not pages.
MAX_PAYLOAD = 7900


class Hub:
    """Publish/subscribe by topic within one process; a slow subscriber never blocks others."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = defaultdict(set)
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the event loop, so worker threads can publish safely."""
        self._loop = loop

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[Any]]:
        """A queue that receives every message published on `topic` while the block runs."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]

    def publish(self, topic: str, message: Any) -> int:
        """Deliver to every subscriber of the topic (call on the loop); returns how many."""
        delivered = 0
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                queue.get_nowait()  # drop the oldest: clients resync from full state anyway
            queue.put_nowait(message)
            delivered += 1
        return delivered

    def publish_everywhere(self, message: Any) -> None:
        """Deliver to every subscriber of every topic (used to ask all screens to resync)."""
        for topic in list(self._subscribers):
            self.publish(topic, message)

    def publish_threadsafe(self, topic: str, message: Any) -> None:
        """Publish from any thread (sync endpoints run in a thread pool)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # nobody has subscribed yet in this process: nothing to deliver
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.publish(topic, message)
        else:
            loop.call_soon_threadsafe(self.publish, topic, message)

    def subscriber_count(self, topic: str | None = None) -> int:
        """How many subscriptions are open (on one topic, or in all)."""
        if topic is not None:
            return len(self._subscribers.get(topic, ()))
        return sum(len(queues) for queues in self._subscribers.values())


def announce(session: Session, hub: Hub, topic: str, message: dict[str, Any]) -> None:
    """Announce a change made in `session`'s transaction; delivered only if it commits."""
    payload = json.dumps({"topic": topic, "message": message}, separators=(",", ":"))
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError("realtime messages carry ids, not pages; this one is too large")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": payload})
        return
    pending = session.info.setdefault("frontyard_announcements", [])
    pending.append((topic, message))
    if not session.info.get("frontyard_hooked"):
        session.info["frontyard_hooked"] = True
        event.listen(session, "after_commit", lambda s: _flush(s, hub))
        event.listen(session, "after_rollback", _discard)


def _flush(session: Session, hub: Hub) -> None:
    for topic, message in session.info.pop("frontyard_announcements", []):
        hub.publish_threadsafe(topic, message)


def _discard(session: Session) -> None:
    session.info.pop("frontyard_announcements", None)


def libpq_dsn(sqlalchemy_url: str) -> str:
    """The plain libpq connection string for an SQLAlchemy PostgreSQL URL."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresBridge:
    """Listens on the notification channel and republishes into this process's hub."""

    def __init__(self, dsn: str, hub: Hub, max_backoff: float = 10.0) -> None:
        self.dsn = dsn
        self.hub = hub
        self.max_backoff = max_backoff
        self.connected = asyncio.Event()
        self._first_attempt = asyncio.Event()
        self.reconnects = 0
        self.backend_pid: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin listening in the background; returns once the first attempt to LISTEN ended."""
        self.hub.bind_loop(asyncio.get_running_loop())
        self._task = asyncio.create_task(self._run(), name="frontyard-pg-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), timeout=10)

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        import psycopg

        backoff = 0.2
        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.dsn, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = connection.info.backend_pid
                    self.connected.set()
                    self._first_attempt.set()
                    backoff = 0.2
                    if not first:
                        self.reconnects += 1
                        self.hub.publish_everywhere(RESYNC)
                    first = False
                    async for notification in connection.notifies():
                        self._deliver(notification.payload)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # lost connection, server restart…
                log.warning("notification listener lost its connection: %s", error)
            self._first_attempt.set()
            self.connected.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    def _deliver(self, payload: str) -> None:
        try:
            decoded = json.loads(payload)
            self.hub.publish(decoded["topic"], decoded["message"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed notification: %.200s", payload)
