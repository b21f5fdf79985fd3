"""The admin page of a service's appointments: bookable or not, and its weekly hours."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin import appointments
from admin import offices as office_domain
from admin import services as service_domain
from admin.pages import _form_page, _user_id
from frontyard.auth import Role
from frontyard.guards import require_role

MAX_HOURS = 4000


@require_role(Role.ADMIN)
async def appointments_page(request: Request) -> Response:
    """Whether residents may book a service, and when (slot length and places per range)."""
    code, which = request.path_params["code"], request.path_params["service"]

    def office_and_service(session: Session) -> tuple[Any, Any]:
        # Not pages._office_and: "new" names the form of a new service there, and a service
        # not yet created has no appointments (a 404, not the page of None).
        office = office_domain.office_by_code(session, code)
        return office, service_domain.service_by_code(session, office, which)

    def read(session: Session) -> dict[str, Any]:
        office, service = office_and_service(session)
        return {"office": office, "service": service,
                "data": appointments.input_of(session, service),
                "saved": request.query_params.get("saved") == "1"}

    def save(session: Session, form: FormData) -> str:
        office, service = office_and_service(session)
        appointments.save_appointments(
            session, _user_id(request), office, service,
            appointments.AppointmentsInput(enabled=form.get("enabled") == "on",
                                           hours=str(form.get("hours", ""))[:MAX_HOURS]))
        return f"/admin/offices/{office.code}/services/{service.code}/appointments?saved=1"

    return await _form_page(request, "admin/appointments.html", read, save)


routes = [
    Route("/admin/offices/{code}/services/{service}/appointments", appointments_page,
          methods=["GET", "POST"], name="admin_appointments"),
]
