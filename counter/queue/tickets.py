"""Issuing tickets: the day's ticket numbers, the new visit with its tasks, the status token.

Separate because numbering is the one place many kiosks write at once (one atomic statement),
and because it is where a visit begins: everything else acts on visits that exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from counter import hours
from counter.models import (
    EventKind,
    Office,
    Service,
    ServiceKind,
    Task,
    TicketSequence,
    Visit,
    VisitDetails,
)
from counter.queue.eventlog import _record
from counter.queue.routing import _enqueue
from counter.queue.rules import (
    DEFAULT_RULES,
    MAX_PROCEDURE_CODE,
    MAX_TASKS_PER_VISIT,
    STATUS_TOKEN_BYTES,
    QueueRules,
    _now,
)
from frontyard.errors import NotFound, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.i18n import is_supported, translate_map


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ticket_day(now: datetime, tz: tzinfo) -> date:
    """The local day a ticket issued at `now` belongs to (numbering restarts at midnight)."""
    return now.astimezone(tz).date()


def format_ticket_number(prefix: str, number: int) -> str:
    """`A-001`: the prefix and at least three digits."""
    return f"{prefix}-{number:03d}"


#: PostgreSQL: the turn of an office's prefix, held until the transaction ends (the form with
#: two keys has a key space of its own; a collision of the hashes only makes two prefixes wait
#: for each other).
_TAKE_TURN = text("SELECT pg_advisory_xact_lock(1178881377, hashtext(:key))")


def next_ticket_number(session: Session, office_id: int, prefix: str, day: date) -> int:
    """Take the next number of (office, prefix, day) in one atomic statement.

    `INSERT … ON CONFLICT DO UPDATE SET last_number = last_number + 1 RETURNING last_number`
    both creates the day's counter at 1 and increments it; PostgreSQL locks the row for the
    rest of the transaction and SQLite runs it inside BEGIN IMMEDIATE, so no two tickets get
    the same number however many kiosks issue at once.

    On PostgreSQL the kiosks of one office and prefix first queue for a transaction advisory
    lock: the lock manager grants it in the order asked. Waiting on the row alone is not
    fair: a waiting upsert starts over when the holder commits and newcomers may win again
    and again (20 printers at once: most tickets in 0.5 s, some in 12 s; docs/load.md,
    "Twenty printers at once").
    """
    postgresql = _is_postgresql(session)
    if postgresql:
        session.execute(_TAKE_TURN, {"key": f"{office_id}:{prefix}"})
    insert = postgresql_insert if postgresql else sqlite_insert
    table = TicketSequence.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(office_id=office_id, prefix=prefix, day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[table.c.office_id, table.c.prefix, table.c.day],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )
    return int(session.execute(statement).scalar_one())


def _check_queued(service: Service) -> None:
    """Only a queue issues tickets; the others are reached by appointment or just explained."""
    if service.kind == ServiceKind.APPOINTMENT:
        message = _("%(service)s is by appointment only: no ticket is issued. "
                    "Please ask at the information desk.")
    elif service.kind == ServiceKind.INFORMATION:
        message = _("%(service)s gives information only: no ticket is needed.")
    else:
        return
    text = message % {"service": translate_map(service.names) or service.code}
    raise ValidationFailed(text, service_codes=text)


def issue_ticket(
    session: Session, *, office_id: int, service_codes: Sequence[str], locale: str = "ja",
    priority: bool = False, details: dict[str, Any] | None = None, device_id: int | None = None,
    procedure_codes: Sequence[str | None] | None = None, now: datetime | None = None,
    rules: QueueRules = DEFAULT_RULES, outside_hours: bool = False,
    appointment_at: datetime | None = None,
) -> Visit:
    """Issue one ticket for a visit: one number for the whole stay, one task per procedure.

    Args:
        office_id: the office whose lobby the resident is in.
        service_codes: the services to visit, in visiting order (one task each; repeat a code
            for two separate procedures at one service).
        locale: the resident's language (status page, spoken call).
        priority: a priority ticket (pregnancy, disability, frail…): called first, with the
            fairness rule of `call_next`.
        details: pre-filled personal details, stored apart (VisitDetails) and purged later;
            never copied into events.
        device_id: the kiosk that issued it, if any.
        procedure_codes: the procedure of each task, parallel to `service_codes`.
        now: the time of issue (aware); the number's day is its local day in `rules.tz`.
        outside_hours: issue even though the office is closed or a service is past its
            cut-off (a staff member letting a resident in at closing); kiosks never may.
        appointment_at: the booked time of a resident checking in (`counter.appointments`):
            appointment-only services then issue a ticket too, the opening hours are not
            checked (the booking hours are the admin's), and the event records it.

    Returns the new Visit (flushed, with its id, ticket_number and status_token). Its first
    task is waiting in its service's queue; the others are pending until their turn.

    Raises NotFound for an unknown office and ValidationFailed for unknown or inactive
    services, an unknown locale or a `procedure_codes` list of the wrong length, and
    `hours.OutsideHours` (409, with the next opening) when the office is closed or a service
    is not issuing tickets now (counter/hours.py).
    """
    now = _now(now)
    if session.get(Office, office_id) is None:
        raise NotFound(_("This office does not exist."))
    codes = list(service_codes)
    if not codes or len(codes) > MAX_TASKS_PER_VISIT:
        raise ValidationFailed(
            _("Choose between 1 and %(max)d procedures.") % {"max": MAX_TASKS_PER_VISIT},
            service_codes=_("Choose between 1 and %(max)d procedures.")
            % {"max": MAX_TASKS_PER_VISIT})
    services = {service.code: service for service in session.exec(
        select(Service).where(Service.office_id == office_id, col(Service.active).is_(True),
                              col(Service.code).in_(codes)))}
    unknown = sorted(set(codes) - set(services))
    if unknown:
        message = _("Unknown service: %(codes)s") % {"codes": ", ".join(unknown)}
        raise ValidationFailed(message, service_codes=message)
    for code in codes:
        if appointment_at is None or services[code].kind != ServiceKind.APPOINTMENT:
            _check_queued(services[code])
    if not outside_hours and appointment_at is None:
        hours.check_tickets(session, office_id, [services[code] for code in dict.fromkeys(codes)],
                            now, rules.tz)
    if not is_supported(locale):
        message = _("Unknown language: %(code)s") % {"code": locale[:16]}
        raise ValidationFailed(message, locale=message)
    procedures = list(procedure_codes) if procedure_codes is not None else [None] * len(codes)
    if len(procedures) != len(codes) or any(
            code is not None and len(code) > MAX_PROCEDURE_CODE for code in procedures):
        message = _("Give one procedure per service, or none.")
        raise ValidationFailed(message, procedure_codes=message)

    first = services[codes[0]]
    day = ticket_day(now, rules.tz)
    number = next_ticket_number(session, office_id, first.prefix, day)
    visit = Visit(
        office_id=office_id, ticket_number=format_ticket_number(first.prefix, number),
        ticket_day=day, status_token=secrets.token_urlsafe(STATUS_TOKEN_BYTES),
        locale=locale, priority=priority, issued_at=now, issued_by_device_id=device_id,
    )
    session.add(visit)
    session.flush()
    tasks = [Task(visit_id=visit.id, service_id=services[code].id, position=index,  # type: ignore[arg-type]
                  procedure_code=procedure)
             for index, (code, procedure) in enumerate(zip(codes, procedures, strict=True))]
    session.add_all(tasks)
    if details:
        session.add(VisitDetails(visit_id=visit.id, data=details,  # type: ignore[arg-type]
                                 source="kiosk" if device_id else "manual", updated_at=now))
    session.flush()
    _record(session, EventKind.ISSUED, now, office_id=office_id, visit=visit,
            service_id=first.id, ticket=visit.ticket_number, services=codes,
            priority=priority, locale=locale, device_id=device_id,
            **({"appointment": appointment_at.isoformat()} if appointment_at else {}))
    _enqueue(session, tasks[0], visit, now, None)
    return visit


def visit_for_token(session: Session, status_token: str) -> Visit | None:
    """The visit a status token (from the ticket's QR code) belongs to, or None."""
    if not status_token or len(status_token) > 64:
        return None
    return session.exec(select(Visit).where(Visit.status_token == status_token)).first()
