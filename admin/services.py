"""Services of an office: code, ticket prefix, names, order, colour, kind and on/off, audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from admin import checks
from counter.models import Office, Service, ServiceKind
from frontyard import audit
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext

PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,3}")
MAX_ORDER = 9999
#: How each kind reads on the admin's pages.
KIND_LABELS = {
    ServiceKind.QUEUE: lazy_gettext("Queue: the kiosk issues tickets"),
    ServiceKind.APPOINTMENT: lazy_gettext("By appointment only: no ticket"),
    ServiceKind.INFORMATION: lazy_gettext("Information only: the kiosk explains, no ticket"),
}
AUDITED = ("code", "prefix", "names", "sort_order", "colour", "kind", "active")


@dataclass
class ServiceInput:
    """What a form or a command gives for a service."""

    code: str
    prefix: str
    names: dict[str, str] = field(default_factory=dict)
    sort_order: str | int = 0
    colour: str = ""
    kind: str = ServiceKind.QUEUE.value
    active: bool = True


def services(session: Session, office: Office) -> list[Service]:
    """The office's services, active or not, in display order."""
    return list(session.exec(select(Service).where(Service.office_id == office.id)
                             .order_by(col(Service.sort_order), col(Service.id))))


def service_by_code(session: Session, office: Office, code: str) -> Service:
    """The office's service with this code, or NotFound."""
    service = session.exec(select(Service).where(Service.office_id == office.id,
                                                 Service.code == code)).first()
    if service is None:
        raise NotFound(_("There is no service with the code %(code)s.") % {"code": code[:32]})
    return service


def input_of(service: Service) -> ServiceInput:
    """A service's current values, to edit."""
    return ServiceInput(code=service.code, prefix=service.prefix, names=dict(service.names),
                        sort_order=service.sort_order, colour=service.colour,
                        kind=ServiceKind(service.kind).value, active=service.active)


def save_service(session: Session, user_id: int | None, office: Office, data: ServiceInput,
                 service: Service | None = None) -> Service:
    """Create a service of `office`, or change `service`; ValidationFailed lists every problem.

    Codes and prefixes are unique within the office (a prefix numbers its own tickets)."""
    problems: checks.Problems = {}
    code = checks.code(data.code, "code", problems)
    prefix = data.prefix.strip()
    if not PREFIX.fullmatch(prefix):
        problems["prefix"] = _("A ticket prefix is 1 to 4 capital letters or digits, starting "
                               "with a letter (A, B, KO…).")
    names = checks.names(data.names, problems)
    order = checks.number(data.sort_order, "sort_order", 0, MAX_ORDER, problems)
    colour = checks.colour(data.colour, problems)
    if data.kind not in {kind.value for kind in ServiceKind}:
        problems["kind"] = _("Choose how residents reach this service.")
    others = [other for other in services(session, office) if other is not service]
    if "code" not in problems and any(other.code == code for other in others):
        problems["code"] = _("Another service of this office already has the code %(code)s.") % {
            "code": code}
    if "prefix" not in problems and any(other.prefix == prefix for other in others):
        problems["prefix"] = _("Another service of this office already uses the prefix "
                               "%(prefix)s.") % {"prefix": prefix}
    checks.raise_if(problems)
    before = checks.snapshot(service, AUDITED) if service else None
    service = service or Service(office_id=office.id, code=code, prefix=prefix)  # type: ignore[arg-type]
    service.code, service.prefix, service.names = code, prefix, names
    service.sort_order, service.colour, service.active = order, colour, bool(data.active)
    service.kind = ServiceKind(data.kind)
    session.add(service)
    session.flush()
    audit.record(session, user_id, "service_changed" if before else "service_created", None,
                 office_id=office.id, service_id=service.id, before=before,
                 after=checks.snapshot(service, AUDITED))
    return service
