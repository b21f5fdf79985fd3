"""Checking in at the kiosk: the window around the booked time, the ticket, and no-shows.

A booked resident types (or scans) the check-in code within the window
(`BookingRules.checkin_before` before to `checkin_after` after the booked time); that issues
an ordinary ticket of the booked service (`counter.queue.issue_ticket` with `appointment_at`),
which the serving rule puts ahead of walk-ins once its time has come. A booking not checked in
by the end of the window becomes a no-show (`mark_no_shows`: the hourly job, and lazily here).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select, update

from counter.appointments.booking import BookingRules, normalise_code
from counter.appointments.models import Booking, BookingState
from counter.models import Service, Visit
from counter.queue import QueueRules, issue_ticket
from frontyard.database import utcnow
from frontyard.exceptions import Conflict, NotFound
from frontyard.i18n import gettext as _


class CheckInTooEarly(Conflict):
    """Check-in has not opened yet; `opens_at` says when it does."""

    def __init__(self, message: str, opens_at: datetime) -> None:
        super().__init__(message, code=message)
        self.opens_at = opens_at


class CheckInClosed(Conflict):
    """The check-in window has closed (the booking is or becomes a no-show)."""


def mark_no_shows(session: Session, rules: BookingRules, now: datetime | None = None) -> int:
    """Mark every booking whose check-in window closed unchecked as a no-show; how many."""
    now = now or utcnow()
    result = session.execute(update(Booking).where(
        col(Booking.state) == BookingState.BOOKED,
        col(Booking.slot_start) < now - rules.checkin_after).values(state=BookingState.NO_SHOW))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def check_in(session: Session, *, office_id: int, code: str, rules: BookingRules,
             queue_rules: QueueRules, device_id: int | None = None,
             now: datetime | None = None) -> tuple[Booking, Visit]:
    """Check a booking in by its code and issue its ticket; flushes only.

    Raises NotFound for an unknown code (or one of another office), CheckInTooEarly before the
    window, CheckInClosed after it or for a cancelled/used booking (`mark_no_shows`
    then marks it, in its own transaction: this one is rolled back by the error).
    """
    now = now or utcnow()
    booking = session.exec(select(Booking).where(
        Booking.checkin_code == normalise_code(code), Booking.office_id == office_id)
        .with_for_update().execution_options(populate_existing=True)).first()
    if booking is None:
        message = _("This check-in code is not known here. Please check it, or ask at the "
                    "information desk.")
        raise NotFound(message, code=message)
    if booking.state == BookingState.CHECKED_IN:
        raise CheckInClosed(_("This booking has already been checked in."))
    if booking.state == BookingState.CANCELLED:
        raise CheckInClosed(_("This booking was cancelled."))
    opens = booking.slot_start - rules.checkin_before
    closes = booking.slot_start + rules.checkin_after
    if now < opens:
        local = opens.astimezone(rules.tz)
        raise CheckInTooEarly(
            _("Check-in opens at %(time)s on %(day)s. Please come back then.")
            % {"time": local.strftime('%H:%M'), "day": f"{local.month}/{local.day}"}, opens)
    if now > closes or booking.state == BookingState.NO_SHOW:
        raise CheckInClosed(_("Check-in for this booking closed at %(time)s. Please ask at "
                              "the information desk.")
                            % {"time": closes.astimezone(rules.tz).strftime('%H:%M')})
    service = session.get(Service, booking.service_id)
    if service is None or not service.active:
        raise NotFound(_("This service cannot be booked."))
    visit = issue_ticket(session, office_id=office_id, service_codes=[service.code],
                         locale=booking.locale, device_id=device_id, now=now,
                         rules=queue_rules, appointment_at=booking.slot_start)
    booking.state = BookingState.CHECKED_IN
    booking.checked_in_at = now
    booking.visit_id = visit.id
    session.add(booking)
    session.flush()
    return booking, visit


def forget_old_contacts(session: Session, now: datetime, retention_hours: int) -> int:
    """Erase the name and contact of bookings whose time passed over `retention_hours` ago
    (the retention rule of visits' details, applied to bookings); how many."""
    result = session.execute(update(Booking).where(
        col(Booking.slot_start) < now - timedelta(hours=retention_hours),
        col(Booking.contact) != "").values(name="", contact=""))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
