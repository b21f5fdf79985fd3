"""Weekdays and hours in words, in the page's language: "Tuesday–Thursday, 1:00 PM–3:00 PM",
"火曜日〜木曜日 13:00〜15:00", and in easy Japanese with readings over the weekdays' kanji."""

from __future__ import annotations

from datetime import time
from itertools import pairwise

from babel.lists import format_list

from frontyard import i18n, ruby
from frontyard.i18n import gettext as _
from navigator.best_time import Span

#: Readings of the weekdays (Monday = 0) for easy Japanese.
WEEKDAY_READINGS = ("げつようび", "かようび", "すいようび", "もくようび", "きんようび", "どようび",
                    "にちようび")
#: A run of this many consecutive weekdays is told as a range ("Tuesday–Thursday").
RANGE_FROM = 3


def _easy() -> bool:
    return i18n.current_locale() in i18n.RUBY_LOCALES


def _weekday(index: int) -> str:
    """A weekday's name; in easy Japanese, marked with its reading."""
    name = i18n.current_language().babel.days["format"]["wide"][index]
    return f"｜{name}《{WEEKDAY_READINGS[index]}》" if _easy() else name


def _between(first: str, last: str) -> str:
    """"first–last" as the language writes a range."""
    if _easy():
        return f"{first}〜{last}"
    return _("%(first)s–%(last)s") % {"first": first, "last": last}


def days_words(weekdays: tuple[int, ...]) -> str:
    """Weekdays as a range when consecutive, else as a list."""
    names = [_weekday(index) for index in weekdays]
    consecutive = all(b == a + 1 for a, b in pairwise(weekdays))
    if len(names) >= RANGE_FROM and consecutive:
        return _between(names[0], names[-1])
    if _easy():
        return "、".join(names)
    return format_list(names, locale=i18n.current_language().babel)


def hours_words(start: int, end: int) -> str:
    """The hours from `start` to `end` o'clock."""
    return _between(i18n.fmt_time(time(start % 24)), i18n.fmt_time(time(end % 24)))


def span_words(span: Span | None) -> str | None:
    """The weekdays and hours of a span, or None for no span."""
    if span is None:
        return None
    text = _("%(days)s, %(hours)s") % {"days": days_words(span.weekdays),
                                        "hours": hours_words(span.start, span.end)}
    return ruby.furigana(text) if _easy() else text
