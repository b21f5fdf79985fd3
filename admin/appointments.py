"""Which services residents may book, and their weekly hours: the rules of the admin page
and of `frontyard appointments set`, audited with before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from counter.appointments import slots
from counter.models import Office, Service
from frontyard import audit


@dataclass(frozen=True)
class AppointmentsInput:
    """What the form and the CLI give: on/off and the weekly hours as text."""

    enabled: bool
    hours: str


def input_of(session: Session, service: Service) -> AppointmentsInput:
    """The current settings of a service, as the form shows them."""
    return AppointmentsInput(slots.is_bookable(session, service.id),  # type: ignore[arg-type]
                             slots.format_hours(slots.service_hours(session, service.id)))  # type: ignore[arg-type]


def _snapshot(data: AppointmentsInput) -> dict[str, Any]:
    return {"bookable": data.enabled, "hours": data.hours.splitlines()}


def save_appointments(session: Session, user_id: int | None, office: Office, service: Service,
                      data: AppointmentsInput) -> AppointmentsInput:
    """Turn booking on or off and replace the weekly hours; ValidationFailed (field `hours`)
    names the bad line. Bookable with no hours is allowed (no slot is offered)."""
    ranges = slots.parse_hours(data.hours)
    before = input_of(session, service)
    slots.set_bookable(session, service.id, data.enabled, ranges)  # type: ignore[arg-type]
    after = input_of(session, service)
    audit.record(session, user_id, "appointments_changed", None, office_id=office.id,
                 service_id=service.id, before=_snapshot(before), after=_snapshot(after))
    return after
