"""A sliding-window counter: at most N hits per key in any window of T seconds.

The one algorithm under every limit (sign-in throttling in `frontyard.auth`, the request limits
in `frontyard.ratelimit`); it knows nothing of HTTP, so both can use it without importing each
other.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

#: Forget keys without recent hits every this many hits, so memory stays bounded.
PRUNE_EVERY = 1024


class SlidingWindow:
    """At most `limit` hits per key within any `window_seconds`; thread-safe."""

    def __init__(self, limit: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()
        self._since_prune = 0

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window_seconds:
            hits.popleft()
        return hits

    def _wait(self, hits: deque[float], now: float) -> float:
        """Seconds until one more hit fits, 0 if it fits now."""
        if len(hits) < self.limit:
            return 0.0
        return hits[len(hits) - self.limit] + self.window_seconds - now

    def retry_after(self, key: Hashable) -> float:
        """Seconds before `key` may hit again (0: it may now); counts nothing."""
        with self._lock:
            now = self._clock()
            return self._wait(self._recent(key, now), now)

    def add(self, key: Hashable) -> None:
        """Count one hit, allowed or not (e.g. a failed sign-in)."""
        with self._lock:
            now = self._clock()
            self._recent(key, now)
            self._hits.setdefault(key, deque()).append(now)
            self._maybe_prune(now)

    def hit(self, key: Hashable) -> float:
        """Count a hit if it fits and return 0; otherwise count nothing, return the wait."""
        with self._lock:
            now = self._clock()
            hits = self._recent(key, now)
            wait = self._wait(hits, now)
            if wait > 0:
                return wait
            self._hits.setdefault(key, hits).append(now)
            self._maybe_prune(now)
            return 0.0

    def reset(self, key: Hashable) -> None:
        """Forget every hit of `key`."""
        with self._lock:
            self._hits.pop(key, None)

    def reset_where(self, matches: Callable[[Hashable], bool]) -> None:
        """Forget every hit of the keys `matches` accepts."""
        with self._lock:
            for key in [key for key in self._hits if matches(key)]:
                del self._hits[key]

    def waiting(self, matches: Callable[[Hashable], bool]) -> bool:
        """Whether any key `matches` accepts must wait before its next hit."""
        with self._lock:
            now = self._clock()
            return any(self._wait(self._recent(key, now), now) > 0
                       for key in list(self._hits) if matches(key))

    def __len__(self) -> int:
        """How many keys are remembered (tests check that memory stays bounded)."""
        return len(self._hits)

    def _maybe_prune(self, now: float) -> None:
        self._since_prune += 1
        if self._since_prune < PRUNE_EVERY:
            return
        self._since_prune = 0
        for key in [key for key, hits in self._hits.items()
                    if not hits or hits[-1] <= now - self.window_seconds]:
            del self._hits[key]
