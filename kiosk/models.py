"""The kiosk's server-side session: where a resident is in the flow, and what they typed.

The browser holds only the session's opaque id (in the signed session cookie). Choices,
answers and the once-only details live here until the ticket is issued (the details then move
to `VisitDetails` with the visit) or until the kiosk is reset; stale rows are deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from frontyard.database import UTCDateTime, utcnow


class KioskSession(SQLModel, table=True):
    """One resident's pass through the kiosk, from language choice to ticket."""

    id: str = Field(primary_key=True, max_length=64)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    office_id: int = Field(foreign_key="office.id")
    locale: str = Field(default="ja", max_length=16)
    #: Non-personal choices: {"events": [...], "answers": {...}}.
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: The once-only details (`Details.to_data()`) until the ticket is issued; personal data.
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    created_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UTCDateTime(), nullable=False, index=True))
