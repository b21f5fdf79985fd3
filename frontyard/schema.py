"""The full schema: importing this registers every table on SQLModel's metadata."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import kiosk.models  # noqa: F401  (imported for their tables)


def metadata() -> MetaData:
    """The metadata holding every Frontyard table."""
    return SQLModel.metadata
