"""The kiosk flow: language → life events → questions → guide → details → consent → ticket.

Pure domain (no HTTP): functions over a SQLModel session and a `KioskSession` row. The routes
keep only the row's opaque id in the signed cookie; everything the resident chooses or types
is held here, server-side, and the personal details leave the row when the ticket is issued
(they go with the visit, into `VisitDetails`) or when the kiosk is reset.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from counter import hours, queue
from counter.models import Office, Service, Visit
from frontyard.database import utcnow
from frontyard.exceptions import Conflict, DomainError, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.qr import qr_data_url  # noqa: F401  (the ticket's QR code, from the core)
from kiosk import offer
from kiosk.catalog import (
    Catalog,
    CatalogError,
    catalog_path,
    load_catalog,
    missing_translations,
    service_codes_in_database,
)
from kiosk.details import Details
from kiosk.guide import Answers, Guide, build_guide, parse_answers
from kiosk.models import KioskSession

#: A kiosk session untouched for this long is deleted with whatever it holds.
SESSION_TTL = timedelta(minutes=30)
#: The fields every resident who gives details at all must fill in (when the forms use them).
CORE_DETAILS: tuple[str, ...] = ("name", "furigana", "date_of_birth", "address")
SESSION_ID_BYTES = 32


class KioskUnavailable(DomainError):
    """The kiosk cannot serve: no office, or its procedure catalog is missing or invalid."""

    status_code = 503


# --- catalog ---------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _cached_catalog(path: str, mtime_ns: int, service_codes: frozenset[str],
                    locales: tuple[str, ...]) -> Catalog:
    """Parsing and checking the YAML takes a while: once per file version, service set and
    required languages."""
    return load_catalog(path, service_codes=service_codes, required_locales=locales)


def catalog_locales(session: Session, office: Office) -> tuple[str, ...]:
    """The languages the office's catalog must be complete in: those its kiosk offers."""
    return offer.offered_languages(session, office.id)  # type: ignore[arg-type]


def office_catalog(session: Session, office: Office,
                   locales: Sequence[str] | None = None) -> Catalog:
    """The checked catalog of an office, complete in `locales` (default: the languages its
    kiosk offers); KioskUnavailable when it is missing or invalid."""
    path = catalog_path(office.code)
    try:
        mtime = Path(path).stat().st_mtime_ns
    except OSError:
        raise KioskUnavailable(_("This office has no procedure guide yet.")) from None
    codes = frozenset(service_codes_in_database(session, office.code))
    required = tuple(locales) if locales is not None else catalog_locales(session, office)
    try:
        return _cached_catalog(str(path), mtime, codes, required)
    except CatalogError:
        raise KioskUnavailable(_("The procedure guide of this office has errors; "
                                 "staff have been told.")) from None


def untranslated_languages(session: Session, office: Office,
                           locales: Sequence[str]) -> list[str]:
    """Of `locales`, those the office's catalog lacks texts in: offering them would stop the
    kiosk. None of them when the office has no usable catalog (the kiosk says so itself)."""
    try:
        catalog = office_catalog(session, office, (offer.ALWAYS,))
    except KioskUnavailable:
        return []
    gaps = missing_translations(catalog, locales)
    return [code for code in locales if code in gaps]


def kiosk_office(session: Session, office_id: int | None) -> Office:
    """The office of a kiosk; a signed-in staff member without a device gets the first one."""
    office = session.get(Office, office_id) if office_id is not None else session.exec(
        select(Office).order_by(col(Office.id))).first()
    if office is None:
        raise KioskUnavailable(_("No office is set up yet."))
    return office


# --- the kiosk session -----------------------------------------------------------------------


def _check_offered(session: Session, office_id: int, locale: str) -> None:
    """Refuse a language this office's kiosk does not offer."""
    if locale not in offer.offered_languages(session, office_id):
        message = _("This kiosk does not offer that language. Choose one of the languages "
                    "on the screen.")
        raise ValidationFailed(message, locale=message)


def start_session(session: Session, *, office_id: int, device_id: int | None, locale: str,
                  now: datetime | None = None) -> KioskSession:
    """A fresh session in the chosen language (and a good moment to drop stale ones)."""
    _check_offered(session, office_id, locale)
    now = now or utcnow()
    purge_stale(session, now)
    kiosk_session = KioskSession(id=secrets.token_urlsafe(SESSION_ID_BYTES), office_id=office_id,
                                 device_id=device_id, locale=locale, state={},
                                 created_at=now, updated_at=now)
    session.add(kiosk_session)
    session.flush()
    return kiosk_session


def load_session(session: Session, kiosk_id: str | None, *, for_update: bool = False,
                 now: datetime | None = None) -> KioskSession | None:
    """The session with this id, unless it does not exist or has gone stale (then deleted)."""
    if not kiosk_id or len(kiosk_id) > 64:
        return None
    statement = select(KioskSession).where(KioskSession.id == kiosk_id)
    if for_update:
        statement = statement.with_for_update()
    found = session.exec(statement).first()
    if found is None:
        return None
    if found.updated_at < (now or utcnow()) - SESSION_TTL:
        session.delete(found)
        session.flush()
        return None
    return found


def end_session(session: Session, kiosk_id: str | None) -> None:
    """Forget a session and everything it holds (reset, idle timeout, "done")."""
    if kiosk_id:
        session.execute(delete(KioskSession).where(col(KioskSession.id) == kiosk_id))


def purge_stale(session: Session, now: datetime | None = None) -> int:
    """Delete sessions nobody touched for SESSION_TTL (a kiosk switched off mid-way)."""
    cutoff = (now or utcnow()) - SESSION_TTL
    result = session.execute(delete(KioskSession).where(col(KioskSession.updated_at) < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _save(session: Session, kiosk_session: KioskSession, **state: Any) -> None:
    """Store new state (a new dict, so the JSON column sees the change)."""
    kiosk_session.state = {**kiosk_session.state, **state}
    kiosk_session.updated_at = utcnow()
    session.add(kiosk_session)


def change_locale(session: Session, kiosk_session: KioskSession, locale: str) -> None:
    """Switch language mid-way, keeping the choices made so far."""
    _check_offered(session, kiosk_session.office_id, locale)
    kiosk_session.locale = locale
    _save(session, kiosk_session)


def chosen_events(kiosk_session: KioskSession) -> list[str]:
    """The life events chosen so far."""
    return list(kiosk_session.state.get("events", []))


def answers(kiosk_session: KioskSession) -> dict[str, Any]:
    """The answers given so far."""
    return dict(kiosk_session.state.get("answers", {}))


def choose_events(session: Session, kiosk_session: KioskSession, catalog: Catalog,
                  event_ids: Sequence[str]) -> Guide:
    """Record the life events (one or several); refuses none or unknown ones."""
    try:
        guide = build_guide(catalog, list(event_ids), answers(kiosk_session))
    except ValidationFailed as error:
        raise ValidationFailed(error.message, events=error.message) from None
    _save(session, kiosk_session, events=list(dict.fromkeys(event_ids)))
    return guide


def guide_for(catalog: Catalog, kiosk_session: KioskSession) -> Guide | None:
    """The guide for what was chosen and answered, or None before any life event."""
    events = [event for event in chosen_events(kiosk_session) if catalog.has("life_events", event)]
    if not events:
        return None
    known = {key: value for key, value in answers(kiosk_session).items()
             if catalog.has("questions", key)}
    return build_guide(catalog, events, known)


def answer_questions(session: Session, kiosk_session: KioskSession, catalog: Catalog,
                     form: Mapping[str, str | Sequence[str]], asked: Sequence[str]) -> Guide:
    """Add the answers of one screen; every question shown there must be answered."""
    given: Answers = parse_answers(catalog, form)  # raises with a message per bad answer
    merged = {**answers(kiosk_session), **given}
    guide = build_guide(catalog, chosen_events(kiosk_session), merged)
    pending = {question.id for question in guide.pending_questions}
    unanswered = [qid for qid in asked if qid in pending and qid not in merged]
    if unanswered:
        message = _("Please answer this question.")
        raise ValidationFailed(_("Some questions are not answered yet."),
                               **dict.fromkeys(unanswered, message))
    _save(session, kiosk_session, answers=merged)
    return guide


def clear_answers(session: Session, kiosk_session: KioskSession) -> None:
    """Start the questions again (the resident wants to change an answer)."""
    _save(session, kiosk_session, answers={})


def required_details(guide: Guide) -> tuple[str, ...]:
    """The fields the details form insists on: the core ones the visit's forms use."""
    return tuple(name for name in CORE_DETAILS if name in guide.detail_fields)


def store_details(session: Session, kiosk_session: KioskSession, details: Details) -> None:
    """Keep validated details until the ticket is issued (or the kiosk is reset)."""
    kiosk_session.details = details.to_data()
    _save(session, kiosk_session)


def stored_details(kiosk_session: KioskSession) -> Details | None:
    """The details given so far, if any."""
    return Details.from_data(kiosk_session.details) if kiosk_session.details else None


def issue_visit(session: Session, kiosk_session: KioskSession, catalog: Catalog, *,
                with_details: bool, rules: queue.QueueRules,
                now: datetime | None = None) -> Visit:
    """Issue the ticket: one task per guide step, in visiting order, with the details.

    Idempotent per session: a second submit (double tap) returns the visit already issued.
    The details leave the kiosk session: from now on they exist only with the visit.
    """
    if kiosk_session.visit_id is not None:
        visit = session.get(Visit, kiosk_session.visit_id)
        if visit is not None:
            return visit
    guide = guide_for(catalog, kiosk_session)
    if guide is None or not guide.complete or not guide.steps:
        raise Conflict(_("Answer the questions first; then the ticket can be issued."))
    details = kiosk_session.details if with_details else None
    closed = closed_services(session, kiosk_session.office_id,
                             [step.service for step in guide.steps], now or utcnow(), rules.tz)
    # A procedure whose service takes no tickets now is left out (the guide said so); with
    # none left, the engine refuses with the office's or the first service's next opening.
    steps = [step for step in guide.steps if step.service not in closed] or guide.steps
    visit = queue.issue_ticket(
        session, office_id=kiosk_session.office_id,
        service_codes=[step.service for step in steps],
        procedure_codes=[step.procedure.id for step in steps],
        locale=kiosk_session.locale, details=details or None,
        device_id=kiosk_session.device_id, rules=rules, now=now)
    kiosk_session.details = None
    kiosk_session.visit_id = visit.id
    _save(session, kiosk_session)
    session.flush()
    return visit


def closed_services(session: Session, office_id: int, codes: Sequence[str], now: datetime,
                    tz: tzinfo) -> dict[str, hours.Status]:
    """The services among `codes` that issue no ticket now, with when they next do."""
    services = session.exec(select(Service).where(Service.office_id == office_id,
                                                  col(Service.code).in_(list(codes)))).all()
    status = hours.ticket_status(session, services, now, tz)
    return {service.code: status[service.id] for service in services  # type: ignore[index]
            if not status[service.id].open}  # type: ignore[index]


# --- the ticket's QR code --------------------------------------------------------------------


def status_url(base_url: str, status_token: str) -> str:
    """The absolute address of a ticket's status page (what the QR code holds)."""
    return f"{base_url.rstrip('/')}/status/{status_token}"


