"""Checks shared by the admin's forms and commands: codes, names per language, colours, ranges.

Each check returns the clean value or adds a translated message under its field name, so a
form shows every problem at once; `raise_if` turns the collected problems into one error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from frontyard.errors import ValidationFailed
from frontyard.i18n import LANGUAGES
from frontyard.i18n import gettext as _

CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_NAME = 100

Problems = dict[str, str]


def code(value: str, field: str, problems: Problems) -> str:
    """A lower-case code: letters, digits, - and _, 1 to 32 characters."""
    value = value.strip()
    if not CODE.fullmatch(value):
        problems[field] = _("Use 1 to 32 lower-case letters, digits, - or _ (starting with a "
                            "letter or digit).")
    return value


def names(values: Mapping[str, str], problems: Problems, field: str = "names") -> dict[str, str]:
    """Names per language: Japanese required, each at most 100 characters, known languages."""
    known = {language.code for language in LANGUAGES}
    clean = {locale: text.strip() for locale, text in values.items() if text.strip()}
    unknown = sorted(set(clean) - known)
    if unknown:
        problems[field] = _("Unknown language: %(code)s") % {"code": ", ".join(unknown)[:40]}
    elif not clean.get("ja"):
        problems[field] = _("Give the name in Japanese.")
    elif any(len(text) > MAX_NAME for text in clean.values()):
        problems[field] = _("Names are at most %(max)d characters.") % {"max": MAX_NAME}
    return clean


def text(value: str, field: str, limit: int, problems: Problems) -> str:
    """A free text of at most `limit` characters (may be empty)."""
    value = value.strip()
    if len(value) > limit:
        problems[field] = _("At most %(max)d characters.") % {"max": limit}
    return value


def colour(value: str, problems: Problems) -> str:
    """A colour written #RRGGBB, or empty for the default."""
    value = value.strip()
    if value and not COLOUR.fullmatch(value):
        problems["colour"] = _("Write the colour as # and six hexadecimal digits, e.g. #1a6fb0.")
    return value.lower()


def number(value: str | int, field: str, low: int, high: int, problems: Problems) -> int:
    """A whole number between `low` and `high`."""
    try:
        result = int(str(value).strip())
    except ValueError:
        result = low - 1
    if not low <= result <= high:
        problems[field] = _("Enter a whole number from %(low)d to %(high)d.") % {
            "low": low, "high": high}
    return result


def raise_if(problems: Problems) -> None:
    """One ValidationFailed carrying every problem, if there is any."""
    if problems:
        raise ValidationFailed(next(iter(problems.values())), **problems)


def snapshot(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """A row's audited fields as plain JSON values (before/after in the audit log)."""
    return {field: (value.value if hasattr(value, "value") else value)
            for field in fields for value in [getattr(row, field)]}
