"""The realtime hub: topics that websocket endpoints subscribe to and state changes publish on.

In one process an in-memory fan-out suffices. Across several workers on PostgreSQL the
counter issue adds a LISTEN/NOTIFY bridge that republishes into each process's hub.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

QUEUE_LIMIT = 64


class Hub:
    """Publish/subscribe by topic; a slow subscriber loses old messages, never blocks others."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = defaultdict(set)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[Any]]:
        """A queue that receives every message published on `topic` while the block runs."""
        queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]

    def publish(self, topic: str, message: Any) -> int:
        """Deliver to every subscriber of the topic; returns how many received it."""
        delivered = 0
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                queue.get_nowait()  # drop the oldest: clients resync from full state anyway
            queue.put_nowait(message)
            delivered += 1
        return delivered

    def subscriber_count(self, topic: str | None = None) -> int:
        """How many subscriptions are open (on one topic, or in all)."""
        if topic is not None:
            return len(self._subscribers.get(topic, ()))
        return sum(len(queues) for queues in self._subscribers.values())
