"""The audit log: every staff view or change of a resident's personal details."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel

from frontyard.database import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    """Who looked at or changed whose details, and when."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    user_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=32)
    visit_id: int | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def record(
    session: Session, user_id: int | None, action: str, visit_id: int | None, **detail: Any
) -> AuditEntry:
    """Write an audit entry in the caller's transaction."""
    entry = AuditEntry(user_id=user_id, action=action, visit_id=visit_id, detail=detail)
    session.add(entry)
    return entry
