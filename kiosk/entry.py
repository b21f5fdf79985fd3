"""Once-only details as HTML form fields and back: the kiosk form and the staff corrections.

Field names are those of `kiosk.details` (`name`, `date_of_birth`…); a household member's are
`household_members.<row>.<field>`, so a validation error key names its input directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from babel import Locale

from frontyard.i18n import as_text, current_language, date_readings
from frontyard.i18n import gettext as _
from kiosk.details import (
    DETAIL_FIELDS,
    FIELD_LABELS,
    MAX_MEMBERS,
    MEMBER_FIELDS,
    RELATIONSHIP_LABELS,
    RESIDENCE_STATUS_LABELS,
    SEX_LABELS,
    STATELESS,
    Details,
    HouseholdMember,
    nationality_codes,
)
from kiosk.eras import era_of, format_era

MEMBERS = "household_members"
_MEMBER_KEY = re.compile(r"household_members\.(\d{1,2})\.([a-z_]+)")
#: Foreign residents' fields: shown in their own group on the form.
FOREIGN_FIELDS: tuple[str, ...] = ("nationality", "residence_card_number", "residence_status",
                                   "stay_expiry")
DATE_FIELDS = frozenset({"date_of_birth", "moving_date", "stay_expiry"})
MAX_FIELD_LENGTH = 300


def raw_from_form(form: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Submitted (name, value) pairs as the mapping `validate_details` takes.

    Unknown names are ignored; over-long values are cut (validation then refuses them with a
    message rather than the server storing megabytes).
    """
    raw: dict[str, Any] = {}
    rows: dict[int, dict[str, str]] = {}
    for key, value in form:
        if not isinstance(value, str):
            continue
        value = value[:MAX_FIELD_LENGTH]
        member = _MEMBER_KEY.fullmatch(key)
        if member and member[2] in MEMBER_FIELDS and int(member[1]) < MAX_MEMBERS + 5:
            rows.setdefault(int(member[1]), {})[member[2]] = value
        elif key in DETAIL_FIELDS and key != MEMBERS:
            raw[key] = value
    if rows:
        # Gaps in the numbering keep their index so that error keys still name the right row.
        raw[MEMBERS] = [rows.get(index, {}) for index in range(max(rows) + 1)]
    return raw


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def form_values(details: Details | None) -> dict[str, Any]:
    """Validated details as the strings a form shows (members as a list of dicts)."""
    values: dict[str, Any] = {name: "" for name in DETAIL_FIELDS if name != MEMBERS}
    values[MEMBERS] = []
    if details is None:
        return values
    for name in values:
        if name != MEMBERS:
            values[name] = _as_text(getattr(details, name))
    values[MEMBERS] = [member_values(member) for member in details.household_members]
    return values


def member_values(member: HouseholdMember) -> dict[str, str]:
    """One household member's fields as strings."""
    return {name: _as_text(getattr(member, name)) for name in MEMBER_FIELDS}


def echo_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What was typed, to show again next to the error messages (never stored)."""
    values = form_values(None)
    for name, value in raw.items():
        if name == MEMBERS:
            values[MEMBERS] = [{field: str(row.get(field, "")) for field in MEMBER_FIELDS}
                               for row in value]
        else:
            values[name] = str(value)
    return values


def member_rows(values: Mapping[str, Any], extra: int = 1,
                minimum: int = 2) -> list[dict[str, str]]:
    """The rows of the household table: those filled in plus `extra` empty ones."""
    rows = [dict(row) for row in values.get(MEMBERS, [])]
    wanted = min(MAX_MEMBERS, max(minimum, len(rows) + extra))
    rows += [dict.fromkeys(MEMBER_FIELDS, "") for _ in range(wanted - len(rows))]
    return rows


def readable_date(value: date | None) -> str:
    """A date as forms show it: 1990-04-01 (平成2年4月1日)."""
    if value is None:
        return ""
    try:
        era_of(value)
    except ValueError:
        return value.isoformat()
    return date_readings(f"{value.isoformat()} ({format_era(value)})")


def choice_options(locale: Locale) -> dict[str, list[tuple[str, str]]]:
    """The options of the choice fields, labelled in the current language."""
    territories = locale.territories
    nationalities = sorted(((code, territories.get(code, code)) for code in nationality_codes()
                            if code != STATELESS), key=lambda item: item[1])
    nationalities.append((STATELESS, _("Stateless")))
    return {
        # Readings kept for the radio buttons' labels; <option>s take the |plain text.
        "sex": [(key.value, as_text(label)) for key, label in SEX_LABELS.items()],
        "relationship": [(key.value, as_text(label)) for key, label in RELATIONSHIP_LABELS.items()],
        "residence_status": [(key.value, as_text(label))
                             for key, label in RESIDENCE_STATUS_LABELS.items()],
        "nationality": nationalities,
    }


def display_value(name: str, value: Any, locale: Locale) -> str:
    """A stored detail as a person reads it (labels, era dates, country names)."""
    if value in (None, ""):
        return ""
    if name in DATE_FIELDS or isinstance(value, date):
        return readable_date(value if isinstance(value, date) else date.fromisoformat(value))
    labels: dict[str, Mapping[Any, Any]] = {"sex": SEX_LABELS, "relationship": RELATIONSHIP_LABELS,
                                            "residence_status": RESIDENCE_STATUS_LABELS}
    if name in labels:
        for key, label in labels[name].items():
            if key == value:
                return as_text(label)
    if name == "nationality":
        return _("Stateless") if value == STATELESS else str(locale.territories.get(str(value),
                                                                                     value))
    return str(value)


def form_context(fields: Iterable[str], required: Iterable[str], values: Mapping[str, Any],
                 errors: Mapping[str, str] | None = None, extra_rows: int = 1,
                 form_error: Any = None) -> dict[str, Any]:
    """What `templates/kiosk/_details_form.html` needs for the given fields: the kiosk's
    details screen and details entered at home fill the one form the same way."""
    fields = tuple(fields)
    errors = dict(errors or {})
    return {
        "fields": [name for name in fields if name not in FOREIGN_FIELDS and name != MEMBERS],
        "foreign_fields": [name for name in fields if name in FOREIGN_FIELDS],
        "foreign_open": any(name in errors or values.get(name) for name in FOREIGN_FIELDS),
        "with_members": MEMBERS in fields,
        "member_fields": MEMBER_FIELDS,
        "rows": member_rows(values, extra=extra_rows),
        "required": tuple(required),
        "labels": FIELD_LABELS, "values": values, "errors": errors,
        "options": choice_options(current_language().babel),
        "date_fields": DATE_FIELDS, "form_error": form_error,
    }

