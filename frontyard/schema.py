"""The full schema: importing this registers every table on SQLModel's metadata."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import frontyard.audit
import frontyard.auth  # noqa: F401  (imported for its tables)


def metadata() -> MetaData:
    """The metadata holding every Frontyard table."""
    return SQLModel.metadata
