"""How the features hear of each other: the listeners the composition layer registers.

The queue announces every event it records (`counter.events`); analytics counts them in its
rollups (`analytics.rollups.defer_rollups`). Neither imports the other: they meet here. Likewise
the staff terminal shows a resident's pre-filled details as the kiosk labels them, and links
each visit to the kiosk's no-write form page. Every entry point (the app factory, the CLI, test
fixtures, benchmarks) calls `connect_features` before it touches the queue, so no event goes
uncounted.
"""

from __future__ import annotations

from analytics.rollups import defer_rollups
from counter import events, screens
from kiosk.details_rows import labelled_details


def visit_forms_url(public_id: str) -> str:
    """The kiosk's no-write form page of a visit (`kiosk.routes.staff_forms.visit_forms`), by
    the visit's unguessable public id."""
    return f"/forms/visit/{public_id}"


def connect_features() -> None:
    """Register every cross-feature listener (idempotent)."""
    events.listen(defer_rollups)
    screens.use_details_presenter(labelled_details, visit_forms_url)
