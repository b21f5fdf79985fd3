"""Checking in for an appointment at the kiosk: type the code from the booking's page; within
the window around the booked time the kiosk issues a ticket into the same queue
(`counter.appointments.checkin`); outside it, a message saying when check-in opens or that it
has closed, in the resident's language."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter import queue
from counter.appointments import checkin
from counter.appointments.booking import BookingRules
from counter.models import Visit
from counter.topics import topic_of
from frontyard import realtime
from frontyard.auth import DeviceKind
from frontyard.exceptions import DomainError
from frontyard.guards import current_device, require_device
from frontyard.ratelimit import limit_ticket_issuing
from frontyard.transactions import in_transaction
from kiosk import flow
from kiosk.routes.common import read_form
from kiosk.routes.screens import kiosk_page


def _office_id(session: Session, request: Request) -> int:
    device = current_device(request)
    office = flow.kiosk_office(session, device.office_id if device else None)
    return office.id  # type: ignore[return-value]


@require_device(DeviceKind.KIOSK)
async def kiosk_checkin(request: Request) -> Response:
    """GET: the code form. POST: check in and show the ticket, or the reason it cannot."""
    if request.method == "GET":
        return kiosk_page(request, "kiosk/checkin.html", {"message": None, "code": ""})
    form = await read_form(request)
    code = str(form.get("code", ""))[:32] if form is not None else ""
    settings = request.app.state.settings
    rules = BookingRules.from_settings(settings)
    queue_rules = queue.QueueRules.from_settings(settings)
    device = current_device(request)

    def lazily_mark_no_shows(session: Session) -> None:
        checkin.mark_no_shows(session, rules)

    def work(session: Session) -> tuple[Visit, Any]:
        limit_ticket_issuing(request)
        _, visit = checkin.check_in(session, office_id=_office_id(session, request), code=code,
                                    rules=rules, queue_rules=queue_rules,
                                    device_id=device.id if device else None)
        realtime.announce(session, request.app.state.hub, topic_of(visit.office_id),
                          {"office_id": visit.office_id})
        return visit, queue.visit_progress(session, visit)

    await in_transaction(request, lazily_mark_no_shows)
    try:
        visit, progress = await in_transaction(request, work)
    except DomainError as error:
        if error.status_code == 429:
            raise
        return kiosk_page(request, "kiosk/checkin.html",
                          {"message": error.message, "code": code},
                          status_code=404 if error.status_code == 404 else 409)
    url = flow.status_url(settings.base_url, visit.status_token)
    return kiosk_page(request, "kiosk/checkin.html", {
        "message": None, "code": "", "visit": visit, "progress": progress,
        "status_url": url, "qr": flow.qr_data_url(url)})
