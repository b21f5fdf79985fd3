""""I entered my details at home": the kiosk reads the resident's code (camera or typed) and
issues the ticket with the details given at home (`kiosk.pre_entry`).

The camera page needs the camera: its response alone allows it (`Permissions-Policy`); the QR
code is decoded in the browser by the vendored jsQR (static/vendor/jsqr) and posted like a
typed code, so the server sees one path for both.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter import queue
from counter.topics import topic_of
from frontyard import i18n, realtime
from frontyard.auth import DeviceKind
from frontyard.guards import current_device, require_device
from frontyard.i18n import gettext as _
from frontyard.ratelimit import limit_ticket_issuing
from frontyard.transactions import in_transaction
from kiosk import flow, pre_entry
from kiosk.pre_entry_limits import count_wrong_code, refuse_code_guessing
from kiosk.routes.common import go, read_form
from kiosk.routes.screens import KIOSK_ID, kiosk_page

#: The camera page may use the camera (every other page keeps `camera=()`).
CAMERA_ALLOWED = {"Permissions-Policy": "camera=(self), microphone=(), geolocation=()"}


def _code_page(request: Request, typed: str = "", error: Any = None) -> Response:
    response = kiosk_page(request, "kiosk/code.html", {
        "typed": typed, "error": error, "alphabet": pre_entry.ALPHABET,
        "length": pre_entry.CODE_LENGTH}, status_code=422 if error else 200)
    response.headers.update(CAMERA_ALLOWED)
    return response


@require_device(DeviceKind.KIOSK)
async def kiosk_code(request: Request) -> Response:
    """Show the code's QR to the camera, or type the code."""
    return _code_page(request)


@require_device(DeviceKind.KIOSK)
async def kiosk_code_submit(request: Request) -> Response:
    """Redeem a code: the ticket is issued with the details given at home, or the page says
    why not (unknown, used, expired: in the resident's language when the code is known)."""
    form = await read_form(request)
    typed = str(form.get("code", ""))[:64] if form is not None else ""
    refuse_code_guessing(request)
    code = pre_entry.normalise_code(typed)
    if code is None:
        count_wrong_code(request)
        return _code_page(request, typed, _("A code has 8 letters and digits, such as "
                                            "ABCD-EFGH (there is no 0, 1, I, L or O)."))
    device = current_device(request)
    settings = request.app.state.settings
    rules = queue.QueueRules.from_settings(settings)
    hub = request.app.state.hub
    old_id = request.session.get(KIOSK_ID)

    def work(session: Session) -> tuple[str, str] | pre_entry.CodeRefused:
        office = flow.kiosk_office(session, device.office_id if device else None)
        try:
            claimed, kiosk = pre_entry.redeem(
                session, code, office_id=office.id,  # type: ignore[arg-type]
                device_id=device.id if device else None, rules=rules,
                retention_days=settings.pre_entry_retention_days)
        except pre_entry.CodeRefused as refused:
            return refused
        # Counted like the kiosk's own issue; a refusal rolls the claim back with the rest.
        limit_ticket_issuing(request)
        flow.end_session(session, old_id)
        realtime.announce(session, hub, topic_of(office.id),  # type: ignore[arg-type]
                          {"office_id": office.id})
        return kiosk.id, claimed.locale

    outcome = await in_transaction(request, work)
    if isinstance(outcome, pre_entry.CodeRefused):
        count_wrong_code(request)
        return _code_page(request, typed, i18n.as_text(outcome.message))
    kiosk_id, locale = outcome
    request.session[KIOSK_ID] = kiosk_id
    response = go("/kiosk/ticket")
    response.set_cookie(i18n.LOCALE_COOKIE, locale, samesite="lax", httponly=True,
                        secure=settings.secure_cookies)
    return response
