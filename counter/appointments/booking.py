"""Booking, moving and cancelling appointments, never beyond a slot's capacity.

The capacity rule lives in one atomic statement on `SlotTally`:
`INSERT … ON CONFLICT DO UPDATE SET taken = taken + 1 WHERE taken < capacity RETURNING taken`.
PostgreSQL locks the slot's row, so concurrent bookings of the last place take turns and
re-check the condition; SQLite runs it inside BEGIN IMMEDIATE. No row back means full.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from counter.appointments.models import Booking, BookingState, SlotTally
from counter.appointments.slots import Slot, find_slot, is_bookable
from counter.models import Service
from frontyard.database import utcnow
from frontyard.exceptions import Conflict, NotFound, TooManyRequests, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.i18n import is_supported

#: 256 bits, like the status token.
MANAGE_TOKEN_BYTES = 32
#: No 0/O, 1/I/L, 2/Z, 5/S, 8/B: read aloud or typed without mistakes.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
MAX_NAME = 100
_PHONE = re.compile(r"^\+?[0-9]{10,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class BookingRules:
    """The configurable rules of booking and check-in (see `from_settings`)."""

    tz: tzinfo
    horizon_days: int = 30
    max_open_per_contact: int = 3
    checkin_before: timedelta = timedelta(minutes=30)
    checkin_after: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: object) -> BookingRules:
        """From FRONTYARD_TIMEZONE, _BOOKING_HORIZON_DAYS, _BOOKING_MAX_OPEN and the
        _CHECKIN_BEFORE_MINUTES / _CHECKIN_AFTER_MINUTES window."""
        return cls(tz=settings.tz,  # type: ignore[attr-defined]
                   horizon_days=settings.booking_horizon_days,  # type: ignore[attr-defined]
                   max_open_per_contact=settings.booking_max_open,  # type: ignore[attr-defined]
                   checkin_before=timedelta(
                       minutes=settings.checkin_before_minutes),  # type: ignore[attr-defined]
                   checkin_after=timedelta(
                       minutes=settings.checkin_after_minutes))  # type: ignore[attr-defined]


class SlotFull(Conflict):
    """Every place of the slot is taken."""


def normalise_contact(text: str) -> str:
    """A phone number (digits, optional leading +) or a lower-case e-mail address.

    Raises ValidationFailed (field `contact`) for anything else.
    """
    value = text.strip()
    if "@" in value:
        if len(value) <= 254 and _EMAIL.match(value):
            return value.lower()
    else:
        phone = re.sub(r"[\s\-()]", "", value.translate(_FULL_WIDTH))
        if _PHONE.match(phone):
            return phone
    message = _("Give a phone number (10 to 15 digits) or an e-mail address.")
    raise ValidationFailed(message, contact=message)


_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def normalise_code(text: str) -> str:
    """A check-in code as typed: upper case, without spaces or hyphens."""
    return re.sub(r"[\s\-]", "", text).upper()[:16]


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Booking.id).where(Booking.checkin_code == code)).first() is None:
            return code


def _take_place(session: Session, service_id: int, slot: Slot) -> None:
    """Take one place of the slot in one atomic statement, or raise SlotFull."""
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = postgresql_insert if postgres else sqlite_insert
    table = SlotTally.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table).values(service_id=service_id, slot_start=slot.start, taken=1)
        .on_conflict_do_update(index_elements=[table.c.service_id, table.c.slot_start],
                               set_={"taken": table.c.taken + 1},
                               where=table.c.taken < slot.capacity)
        .returning(table.c.taken))
    if session.execute(statement).first() is None:
        raise SlotFull(_("Sorry, this time is now full. Please choose another time."))


def _release_place(session: Session, service_id: int, start: datetime) -> None:
    session.execute(update(SlotTally).where(
        col(SlotTally.service_id) == service_id, col(SlotTally.slot_start) == start,
        col(SlotTally.taken) > 0).values(taken=SlotTally.taken - 1))


def _open_slot(session: Session, service: Service, start: datetime, now: datetime,
               rules: BookingRules) -> Slot:
    """The slot at `start` if residents may book it now, or ValidationFailed (`slot`)."""
    slot = find_slot(session, service.id, start, rules.tz)  # type: ignore[arg-type]
    if slot is None or slot.start <= now or slot.start > now + timedelta(days=rules.horizon_days):
        message = _("This time cannot be booked. Please choose one of the times shown.")
        raise ValidationFailed(message, slot=message)
    return slot


def bookable_service(session: Session, office_id: int, service_code: str) -> Service:
    """An active bookable service of the office, or NotFound."""
    service = session.exec(select(Service).where(
        Service.office_id == office_id, Service.code == service_code,
        col(Service.active).is_(True))).first()
    if service is None or not is_bookable(session, service.id):  # type: ignore[arg-type]
        raise NotFound(_("This service cannot be booked."))
    return service


def book(session: Session, *, service: Service, start: datetime, name: str, contact: str,
         locale: str, rules: BookingRules, now: datetime | None = None) -> Booking:
    """Book one place at `start` for a resident; flushes only (the caller commits).

    Raises ValidationFailed (fields `name`, `contact`, `slot`, `locale`), TooManyRequests
    when the contact already has `rules.max_open_per_contact` open bookings, SlotFull.
    """
    now = now or utcnow()
    errors = {}
    clean_name = " ".join(name.split())
    if not clean_name or len(clean_name) > MAX_NAME:
        errors["name"] = _("Give your name (up to %(max)d characters).") % {"max": MAX_NAME}
    try:
        clean_contact = normalise_contact(contact)
    except ValidationFailed as error:
        errors["contact"] = str(error)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), **errors)
    if not is_supported(locale):
        locale = "ja"
    slot = _open_slot(session, service, start, now, rules)
    open_count = session.exec(select(func.count()).select_from(Booking).where(
        Booking.contact == clean_contact, Booking.state == BookingState.BOOKED,
        col(Booking.slot_start) > now)).one()
    if open_count >= rules.max_open_per_contact:
        raise TooManyRequests(_("You already have %(count)d bookings. Cancel one before "
                                "booking another.") % {"count": open_count})
    _take_place(session, service.id, slot)  # type: ignore[arg-type]
    booking = Booking(office_id=service.office_id, service_id=service.id, slot_start=slot.start,  # type: ignore[arg-type]
                      slot_minutes=int((slot.end - slot.start).total_seconds() // 60),
                      name=clean_name, contact=clean_contact, locale=locale,
                      manage_token=secrets.token_urlsafe(MANAGE_TOKEN_BYTES),
                      checkin_code=_new_code(session), created_at=now)
    session.add(booking)
    session.flush()
    return booking


def booking_for_token(session: Session, token: str, *, lock: bool = False) -> Booking:
    """The booking of a private manage link, or NotFound."""
    statement = select(Booking).where(Booking.manage_token == token[:64])
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    booking = session.exec(statement).first() if token else None
    if booking is None:
        raise NotFound(_("This booking does not exist."))
    return booking


def _changeable(booking: Booking, now: datetime) -> None:
    if booking.state != BookingState.BOOKED or booking.slot_start <= now:
        raise Conflict(_("This booking can no longer be changed."))


def cancel_booking(session: Session, token: str, now: datetime | None = None) -> Booking:
    """Cancel a booking by its manage token; frees its place."""
    now = now or utcnow()
    booking = booking_for_token(session, token, lock=True)
    _changeable(booking, now)
    booking.state = BookingState.CANCELLED
    _release_place(session, booking.service_id, booking.slot_start)
    session.add(booking)
    session.flush()
    return booking


def move_booking(session: Session, token: str, start: datetime, rules: BookingRules,
                 now: datetime | None = None) -> Booking:
    """Move a booking to another slot of its service (the new place is taken first)."""
    now = now or utcnow()
    booking = booking_for_token(session, token, lock=True)
    _changeable(booking, now)
    if start == booking.slot_start:
        return booking
    service = session.get(Service, booking.service_id)
    assert service is not None
    slot = _open_slot(session, service, start, now, rules)
    _take_place(session, service.id, slot)  # type: ignore[arg-type]
    _release_place(session, booking.service_id, booking.slot_start)
    booking.slot_start = slot.start
    booking.slot_minutes = int((slot.end - slot.start).total_seconds() // 60)
    session.add(booking)
    session.flush()
    return booking
