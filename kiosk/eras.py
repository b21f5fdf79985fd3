"""Dates as residents write them: Western (1990-04-01, 1990/4/1) or era (令和7年4月1日, R7.4.1).

Decision on dates outside their era (平成31年5月1日, 昭和64年1月8日, 令和元年4月30日): they are
refused, and the message gives the right spelling (令和元年5月1日). Writing the wrong era is the
most frequent slip on paper forms; accepting it silently would carry the slip onto the printed
form the resident signs, which is what the no-write counter sets out to avoid.

Meiji years 1–5 used the lunisolar calendar (Japan switched to the Gregorian one on 明治6年1月1日,
1873-01-01), so dates before 1873 are refused rather than converted wrongly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from babel.support import LazyProxy

from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext


@dataclass(frozen=True)
class Era:
    """A Japanese era (元号) and the first day it was in use, in the Gregorian calendar."""

    kanji: str
    letter: str
    start: date
    label: LazyProxy


ERAS: tuple[Era, ...] = (
    # Proclaimed 1868-10-23, counted from the first day of that (lunar) year, 1868-01-25.
    Era("明治", "M", date(1868, 1, 25), lazy_gettext("Meiji")),
    Era("大正", "T", date(1912, 7, 30), lazy_gettext("Taisho")),
    Era("昭和", "S", date(1926, 12, 25), lazy_gettext("Showa")),
    Era("平成", "H", date(1989, 1, 8), lazy_gettext("Heisei")),
    Era("令和", "R", date(2019, 5, 1), lazy_gettext("Reiwa")),
)
#: The first date we convert: Japan adopted the Gregorian calendar on 明治6年1月1日.
GREGORIAN_ADOPTION = date(1873, 1, 1)

_ERA_BY_NAME: dict[str, Era] = {}
for _era in ERAS:
    _ERA_BY_NAME.update({_era.kanji: _era, _era.kanji[0]: _era, _era.letter: _era})

_SEP = r"\s*(?:[./\-]|年|月)\s*"
_ERA_DATE = re.compile(
    r"(?P<era>明治|大正|昭和|平成|令和|[明大昭平令MTSHR])\s*\.?\s*(?P<year>元|\d{1,3})"
    r"(?:\s*年?\s*$|" + _SEP + r"(?P<month>\d{1,2})" + _SEP + r"(?P<day>\d{1,2})\s*日?$)",
)
_WESTERN_DATE = re.compile(
    r"(?P<year>\d{4})(?:\s*年?\s*$|" + _SEP + r"(?P<month>\d{1,2})" + _SEP
    + r"(?P<day>\d{1,2})\s*日?$)",
)
_COMPACT_DATE = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})")


class DateInputError(ValueError):
    """A date a resident typed that cannot be read; the message is translated and says why."""


def era_of(value: date) -> Era:
    """The era a (post-1873) date belongs to."""
    for era in reversed(ERAS):
        if value >= era.start:
            return era
    raise DateInputError(_("Dates before 1873 cannot be entered."))


def format_era(value: date) -> str:
    """A date in the Japanese calendar as forms print it: 令和元年5月1日."""
    era = era_of(value)
    year = value.year - era.start.year + 1
    return f"{era.kanji}{'元' if year == 1 else year}年{value.month}月{value.day}日"


def format_era_short(value: date) -> str:
    """A date in the short era notation: R1.5.1."""
    era = era_of(value)
    return f"{era.letter}{value.year - era.start.year + 1}.{value.month}.{value.day}"


def _calendar_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateInputError(_("This date does not exist in the calendar.")) from None


def _era_date(era: Era, era_year: int, month: int, day: int) -> date:
    """Convert an era date, refusing one that falls outside its era."""
    if era_year < 1:
        raise DateInputError(_("This date does not exist in the calendar."))
    value = _calendar_date(era.start.year + era_year - 1, month, day)
    following = ERAS.index(era) + 1
    end = ERAS[following].start if following < len(ERAS) else None
    if value < GREGORIAN_ADOPTION:
        raise DateInputError(_("Dates before 1873 cannot be entered."))
    if value < era.start or (end is not None and value >= end):
        raise DateInputError(
            _("There is no such date in the %(era)s era: did you mean %(suggestion)s?")
            % {"era": era.label, "suggestion": f"{format_era(value)} ({value.isoformat()})"}
        )
    return value


def parse_date(text: str) -> date:
    """Read a date written in the Western or the Japanese calendar; raises DateInputError."""
    # NFKC turns full-width digits into ASCII and the one-character era signs (㍻, ㋿) into kanji.
    cleaned = unicodedata.normalize("NFKC", text).strip().upper()
    if not cleaned:
        raise DateInputError(_("Please fill in this field."))
    match = _ERA_DATE.fullmatch(cleaned)
    if match:
        if match["month"] is None:
            raise DateInputError(_("Enter the month and the day as well."))
        year = 1 if match["year"] == "元" else int(match["year"])
        return _era_date(_ERA_BY_NAME[match["era"]], year, int(match["month"]), int(match["day"]))
    match = _WESTERN_DATE.fullmatch(cleaned) or _COMPACT_DATE.fullmatch(cleaned)
    if match:
        if match["month"] is None:
            raise DateInputError(_("Enter the month and the day as well."))
        value = _calendar_date(int(match["year"]), int(match["month"]), int(match["day"]))
        if value < GREGORIAN_ADOPTION:
            raise DateInputError(_("Dates before 1873 cannot be entered."))
        return value
    raise DateInputError(_("Enter a date such as 1990-04-01 or 平成2年4月1日."))
