"""Stored details as staff read them: labelled rows, and the household as a table.

The staff terminal shows what a resident gave at the kiosk; it knows nothing of the kiosk's
fields, so the composition layer hands it `labelled_details` (see `composition.wiring`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from frontyard import i18n
from kiosk.details import FIELD_LABELS, MEMBER_FIELDS
from kiosk.entry import MEMBERS, display_value


@dataclass(frozen=True)
class DetailTable:
    """A list of people (the household): a caption, column labels and one row per person."""

    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class LabelledDetails:
    """One visit's details in the reader's language: (label, value) rows, then tables."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    tables: list[DetailTable] = field(default_factory=list)


def _label(name: str) -> str:
    """A field's translated label (its key, readable, for a field the kiosk no longer asks)."""
    label = FIELD_LABELS.get(name)
    return i18n.as_text(label) if label is not None else name.replace("_", " ")


def labelled_details(data: Mapping[str, Any]) -> LabelledDetails:
    """Stored details (`Details.to_data()`) with translated labels and readable values."""
    locale = i18n.current_language().babel
    rows = [(_label(name), display_value(name, value, locale) or str(value))
            for name, value in data.items() if name != MEMBERS and value not in (None, "")]
    members = [member for member in data.get(MEMBERS) or [] if isinstance(member, Mapping)]
    tables = []
    if members:
        tables.append(DetailTable(
            _label(MEMBERS), [_label(name) for name in MEMBER_FIELDS],
            [[display_value(name, member.get(name), locale) for name in MEMBER_FIELDS]
             for member in members]))
    return LabelledDetails(rows, tables)
