"""Booking an appointment (来庁予約) on the resident's phone, without an account.

Choose a service, a day and a free slot, give a name and a contact; the confirmation is the
private manage page (`/booking/<token>`: view, move, cancel, the .ics file, the check-in code
and its QR). The token is the key to the page and never reaches a log line
(`frontyard.logs.hide_segment_after`); no public page shows a name or a contact.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from counter.appointments import booking as bookings
from counter.appointments import slots
from counter.appointments.ics import booking_ics
from counter.appointments.models import BookableService, BookingState
from counter.models import Office, Service
from frontyard import database, i18n
from frontyard.database import utcnow
from frontyard.exceptions import DomainError, NotFound, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext
from frontyard.logs import hide_segment_after
from frontyard.qr import qr_data_url
from frontyard.ratelimit import RateLimited, client_address, try_again_in
from frontyard.sliding_window import SlidingWindow
from frontyard.templating import render

MANAGE_PREFIX = "/booking/"
#: Days shown at once in the day chooser.
DAYS_SHOWN = 14
MAX_FIELD = 256
#: What the manage page says of each state.
STATE_LABELS = {
    BookingState.BOOKED: lazy_gettext("Booked"),
    BookingState.CHECKED_IN: lazy_gettext("Checked in"),
    BookingState.CANCELLED: lazy_gettext("Cancelled"),
    BookingState.NO_SHOW: lazy_gettext("Missed (not checked in)"),
}

hide_segment_after(MANAGE_PREFIX)


def _rules(request: Request) -> bookings.BookingRules:
    return bookings.BookingRules.from_settings(request.app.state.settings)


def _limit(request: Request) -> None:
    """Count one booking request of this client; RateLimited past FRONTYARD_BOOKING_LIMIT."""
    state = request.app.state
    if getattr(state, "booking_window", None) is None:
        state.booking_window = SlidingWindow(state.settings.booking_limit,
                                             state.settings.booking_window_seconds)
    wait = state.booking_window.hit(client_address(request))
    if wait > 0:
        raise RateLimited(_("Too many booking requests from here.") + " " + try_again_in(wait),
                          wait)


def _in_session(request: Request, work: Any) -> Any:
    with database.session_scope(request.app.state.engine) as session:
        return work(session)


async def _run(request: Request, work: Any) -> Any:
    return await run_in_threadpool(_in_session, request, work)


def _service(session: Session, office_code: str, service_code: str) -> tuple[Office, Service]:
    office = session.exec(select(Office).where(Office.code == office_code)).first()
    if office is None:
        raise NotFound(_("This service cannot be booked."))
    return office, bookings.bookable_service(session, office.id, service_code)  # type: ignore[arg-type]


def _day(request: Request, today: date, horizon: int) -> date:
    value = request.query_params.get("day", "")
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return min(max(day, today), today + timedelta(days=horizon))


def _free_slots(session: Session, service: Service, day: date, request: Request) -> list[Any]:
    rules, now = _rules(request), utcnow()
    last = now + timedelta(days=rules.horizon_days)
    return [slot for slot in slots.day_slots(session, service.id, day, rules.tz)  # type: ignore[arg-type]
            if slot.free > 0 and now < slot.start <= last]


def _chooser(session: Session, request: Request, service: Service) -> dict[str, Any]:
    rules = _rules(request)
    today = utcnow().astimezone(rules.tz).date()
    day = _day(request, today, rules.horizon_days)
    days = [today + timedelta(days=n) for n in range(min(DAYS_SHOWN, rules.horizon_days + 1))]
    if day not in days:
        days.append(day)
    return {"day": day, "days": days, "slots": _free_slots(session, service, day, request)}


async def choose_service(request: Request) -> Response:
    """Step 1: the bookable services of every office."""
    def read(session: Session) -> list[tuple[Office, Service]]:
        return list(session.exec(
            select(Office, Service).join(Service, col(Service.office_id) == Office.id)
            .join(BookableService, col(BookableService.service_id) == Service.id)
            .where(col(BookableService.enabled).is_(True), col(Service.active).is_(True))
            .order_by(col(Office.id), col(Service.sort_order))).all())

    return render(request, "navigator/booking_services.html",
                  {"choices": await _run(request, read), **_switcher()})


def _switcher() -> dict[str, Any]:
    return {"switcher_codes": [language.code for language in i18n.LANGUAGES]}


def _parse_start(value: str) -> datetime:
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        message = _("Choose one of the times shown.")
        raise ValidationFailed(message, slot=message)
    return start


def _field(form: Any, name: str) -> str:
    return str(form.get(name, ""))[:MAX_FIELD]


async def book_page(request: Request) -> Response:
    """Steps 2–4: a day, a free slot, a name and a contact; POST books and shows the link."""
    office_code, service_code = request.path_params["office"], request.path_params["service"]

    def read(session: Session) -> dict[str, Any]:
        office, service = _service(session, office_code, service_code)
        return {"office": office, "service": service, **_chooser(session, request, service)}

    context = await _run(request, read) | _switcher()
    if request.method == "GET":
        return render(request, "navigator/booking_book.html",
                      context | {"problems": {}, "message": None, "values": {}})
    form = await request.form()
    try:
        _limit(request)

        def save(session: Session) -> str:
            _, service = _service(session, office_code, service_code)
            return bookings.book(
                session, service=service, start=_parse_start(_field(form, "slot")),
                name=_field(form, "name"), contact=_field(form, "contact"),
                locale=i18n.current_locale(), rules=_rules(request)).manage_token

        token = await _run(request, save)
    except RateLimited:
        raise
    except DomainError as error:
        refreshed = await _run(request, read)
        return render(request, "navigator/booking_book.html",
                      context | refreshed | {"problems": error.fields or {"slot": error.message},
                                             "message": error.message, "values": form},
                      status_code=422 if isinstance(error, ValidationFailed) else 409)
    return RedirectResponse(f"{MANAGE_PREFIX}{token}?new=1", status_code=303)


def _manage_context(session: Session, request: Request, token: str) -> dict[str, Any]:
    booking = bookings.booking_for_token(session, token)
    service = session.get(Service, booking.service_id)
    office = session.get(Office, booking.office_id)
    assert service is not None and office is not None
    rules = _rules(request)
    changeable = booking.state == BookingState.BOOKED and booking.slot_start > utcnow()
    return {"booking": booking, "service": service, "office": office, "token": token,
            "changeable": changeable, "state_label": STATE_LABELS[booking.state],
            "qr": qr_data_url(booking.checkin_code),
            "opens": booking.slot_start - rules.checkin_before,
            "closes": booking.slot_start + rules.checkin_after,
            **(_chooser(session, request, service) if changeable else {})}


async def manage_page(request: Request) -> Response:
    """The private page of one booking: when, where, the check-in code; move or cancel."""
    token = request.path_params["token"]
    context = await _run(request, lambda s: _manage_context(s, request, token))
    response = render(request, "navigator/booking_manage.html",
                      context | _switcher() | {"problems": {}, "message": None,
                                               "new": request.query_params.get("new") == "1"})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _change(request: Request, work: Any) -> Response:
    token = request.path_params["token"]
    form = await request.form()
    try:
        _limit(request)
        await _run(request, lambda s: work(s, token, form))
    except RateLimited:
        raise
    except DomainError as error:
        context = await _run(request, lambda s: _manage_context(s, request, token))
        return render(request, "navigator/booking_manage.html",
                      context | _switcher() | {"problems": error.fields or {"slot": error.message},
                                               "message": error.message, "new": False},
                      status_code=422 if isinstance(error, ValidationFailed) else 409)
    return RedirectResponse(f"{MANAGE_PREFIX}{token}", status_code=303)


async def cancel(request: Request) -> Response:
    """Cancel the booking; its place is free again."""
    return await _change(request, lambda s, token, form: bookings.cancel_booking(s, token))


async def move(request: Request) -> Response:
    """Move the booking to another free slot of its service."""
    rules = _rules(request)
    return await _change(request, lambda s, token, form: bookings.move_booking(
        s, token, _parse_start(_field(form, "slot")), rules))


async def calendar_file(request: Request) -> Response:
    """The booking as an iCalendar file, for the phone's calendar."""
    token = request.path_params["token"]

    def read(session: Session) -> str:
        booking = bookings.booking_for_token(session, token)
        service = session.get(Service, booking.service_id)
        office = session.get(Office, booking.office_id)
        assert service is not None and office is not None
        return booking_ics(
            booking, summary=i18n.translate_map(service.names) or service.code,
            location=(i18n.translate_map(office.names) + " " + office.address).strip(),
            description=_("Check-in code: %(code)s") % {"code": booking.checkin_code},
            now=utcnow(), tz=request.app.state.settings.tz)

    text = await _run(request, read)
    return Response(text, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="appointment.ics"',
        "Cache-Control": "no-store"})


routes = [
    Route("/book", choose_service, name="booking_services"),
    Route("/book/{office}/{service}", book_page, methods=["GET", "POST"], name="booking_book"),
    Route(MANAGE_PREFIX + "{token}", manage_page, name="booking_manage"),
    Route(MANAGE_PREFIX + "{token}/cancel", cancel, methods=["POST"], name="booking_cancel"),
    Route(MANAGE_PREFIX + "{token}/move", move, methods=["POST"], name="booking_move"),
    Route(MANAGE_PREFIX + "{token}/appointment.ics", calendar_file, name="booking_ics"),
]
