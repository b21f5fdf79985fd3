"""How the features hear of each other: the listeners the composition layer registers.

The queue announces every event it records (`counter.events`); analytics counts them in its
rollups (`analytics.rollups.defer_rollups`). Neither imports the other: they meet here. Likewise
the staff terminal labels a resident's pre-filled details with the kiosk's labels. Every
entry point (the app factory, the CLI, test fixtures, benchmarks) calls `connect_features`
before it touches the queue, so no event goes uncounted.
"""

from __future__ import annotations

from analytics.rollups import defer_rollups
from counter import events, screens
from kiosk.details import FIELD_LABELS


def connect_features() -> None:
    """Register every cross-feature listener (idempotent)."""
    events.listen(defer_rollups)
    screens.use_detail_labels(FIELD_LABELS)
