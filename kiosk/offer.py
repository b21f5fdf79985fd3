"""What an office's kiosk offers: its languages in order, its welcome text and privacy notice.

An office without settings offers every kiosk language, in the platform's order, with the
built-in welcome and no notice of its own (what every kiosk did before these settings).
Japanese is always offered. The catalog must be complete in the offered languages only
(`kiosk.flow.catalog_locales`). The texts are the city's own, per language: a welcome line
for the start screen and a privacy notice (plain text or a safe subset of Markdown,
`frontyard.safe_markdown`) shown where the resident agrees to the use of their details; a
language without one falls back to the built-in text, never to another language's.
"""

from __future__ import annotations

from datetime import datetime

from markupsafe import Markup
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel

from frontyard import i18n, ruby, safe_markdown
from frontyard.database import UTCDateTime, utcnow
from frontyard.i18n import gettext as _
from kiosk.catalog import KIOSK_LOCALES

#: The language every kiosk offers.
ALWAYS = "ja"


class KioskSettings(SQLModel, table=True):
    """An office's kiosk: languages offered (in order) and its own texts per language."""

    __tablename__ = "kiosk_settings"

    office_id: int = Field(primary_key=True, foreign_key="office.id")
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    welcome: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    privacy: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime(), nullable=False))


def settings_of(session: Session, office_id: int) -> KioskSettings:
    """The office's kiosk settings (the defaults, not stored, when it has none)."""
    return session.get(KioskSettings, office_id) or KioskSettings(
        office_id=office_id, languages=list(KIOSK_LOCALES))


def offered_languages(session: Session, office_id: int) -> tuple[str, ...]:
    """The languages the office's kiosk offers, in its order (Japanese always among them)."""
    languages = [code for code in settings_of(session, office_id).languages
                 if code in KIOSK_LOCALES]
    return tuple(languages) if ALWAYS in languages else (ALWAYS, *languages)


def save(session: Session, office_id: int, *, languages: list[str], welcome: dict[str, str],
         privacy: dict[str, str]) -> KioskSettings:
    """Store an office's kiosk settings (checked by the caller); flushes, never commits."""
    row = session.get(KioskSettings, office_id) or KioskSettings(office_id=office_id)
    row.languages, row.welcome, row.privacy = list(languages), dict(welcome), dict(privacy)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def snapshot(row: KioskSettings) -> dict[str, object]:
    """The settings as plain data (the audit log's before and after, the configuration file)."""
    return {"languages": list(row.languages), "welcome": dict(row.welcome),
            "privacy": dict(row.privacy)}


def _own_text(texts: dict[str, str], locale: str) -> str:
    return texts.get(locale, "").strip()


def welcome_text(row: KioskSettings, locale: str, city_name: str) -> str:
    """The start screen's welcome in a language: the office's own, else the built-in one
    with the city's name (readings in easy Japanese where the text carries them)."""
    own = _own_text(row.welcome, locale)
    if own:
        return i18n.with_readings(own) if locale in i18n.RUBY_LOCALES else own
    if city_name:
        return _("Welcome to %(city)s") % {"city": city_name}
    return _("Welcome to the city hall")


def privacy_notice(row: KioskSettings, locale: str) -> Markup | None:
    """The office's privacy notice in a language as safe HTML, or None (the built-in text)."""
    own = _own_text(row.privacy, locale)
    if not own:
        return None
    return safe_markdown.render(own, with_ruby=locale in i18n.RUBY_LOCALES)


def text_problem(text: str, locale: str) -> str | None:
    """What is wrong with the ruby of an easy-Japanese text (every kanji needs a reading)."""
    if locale not in i18n.RUBY_LOCALES or not text:
        return None
    problems = ruby.problems(text, every_kanji=True)
    return problems[0] if problems else None
