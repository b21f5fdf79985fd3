"""How the features hear of each other: the listeners the composition layer registers.

The queue announces every event it records (`counter.events`); analytics counts them in its
rollups (`analytics.rollups.defer_rollups`). Neither imports the other: they meet here. Likewise
the staff terminal shows a resident's pre-filled details as the kiosk labels them, links
each visit to the kiosk's no-write form page, and the residents' phones name each
procedure as the kiosk's catalog does. Every entry point (the app factory, the CLI, test
fixtures, benchmarks) calls `connect_features` before it touches the queue, so no event goes
uncounted.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from analytics.rollups import defer_rollups
from counter import events, screens, statuses
from counter.models import Office
from kiosk.details_rows import labelled_details
from kiosk.flow import KioskUnavailable, office_catalog


def visit_forms_url(public_id: str) -> str:
    """The kiosk's no-write form page of a visit (`kiosk.routes.staff_forms.visit_forms`), by
    the visit's unguessable public id."""
    return f"/forms/visit/{public_id}"


def procedure_labels(session: Session, office_id: int,
                     codes: Collection[str]) -> dict[str, statuses.ProcedureLabel]:
    """The catalog's name of each procedure and where it is done (its counter hint)."""
    office = session.get(Office, office_id)
    if office is None:
        return {}
    try:
        catalog = office_catalog(session, office, seed=False)  # may be a read-only session
    except KioskUnavailable:  # no catalog: phones name the services instead
        return {}
    labels = {}
    for code in codes:
        if catalog.has("procedures", code):
            procedure = catalog.procedure(code)
            hint = procedure.counter_hint
            if hint is None:  # the checks guarantee every procedure's service has a section
                hint = catalog.section(procedure.service).counter_hint
            labels[code] = statuses.ProcedureLabel(name=procedure.name, where=hint)
    return labels


def connect_features() -> None:
    """Register every cross-feature listener (idempotent)."""
    events.listen(defer_rollups)
    screens.use_details_presenter(labelled_details, visit_forms_url)
    statuses.use_procedure_labels(procedure_labels)
