"""Counters (number, names, floor/zone, the services each may serve) and the services each
staff member may serve; every change audited.

No allowed services, for a counter or a person, means every service of the office: the
default an upgraded install starts with (counter.queue.permissions enforces both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from admin import checks
from admin.services import services
from counter.models import Counter, CounterAllowedService, Office, Service, StaffService
from frontyard import audit
from frontyard.auth import User
from frontyard.errors import NotFound
from frontyard.i18n import gettext as _

NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,15}")
MAX_ZONE = 64
AUDITED = ("number", "names", "zone")


@dataclass
class CounterInput:
    """What a form or a command gives for a counter; `services` are service codes."""

    number: str
    names: dict[str, str] = field(default_factory=dict)
    zone: str = ""
    services: list[str] = field(default_factory=list)


def counters(session: Session, office: Office) -> list[Counter]:
    """The office's counters by number."""
    return sorted(session.exec(select(Counter).where(Counter.office_id == office.id)),
                  key=lambda counter: (len(counter.number), counter.number))


def counter_by_number(session: Session, office: Office, number: str) -> Counter:
    """The office's counter with this number, or NotFound."""
    counter = session.exec(select(Counter).where(Counter.office_id == office.id,
                                                 Counter.number == number)).first()
    if counter is None:
        raise NotFound(_("There is no counter %(number)s.") % {"number": number[:16]})
    return counter


def allowed_codes(session: Session, counter: Counter) -> list[str]:
    """The codes of the services a counter may serve (empty: every service)."""
    return sorted(session.exec(
        select(Service.code).join(CounterAllowedService,
                                  col(CounterAllowedService.service_id) == Service.id)
        .where(CounterAllowedService.counter_id == counter.id)))


def input_of(session: Session, counter: Counter) -> CounterInput:
    """A counter's current values, to edit."""
    return CounterInput(number=counter.number, names=dict(counter.names), zone=counter.zone,
                        services=allowed_codes(session, counter))


def _service_ids(session: Session, office: Office, codes: Iterable[str],
                 problems: checks.Problems) -> list[int]:
    """The ids of the office's services with these codes; unknown codes are a problem."""
    by_code = {service.code: service.id for service in services(session, office)}
    unknown = sorted({code for code in codes if code not in by_code})
    if unknown:
        problems["services"] = _("Unknown service: %(codes)s") % {"codes": ", ".join(unknown)}
    return sorted({by_code[code] for code in codes if code in by_code})  # type: ignore[misc]


def save_counter(session: Session, user_id: int | None, office: Office, data: CounterInput,
                 counter: Counter | None = None) -> Counter:
    """Create a counter of `office`, or change `counter`; ValidationFailed lists every problem."""
    problems: checks.Problems = {}
    number = data.number.strip()
    if not NUMBER.fullmatch(number):
        problems["number"] = _("A counter number is 1 to 16 letters, digits or -.")
    names = checks.names(data.names, problems)
    zone = checks.text(data.zone, "zone", MAX_ZONE, problems)
    service_ids = _service_ids(session, office, data.services, problems)
    if "number" not in problems and any(
            other.number == number and other is not counter for other in counters(session, office)):
        problems["number"] = _("This office already has a counter %(number)s.") % {
            "number": number}
    checks.raise_if(problems)
    before = None
    if counter is not None:
        before = checks.snapshot(counter, AUDITED) | {"services": allowed_codes(session, counter)}
    counter = counter or Counter(office_id=office.id, number=number)  # type: ignore[arg-type]
    counter.number, counter.names, counter.zone = number, names, zone
    session.add(counter)
    session.flush()
    for link in session.exec(select(CounterAllowedService)
                             .where(CounterAllowedService.counter_id == counter.id)):
        session.delete(link)
    session.flush()
    session.add_all(CounterAllowedService(counter_id=counter.id, service_id=service_id)  # type: ignore[arg-type]
                    for service_id in service_ids)
    session.flush()
    after = checks.snapshot(counter, AUDITED) | {"services": allowed_codes(session, counter)}
    audit.record(session, user_id, "counter_changed" if before else "counter_created", None,
                 office_id=office.id, counter_id=counter.id, before=before, after=after)
    return counter


def user_by_name(session: Session, username: str) -> User:
    """The user with this name, or NotFound."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(_("There is no user %(name)s.") % {"name": username[:64]})
    return user


def staff_service_codes(session: Session, user: User) -> list[str]:
    """"office/service" for each service the person may serve (empty: every service)."""
    rows = session.exec(
        select(Office.code, Service.code)
        .join(Service, col(Service.office_id) == Office.id)
        .join(StaffService, col(StaffService.service_id) == Service.id)
        .where(StaffService.user_id == user.id))
    return sorted(f"{office}/{service}" for office, service in rows)


def set_staff_services(session: Session, by_user_id: int | None, user: User, office: Office,
                       codes: Iterable[str]) -> list[str]:
    """Which services of `office` the person may serve (none: no limit there); audited.

    Returns the person's new list over every office."""
    problems: checks.Problems = {}
    service_ids = _service_ids(session, office, list(codes), problems)
    checks.raise_if(problems)
    before = staff_service_codes(session, user)
    mine = {service.id for service in services(session, office)}
    for link in session.exec(select(StaffService).where(StaffService.user_id == user.id)):
        if link.service_id in mine:
            session.delete(link)
    session.flush()
    session.add_all(StaffService(user_id=user.id, service_id=service_id)  # type: ignore[arg-type]
                    for service_id in service_ids)
    session.flush()
    after = staff_service_codes(session, user)
    audit.record(session, by_user_id, "staff_services", None, staff_user_id=user.id,
                 office_id=office.id, before=before, after=after)
    return after

