"""Who may serve what: the services an admin allows each staff member and each counter.

No rows for a staff member (or a counter) means every service of the office: an upgraded
install keeps working as before until an admin restricts someone (docs/admin.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from counter.models import CounterAllowedService, Service, StaffService
from frontyard.errors import NotAllowed
from frontyard.i18n import gettext as _


def staff_services(session: Session, user_id: int) -> set[int] | None:
    """The services a staff member may serve, or None for every service."""
    rows = set(session.exec(select(StaffService.service_id).where(StaffService.user_id == user_id)))
    return rows or None


def counter_services(session: Session, counter_id: int) -> set[int] | None:
    """The services a counter may serve, or None for every service."""
    rows = set(session.exec(select(CounterAllowedService.service_id)
                            .where(CounterAllowedService.counter_id == counter_id)))
    return rows or None


def allowed(session: Session, user_id: int | None, counter_id: int | None,
            service_ids: Iterable[int]) -> list[int]:
    """Those of `service_ids` this staff member may serve at this counter (None: no limit)."""
    wanted = list(service_ids)
    for limit in (staff_services(session, user_id) if user_id is not None else None,
                  counter_services(session, counter_id) if counter_id is not None else None):
        if limit is not None:
            wanted = [service_id for service_id in wanted if service_id in limit]
    return wanted


def _codes(session: Session, service_ids: Iterable[int]) -> str:
    """The codes of services, for a message."""
    return ", ".join(sorted(service.code for service in session.exec(
        select(Service).where(col(Service.id).in_(list(service_ids))))))


def check_may_serve(session: Session, user_id: int | None, service_ids: Iterable[int],
                    counter_id: int | None = None) -> None:
    """Raise NotAllowed unless the staff member (and the counter) may serve every service."""
    wanted = set(service_ids)
    refused = wanted - set(allowed(session, user_id, None, wanted))
    if refused:
        message = _("You are not assigned to serve: %(services)s. Ask an administrator.") % {
            "services": _codes(session, refused)}
        raise NotAllowed(message, service_ids=message)
    refused = wanted - set(allowed(session, None, counter_id, wanted))
    if refused:
        message = _("This counter does not serve: %(services)s.") % {
            "services": _codes(session, refused)}
        raise NotAllowed(message, service_ids=message)
