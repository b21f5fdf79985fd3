"""What every kiosk screen shares (display preferences, the page wrapper) and the screens around
the journey: start, language, display, reset.

Apart from `journey` so the resident's steps read on their own; these screens hold no flow state.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter import hours
from frontyard import branding, i18n
from frontyard.auth import DeviceKind
from frontyard.database import utcnow
from frontyard.errors import ValidationFailed
from frontyard.guards import current_device, require_device
from frontyard.i18n import gettext as _
from frontyard.templating import render
from frontyard.transactions import in_transaction
from frontyard.web import safe_next
from kiosk import flow, offer
from kiosk.catalog import KIOSK_LOCALES, localized_html
from kiosk.routes.common import NO_STORE, go, read_form

KIOSK_ID = "kiosk_id"
DISPLAY = "kiosk_display"
DISPLAY_CLASSES = {"large_text": "large-text", "high_contrast": "high-contrast"}


def start_screen(session: Session, office_id: int | None, locale: str) -> dict[str, Any]:
    """What the start screen shows: the office's languages in its order, the city's name and
    logo, and the welcome line in the current language."""
    try:
        office_id = flow.kiosk_office(session, office_id).id
    except flow.KioskUnavailable:  # no office yet: choosing a language says so
        office_id = None
    brand = branding.brand_of(session, office_id)
    if office_id is None:
        settings, languages = offer.KioskSettings(office_id=0), KIOSK_LOCALES
    else:
        settings = offer.settings_of(session, office_id)
        languages = offer.offered_languages(session, office_id)
    return {"kiosk_languages": [i18n.BY_CODE[code] for code in languages], "brand": brand,
            "welcome": offer.welcome_text(settings, locale, brand.name)}


def kiosk_page(request: Request, name: str, context: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    """A kiosk screen: display preferences, idle timings, nothing cached."""
    settings = request.app.state.settings
    display = request.session.get(DISPLAY, [])
    locale = i18n.current_locale()
    full = {
        "html_class": " ".join(DISPLAY_CLASSES[key] for key in DISPLAY_CLASSES
                               if key in display),
        "display": display,
        "idle_seconds": settings.kiosk_idle_seconds,
        "countdown_seconds": settings.kiosk_countdown_seconds,
        "text": lambda value: localized_html(value, locale) if value else "",
        "kiosk_locale": locale,
        **(context or {}),
    }
    response = render(request, name, full, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


# --- start, language, display, reset ---------------------------------------------------------


@require_device(DeviceKind.KIOSK)
async def kiosk_start(request: Request) -> Response:
    """The kiosk's first screen: choose a language (or change it, keeping one's progress)."""
    keep = request.query_params.get("keep") == "1"
    device = current_device(request)
    locale = i18n.current_locale()
    screen = await in_transaction(request, lambda session: start_screen(
        session, device.office_id if device else None, locale))
    return kiosk_page(request, "kiosk/start.html", {
        **screen, "keep": keep,
        "next": safe_next(request.query_params.get("next"), "/kiosk/events"),
        "in_session": KIOSK_ID in request.session})


@require_device(DeviceKind.KIOSK)
async def kiosk_begin(request: Request) -> Response:
    """A language was chosen: begin a fresh session (or switch the current one's language)."""
    form = await read_form(request)
    if form is None:  # only buttons here: a form too large to read is not the resident's
        return go("/kiosk?keep=1" if KIOSK_ID in request.session else "/kiosk")
    locale = str(form.get("locale", ""))
    keep = form.get("keep") == "1"
    device = current_device(request)
    old_id = request.session.get(KIOSK_ID)

    def work(session: Session) -> tuple[str, str]:
        current = flow.load_session(session, old_id, for_update=True) if keep else None
        if current is not None and current.visit_id is None:
            flow.change_locale(session, current, locale)
            return current.id, safe_next(str(form.get("next", "")), "/kiosk/events")
        flow.end_session(session, old_id)
        office = flow.kiosk_office(session, device.office_id if device else None)
        flow.office_catalog(session, office)  # refuse now, not after the language choice
        if not hours.office_status(session, office.id, utcnow(),  # type: ignore[arg-type]
                                   request.app.state.settings.tz).open:
            return "", "/kiosk/closed"  # no session: nothing to choose while closed
        started = flow.start_session(session, office_id=office.id,  # type: ignore[arg-type]
                                     device_id=device.id if device else None, locale=locale)
        return started.id, "/kiosk/events"

    kiosk_id, target = await in_transaction(request, work)
    if kiosk_id:
        request.session[KIOSK_ID] = kiosk_id
    else:
        request.session.pop(KIOSK_ID, None)
    response = go(target)
    response.set_cookie(i18n.LOCALE_COOKIE, locale, samesite="lax", httponly=True,
                        secure=request.app.state.settings.secure_cookies)
    return response


@require_device(DeviceKind.KIOSK)
async def kiosk_display(request: Request) -> Response:
    """Toggle larger text or high contrast for this kiosk session (JS calls it in place)."""
    form = await read_form(request)
    toggle = str(form.get("toggle", "")) if form is not None else ""
    if toggle not in DISPLAY_CLASSES:
        raise ValidationFailed(_("Unknown display setting."))
    display = set(request.session.get(DISPLAY, []))
    display ^= {toggle}
    request.session[DISPLAY] = sorted(display)
    if request.headers.get("accept", "").startswith("application/json"):
        return Response(status_code=204, headers=NO_STORE)
    return go(safe_next(str(form.get("next", "")), "/kiosk"))


@require_device(DeviceKind.KIOSK)
async def kiosk_reset(request: Request) -> Response:
    """Start over: the session and everything in it is deleted, the screen goes back to start."""
    kiosk_id = request.session.pop(KIOSK_ID, None)
    request.session.pop(DISPLAY, None)
    await in_transaction(request, lambda session: flow.end_session(session, kiosk_id))
    response = go("/kiosk")
    response.delete_cookie(i18n.LOCALE_COOKIE, samesite="lax", httponly=True)
    return response
