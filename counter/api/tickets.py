"""The API's ticket resource: a kiosk or ticket printer issues a ticket, and a resident's phone
reads where it stands (public with its status token, no personal data).
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter import queue
from counter.api.lookups import _office_by_code
from counter.api.plumbing import (
    API_PREFIX,
    _minutes,
    change,
    in_transaction,
    operation,
    parse_body,
    respond,
    rules,
)
from counter.api.schemas import IssuedTask, TicketIssued, TicketRequest, TicketStatus
from counter.models import Service
from frontyard import audit, i18n
from frontyard.errors import NotAllowed, NotFound, ValidationFailed
from frontyard.guards import current_device, current_user
from frontyard.i18n import gettext as _
from frontyard.logs import hide_segment_after
from frontyard.ratelimit import (
    count_unknown_token,
    limit_status_polling,
    limit_ticket_issuing,
    refuse_token_guessing,
)

#: Where a resident's phone follows a ticket (the page the ticket's QR code opens).
STATUS_PAGE = "/status/{token}"
#: A ticket's resource; the segment after it is the status token, hidden from every log line.
TICKET_PREFIX = API_PREFIX + "/tickets/"

hide_segment_after(TICKET_PREFIX)


@operation("POST", "/tickets", summary="Issue a ticket (kiosk device token)",
           response=TicketIssued, body=TicketRequest, status=201, auth="kiosk",
           errors=(400, 401, 403, 404, 409, 413, 422, 429), tag="tickets")
async def issue_ticket(request: Request) -> Response:
    """A kiosk (Authorization: Bearer <device token>) or staff member issues a ticket.

    Outside opening hours, or past a service's ticket cut-off, 409 with the next opening
    (`fields.next_opening`); a signed-in staff member may issue anyway with `outside_hours`.

    Each kiosk (or staff member) may issue `FRONTYARD_TICKET_RATE_LIMIT` tickets per window;
    past it, 429 with Retry-After.
    """
    body = await parse_body(request, TicketRequest)
    limit_ticket_issuing(request)
    device = current_device(request)
    user = current_user(request)
    if body.outside_hours and (device is not None or user is None):
        raise NotAllowed(_("Only a signed-in staff member may issue a ticket outside opening "
                           "hours."))
    engine_rules = rules(request)
    base_url = request.app.state.settings.base_url.rstrip("/")

    def work(session: Session) -> tuple[int, TicketIssued]:
        office_id = device.office_id if device is not None else None
        if body.office is not None:
            office = _office_by_code(session, body.office)
            if office_id is not None and office.id != office_id:
                message = _("This kiosk belongs to another office.")
                raise ValidationFailed(message, office=message)
            office_id = office.id
        if office_id is None:
            message = _("Name the office.")
            raise ValidationFailed(message, office=message)
        visit = queue.issue_ticket(
            session, office_id=office_id, service_codes=body.services, locale=body.locale,
            priority=body.priority, details=body.details,
            device_id=device.id if device is not None else None,
            procedure_codes=body.procedures, rules=engine_rules,
            outside_hours=body.outside_hours)
        if body.outside_hours:
            audit.record(session, user.id if user else None, "ticket_outside_hours", visit.id,
                         office_id=office_id, ticket=visit.ticket_number)
        progress = queue.visit_progress(session, visit)
        with i18n.use_locale(visit.locale):
            tasks = [IssuedTask(service=service.code, state=task.state,
                                service_name=i18n.translate_map(service.names))
                     for task in queue.visit_tasks(session, visit)
                     if (service := session.get(Service, task.service_id)) is not None]
        return office_id, TicketIssued(
            ticket_number=visit.ticket_number, ticket_day=visit.ticket_day,
            issued_at=visit.issued_at, status_token=visit.status_token,
            status_url=base_url + STATUS_PAGE.format(token=visit.status_token),
            priority=visit.priority, tasks=tasks, people_ahead=progress.people_ahead or 0,
            estimated_wait_minutes=_minutes(progress.estimated_wait) or 0)

    return await change(request, work, 201)


@operation("GET", "/tickets/{token}", summary="A ticket's status (status token; public)",
           response=TicketStatus, errors=(404, 429), tag="tickets")
async def ticket_status(request: Request) -> Response:
    """Where a ticket stands, in the resident's language, without personal data.

    Limited per client and ticket (`FRONTYARD_STATUS_RATE_LIMIT`), and unknown tokens per
    client (`FRONTYARD_STATUS_UNKNOWN_LIMIT`); past them, 429 with Retry-After.
    """
    token = request.path_params["token"]
    refuse_token_guessing(request)
    asked = request.query_params.get("lang")

    def work(session: Session) -> TicketStatus:
        visit = queue.visit_for_token(session, token)
        if visit is None:
            count_unknown_token(request)
            raise NotFound(_("This ticket does not exist."))
        locale = asked if asked and i18n.is_supported(asked) else visit.locale
        with i18n.use_locale(locale):  # the 429 too is in the ticket's language
            limit_status_polling(request, token)
        progress = queue.visit_progress(session, visit)
        with i18n.use_locale(locale):
            return TicketStatus(
                ticket_number=progress.ticket_number, closed=progress.closed,
                state=progress.state,
                service_name=i18n.translate_map(progress.current_service.names)
                if progress.current_service else None,
                step_name=progress.step_name, step_number=progress.step_number,
                step_count=progress.step_count, task_number=progress.task_number,
                task_count=progress.task_count, people_ahead=progress.people_ahead,
                estimated_wait_minutes=_minutes(progress.estimated_wait),
                counter_number=progress.counter.number if progress.counter else None,
                counter_name=i18n.translate_map(progress.counter.names)
                if progress.counter else None,
                remaining_services=[i18n.translate_map(service.names)
                                    for service in progress.remaining_services],
            )

    return respond(await in_transaction(request, work))
