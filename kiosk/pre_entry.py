"""Details entered at home (the no-write counter from the resident's phone), redeemed at the kiosk.

A resident chooses life events and answers the kiosk's questions on their own phone, enters the
once-only details the kiosk would ask (validated by `kiosk.details`, the same rules), and gets
a short code (and a QR code holding only that code). The details stay here, server-side; the
code is a random key, not an encoding of them. At the kiosk, the code issues the ticket through
the kiosk's own path (`flow.issue_visit` → `counter.queue`) with the details attached
(`VisitDetails.source = "pre_entry"`); from then on the details live with the visit only and
follow its retention rule. An unused entry is deleted after `pre_entry_retention_days`.

Codes: 8 symbols from a 31-symbol alphabet without 0/O, 1/I/L (≈ 39.6 bits), shown in two
groups of four (`ABCD-EFGH`). Typed codes are read case-, space- and dash-insensitively. A code
is single-use: the redeeming UPDATE only succeeds while `redeemed_at` is empty, so two kiosks
entering it at once issue one ticket between them, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from counter import queue
from counter.models import Office, VisitDetails
from frontyard.database import UTCDateTime, utcnow
from frontyard.exceptions import Conflict, NotFound, TooManyRequests, ValidationFailed
from frontyard.i18n import gettext as _
from frontyard.i18n import use_locale
from kiosk import flow
from kiosk.catalog import KIOSK_LOCALES, Catalog
from kiosk.details import Details
from kiosk.guide import Guide, build_guide
from kiosk.guide import parse_answers as guide_parse_answers

#: No 0/O, no 1/I/L: nothing a resident could read or hear as something else.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
#: What `VisitDetails.source` says for details that came through a code.
SOURCE = "pre_entry"
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー_.・]+")


class PreEntry(SQLModel, table=True):
    """Details a resident entered at home, waiting for the kiosk (or redeemed there)."""

    __tablename__ = "pre_entry"

    id: int | None = Field(default=None, primary_key=True)
    #: The short code without its dash, e.g. "ABCD2345"; unique while the row exists.
    code: str = Field(max_length=16, unique=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    locale: str = Field(default="ja", max_length=16)
    #: Non-personal choices: the life events and the answers to the kiosk's questions.
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: The procedures the guide gave when the details were entered (for staff lookups).
    procedures: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: `Details.to_data()`: personal data, emptied when the code is redeemed.
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: A hash of the sender's address: the cap on unused entries per client, nothing else.
    client_key: str = Field(default="", max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime(), nullable=False, index=True))
    redeemed_at: datetime | None = Field(default=None,
                                         sa_column=Column(UTCDateTime(), nullable=True))
    visit_id: int | None = Field(default=None, foreign_key="visit.id")


class CodeRefused(Conflict):
    """A code that issues no ticket (unknown, expired, used, another office's)."""


# --- codes -----------------------------------------------------------------------------------


def new_code() -> str:
    """A random code (without its dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """A code as residents read it: two groups of four, `ABCD-EFGH`."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(raw: str) -> str | None:
    """A typed or scanned code without spaces or dashes, in capitals; None when it cannot be
    one (wrong length, or a symbol the alphabet leaves out)."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")[:64]).upper()
    if len(text) != CODE_LENGTH or any(symbol not in ALPHABET for symbol in text):
        return None
    return text


def client_key(address: str) -> str:
    """What is kept of the sender's address: a hash, compared for the per-client cap only."""
    return hashlib.sha256(f"pre-entry:{address}".encode()).hexdigest()[:32]


def expires_at(entry: PreEntry, retention_days: int) -> datetime:
    """When an unused entry stops being accepted (and is purged)."""
    return entry.created_at + timedelta(days=retention_days)


# --- at home ---------------------------------------------------------------------------------


def office_and_catalog(session: Session, office_code: str) -> tuple[Office, Catalog]:
    """The office with this code and its kiosk catalog; NotFound for no office,
    `flow.KioskUnavailable` (503) when its catalog is missing or broken."""
    office = session.exec(select(Office).where(Office.code == office_code[:64])).first()
    if office is None:
        raise NotFound(_("This office does not exist."))
    return office, flow.office_catalog(session, office)


def parse_answers(catalog: Catalog, form: Mapping[str, Any]) -> dict[str, Any]:
    """The kiosk's parsing of answers (ValidationFailed with a message per bad answer)."""
    return guide_parse_answers(catalog, form)


def required_details(guide: Guide) -> tuple[str, ...]:
    """The fields the kiosk's details form insists on for this guide."""
    return flow.required_details(guide)


def guide_from(catalog: Catalog, events: Sequence[str],
               answers: Mapping[str, Any]) -> Guide:
    """The kiosk's guide for life events and answers given at home; ValidationFailed for none
    or unknown events (the kiosk's message)."""
    try:
        return build_guide(catalog, list(dict.fromkeys(events)), answers)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, events=error.message) from None


def create(session: Session, *, office_id: int, catalog: Catalog, locale: str,
           events: Sequence[str], answers: Mapping[str, Any], details: Details,
           client: str, open_limit: int, retention_days: int,
           now: datetime | None = None) -> PreEntry:
    """Keep validated details for the kiosk and give them a fresh code.

    Refuses an unfinished guide (questions left), a locale the kiosk lacks, and a client that
    already holds `open_limit` unused entries (TooManyRequests). Nothing is written then.
    """
    now = now or utcnow()
    if locale not in KIOSK_LOCALES:
        raise ValidationFailed(_("Choose one of the languages."),
                               locale=_("Choose one of the languages."))
    guide = guide_from(catalog, events, answers)
    if not guide.complete or not guide.steps:
        raise Conflict(_("Answer the questions first; then the ticket can be issued."))
    key = client_key(client)
    held = session.exec(select(func.count()).select_from(PreEntry).where(
        PreEntry.client_key == key, col(PreEntry.redeemed_at).is_(None),
        PreEntry.created_at >= now - timedelta(days=retention_days))).one()
    if held >= open_limit:
        raise TooManyRequests(_("Many details have already been entered from here and not yet "
                                "used at the kiosk. Use one of their codes, or try again "
                                "later."))
    code = new_code()
    while session.exec(select(PreEntry.id).where(PreEntry.code == code)).first() is not None:
        code = new_code()  # 31⁸ codes: practically never
    entry = PreEntry(code=code, office_id=office_id, locale=locale,
                     events=list(dict.fromkeys(events)), answers=dict(answers),
                     procedures=[step.procedure.id for step in guide.steps],
                     details=details.to_data(), client_key=key, created_at=now)
    session.add(entry)
    session.flush()
    return entry


def open_entry(session: Session, entry_id: Any, retention_days: int,
               now: datetime | None = None) -> PreEntry | None:
    """The unused, unexpired entry with this id (the resident's own code page), else None."""
    if not isinstance(entry_id, int):
        return None
    entry = session.get(PreEntry, entry_id)
    if entry is None or entry.redeemed_at is not None or (
            expires_at(entry, retention_days) <= (now or utcnow())):
        return None
    return entry


def withdraw(session: Session, entry_id: Any) -> None:
    """The resident deletes their unused entry and its details (from their code page)."""
    if isinstance(entry_id, int):
        session.execute(delete(PreEntry).where(col(PreEntry.id) == entry_id,
                                               col(PreEntry.redeemed_at).is_(None)))


# --- at the kiosk ----------------------------------------------------------------------------


def _refusal(entry: PreEntry | None, office_id: int, retention_days: int,
             now: datetime) -> CodeRefused:
    """Why a code issued no ticket, in the language its resident chose at home."""
    if entry is None:
        return CodeRefused(_("This code is not known. Check it and type it again, or ask "
                             "staff."))
    with use_locale(entry.locale):
        if entry.redeemed_at is not None:
            message = _("This code has already been used for a ticket. Each code works once.")
        elif expires_at(entry, retention_days) <= now:
            message = _("This code has expired. Please enter your details again.")
        elif entry.office_id != office_id:
            message = _("This code was made for another office.")
        else:
            message = _("This code is not known. Check it and type it again, or ask staff.")
        return CodeRefused(message, locale=entry.locale)


def redeem(session: Session, code: str, *, office_id: int, device_id: int | None,
           rules: queue.QueueRules, retention_days: int,
           now: datetime | None = None) -> tuple[PreEntry, Any]:
    """Issue the ticket of a code: a new kiosk session with the code's events, answers and
    details, through `flow.issue_visit`. Returns the entry and the kiosk session.

    Single use: the entry is claimed by a conditional UPDATE before anything else, so of two
    kiosks entering one code at once only one claims it; the other gets CodeRefused. Any
    refusal later (the office closed, a service gone) rolls the claim back with the rest.
    """
    now = now or utcnow()
    claimed = session.execute(
        update(PreEntry)
        .where(col(PreEntry.code) == code, col(PreEntry.office_id) == office_id,
               col(PreEntry.redeemed_at).is_(None),
               col(PreEntry.created_at) > now - timedelta(days=retention_days))
        .values(redeemed_at=now))
    entry = session.exec(select(PreEntry).where(PreEntry.code == code)).first()
    if not claimed.rowcount or entry is None:  # type: ignore[attr-defined]
        raise _refusal(entry, office_id, retention_days, now)
    office = flow.kiosk_office(session, office_id)
    catalog = flow.office_catalog(session, office)
    kiosk = flow.start_session(session, office_id=office_id, device_id=device_id,
                               locale=entry.locale, now=now)
    kiosk.state = {"events": list(entry.events), "answers": dict(entry.answers)}
    kiosk.details = dict(entry.details) if entry.details else None
    with use_locale(entry.locale):
        visit = flow.issue_visit(session, kiosk, catalog, with_details=True, rules=rules, now=now)
    stored = session.get(VisitDetails, visit.id)
    if stored is not None:
        stored.source = SOURCE
        session.add(stored)
    entry.details = None  # from now on the details exist only with the visit
    entry.visit_id = visit.id
    session.add(entry)
    session.flush()
    return entry, kiosk


# --- staff and retention ---------------------------------------------------------------------


def find(session: Session, code: str) -> PreEntry:
    """The entry of a code (staff lookup); NotFound for a code of no entry."""
    entry = session.exec(select(PreEntry).where(PreEntry.code == code)).first()
    if entry is None:
        raise NotFound(_("This code is not known. Check it and type it again, or ask staff."))
    return entry


def purge(session: Session, now: datetime, retention_days: int) -> int:
    """Delete entries older than the retention: unused ones with their details, redeemed ones
    (whose details went to the visit, under the visit's own retention rule) with their code."""
    cutoff = now - timedelta(days=retention_days)
    result = session.execute(delete(PreEntry).where(col(PreEntry.created_at) <= cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
