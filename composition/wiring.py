"""How the features hear of each other: the listeners the composition layer registers.

The queue announces every event it records (`counter.events`); analytics counts them in its
rollups (`analytics.rollups.defer_rollups`). Neither imports the other: they meet here. Every
entry point (the app factory, the CLI, test fixtures, benchmarks) calls `connect_features`
before it touches the queue, so no event goes uncounted.
"""

from __future__ import annotations

from analytics.rollups import defer_rollups
from counter import events


def connect_features() -> None:
    """Register every cross-feature listener (idempotent)."""
    events.listen(defer_rollups)
