"""The city's name and logo, and an office's own logo: what kiosks and boards show.

The city's name (one per language, Japanese required) and its logo are city-wide; an office
may have a logo of its own (a branch with its own emblem), shown instead of the city's on its
kiosks and boards. Logos are kept re-encoded (`frontyard.images`) and served under an address
drawn from their content (`/branding/logos/<digest>`), so a browser may keep one for good and
a new logo is a new address. Nothing here is personal data.

In the core because both the queue's boards and the kiosk show them; the admin's pages and
commands change them (with the audit log), reading only goes through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col, select

from frontyard.database import UTCDateTime, utcnow
from frontyard.i18n import translate_map
from frontyard.images import CleanImage

CITY_ROW = 1
LOGO_PATH = "/branding/logos/"


class CityBranding(SQLModel, table=True):
    """The city's name per language (one row)."""

    __tablename__ = "city_branding"

    id: int = Field(default=CITY_ROW, primary_key=True)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime(), nullable=False))


class Logo(SQLModel, table=True):
    """A re-encoded logo: the city's (no office) or one office's own."""

    __tablename__ = "logo"

    id: int | None = Field(default=None, primary_key=True)
    office_id: int | None = Field(default=None, foreign_key="office.id", unique=True)
    media_type: str = Field(max_length=16)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    width: int
    height: int
    digest: str = Field(max_length=64, index=True)
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def url(self) -> str:
        """Where the logo is served; a new logo gets a new address."""
        return f"{LOGO_PATH}{self.digest}"

    def describe(self) -> dict[str, str | int]:
        """What the audit log keeps of a logo: never its bytes."""
        return {"media_type": self.media_type, "width": self.width, "height": self.height,
                "bytes": len(self.data), "sha256": self.digest}


@dataclass(frozen=True)
class Brand:
    """What a kiosk or board shows at its top: the city's name and the logo that applies."""

    names: dict[str, str]
    logo: Logo | None

    @property
    def name(self) -> str:
        """The city's name in the current language (readings in easy Japanese, where given)."""
        return translate_map(self.names) if self.names else ""

    @property
    def logo_url(self) -> str | None:
        """The logo's address, or None."""
        return self.logo.url if self.logo else None


def city_names(session: Session) -> dict[str, str]:
    """The city's name per language ({} until an admin gives one)."""
    row = session.get(CityBranding, CITY_ROW)
    return dict(row.names) if row else {}


def set_city_names(session: Session, names: dict[str, str]) -> None:
    """Store the city's name per language (already checked by the caller)."""
    row = session.get(CityBranding, CITY_ROW) or CityBranding(id=CITY_ROW)
    row.names, row.updated_at = dict(names), utcnow()
    session.add(row)
    session.flush()


def own_logo(session: Session, office_id: int | None) -> Logo | None:
    """The city's logo (office_id None) or the office's own, without falling back."""
    return session.exec(select(Logo).where(Logo.office_id == office_id)).first() \
        if office_id is not None else \
        session.exec(select(Logo).where(col(Logo.office_id).is_(None))).first()


def store_logo(session: Session, office_id: int | None, image: CleanImage) -> Logo:
    """Make a re-encoded image the city's logo (office_id None) or an office's own."""
    logo = own_logo(session, office_id) or Logo(office_id=office_id, media_type="", data=b"",
                                                 width=0, height=0, digest="")
    logo.media_type, logo.data, logo.digest = image.media_type, image.data, image.digest
    logo.width, logo.height, logo.updated_at = image.width, image.height, utcnow()
    session.add(logo)
    session.flush()
    return logo


def remove_logo(session: Session, office_id: int | None) -> Logo | None:
    """Remove the city's logo or an office's own; returns what was removed."""
    logo = own_logo(session, office_id)
    if logo is not None:
        session.delete(logo)
        session.flush()
    return logo


def logo_for(session: Session, office_id: int | None) -> Logo | None:
    """The logo an office shows: its own, else the city's; without its bytes (a screen only
    needs its address and size, and renders often)."""
    query = select(Logo).options(defer(Logo.data))  # type: ignore[arg-type]
    found = None
    if office_id is not None:
        found = session.exec(query.where(Logo.office_id == office_id)).first()
    return found or session.exec(query.where(col(Logo.office_id).is_(None))).first()


def logo_by_digest(session: Session, digest: str) -> Logo | None:
    """A stored logo by its content digest (what its address names)."""
    if len(digest) != 64:
        return None
    return session.exec(select(Logo).where(Logo.digest == digest)).first()


def brand_of(session: Session, office_id: int | None) -> Brand:
    """The city's name and the logo for an office's screens."""
    return Brand(city_names(session), logo_for(session, office_id))
