"""The kiosk's screen outside opening hours: the office is closed, and when it opens next, in
the language the resident chose (no kiosk session is started, no ticket can be issued)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from counter import hours
from frontyard.auth import DeviceKind
from frontyard.database import utcnow
from frontyard.guards import current_device, require_device
from frontyard.transactions import in_transaction
from kiosk import flow
from kiosk.routes.common import go
from kiosk.routes.screens import kiosk_page


@require_device(DeviceKind.KIOSK)
async def kiosk_closed(request: Request) -> Response:
    """The office is closed: when it opens next (back to the start once it is open)."""
    device = current_device(request)
    tz = request.app.state.settings.tz

    def work(session):  # type: ignore[no-untyped-def]
        office = flow.kiosk_office(session, device.office_id if device else None)
        return office, hours.office_status(session, office.id, utcnow(), tz)  # type: ignore[arg-type]

    office, status = await in_transaction(request, work)
    if status.open:
        return go("/kiosk")
    return kiosk_page(request, "kiosk/closed.html", {"office": office, "status": status})
