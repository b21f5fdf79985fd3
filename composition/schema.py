"""The full schema: importing this registers every table on SQLModel's metadata."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

# Imported for their tables (each line needs its own noqa, or `ruff --fix` deletes it).
import analytics.models  # noqa: F401
import counter.appointments.models
import counter.board_settings
import counter.hours
import counter.models  # noqa: F401
import frontyard.audit
import frontyard.auth  # noqa: F401
import kiosk.catalog_versions
import kiosk.models
import kiosk.pre_entry  # noqa: F401
from frontyard.branding import CityBranding, Logo  # noqa: F401
from kiosk.offer import KioskSettings  # noqa: F401


def metadata() -> MetaData:
    """The metadata holding every Frontyard table."""
    return SQLModel.metadata
