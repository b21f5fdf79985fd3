"""Furigana (ruby) markup in catalog texts: parse, check, render as HTML or plain text.

The notation is the one of Aozora Bunko (青空文庫), familiar to Japanese editors and safe in
YAML without quoting (braces would start a YAML flow mapping):

- ``漢字《かんじ》``: the reading in 《》 goes over the run of kanji just before it;
- ``｜市民課《しみんか》``: a full-width bar marks where the base starts, for bases that are not
  only kanji or to split a run of kanji (``｜ＩＤ《アイディー》``).

Only kana (and the prolonged sound mark) may appear in a reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel.support import LazyProxy
from markupsafe import Markup, escape

BAR = "｜"
OPEN = "《"
CLOSE = "》"
KANJI = re.compile(r"[\u3005\u3006\u3007\u303b\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u30f6]")
_KANA_READING = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u30fc\s・]+")


@dataclass(frozen=True)
class Segment:
    """A piece of text, with its reading when it carries ruby."""

    text: str
    reading: str | None = None


class RubyError(ValueError):
    """Malformed ruby markup; `position` is the offset of the problem in the text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


def _kanji_run_start(text: str, end: int) -> int:
    """Where the run of kanji ending just before `end` starts."""
    start = end
    while start > 0 and KANJI.match(text[start - 1]):
        start -= 1
    return start


def parse(text: str) -> list[Segment]:
    """Split a text into plain and ruby segments; raises RubyError on malformed markup."""
    segments: list[Segment] = []
    plain_start = 0
    bar: int | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if char == BAR:
            if bar is not None:
                raise RubyError(f"second '{BAR}' before a reading", index)
            bar = index
        elif char == CLOSE:
            raise RubyError(f"'{CLOSE}' without '{OPEN}'", index)
        elif char == OPEN:
            close = text.find(CLOSE, index)
            if close < 0:
                raise RubyError(f"'{OPEN}' is never closed", index)
            reading = text[index + 1:close]
            if OPEN in reading:
                raise RubyError(f"'{OPEN}' inside a reading", index)
            if not reading.strip() or not _KANA_READING.fullmatch(reading):
                raise RubyError("a reading must be kana", index)
            base_start = bar + 1 if bar is not None else _kanji_run_start(text, index)
            if base_start == index:
                raise RubyError(f"no kanji before '{OPEN}' (mark the base with '{BAR}')", index)
            plain_end = bar if bar is not None else base_start
            if plain_end > plain_start:
                segments.append(Segment(text[plain_start:plain_end]))
            segments.append(Segment(text[base_start:index], reading))
            plain_start = close + 1
            bar = None
            index = close
        index += 1
    if bar is not None:
        raise RubyError(f"'{BAR}' without a reading after it", bar)
    if plain_start < len(text):
        segments.append(Segment(text[plain_start:]))
    return segments


def problems(text: str, *, every_kanji: bool = False) -> list[str]:
    """What is wrong with the markup of a text (empty when it is well formed); with
    `every_kanji`, kanji left without a reading are a problem too (easy-Japanese texts)."""
    try:
        segments = parse(text)
    except RubyError as error:
        return [str(error)]
    if every_kanji:
        bare = dict.fromkeys(char for segment in segments if segment.reading is None
                             for char in segment.text if KANJI.match(char))
        if bare:
            return [f"kanji without a reading: {''.join(bare)}"]
    return []


def to_html(text: str) -> Markup:
    """The text as escaped HTML with <ruby> elements (with <rp> for browsers without ruby)."""
    parts: list[str] = []
    for segment in parse(text):
        if segment.reading is None:
            parts.append(str(escape(segment.text)))
        else:
            parts.append(f"<ruby>{escape(segment.text)}<rp>(</rp>"
                         f"<rt>{escape(segment.reading)}</rt><rp>)</rp></ruby>")
    return Markup("".join(parts))


def to_plain(text: str, *, readings: bool = False) -> str:
    """The text without markup: the kanji (for print and titles) or the readings (for speech)."""
    return "".join(
        segment.reading if readings and segment.reading else segment.text
        for segment in parse(text)
    )


class Furigana(str):
    """A text with ruby markup that is plain text as a string and <ruby> in HTML.

    What easy-Japanese translations return: JSON, logs, speech and attribute values see the
    plain text (`str(text)`, the kanji without readings); Jinja's autoescaping and
    markupsafe call `__html__` and show the readings over the kanji. `%` formatting keeps
    the readings; other string operations give plain strings.
    """

    __slots__ = ("marked",)
    marked: str

    def __new__(cls, marked: str) -> Furigana:
        text = super().__new__(cls, to_plain(marked))
        text.marked = marked
        return text

    def __html__(self) -> Markup:
        """The text as HTML with ruby."""
        return to_html(self.marked)

    def __mod__(self, values: object) -> str:
        """Format the marked text; values that look like markup are never parsed as such.

        Values keep their own readings: a translated value (an era's name) brings its ruby,
        and a Japanese date (令和元年5月1日) gets its readings as the messages' own dates do."""
        if any(mark in str(value) for value in _values(values) for mark in (BAR, OPEN, CLOSE)):
            return str(self) % values
        return Furigana(counter_readings(_explicit(self.marked) % _marked_values(values)))


def _explicit(marked: str) -> str:
    """Marked text with every base marked explicitly (｜base《reading》): a value ending in
    kanji ("山田" before "様《さま》") must not join the base of the reading after it."""
    return "".join(f"{BAR}{segment.text}{OPEN}{segment.reading}{CLOSE}"
                   if segment.reading else segment.text for segment in parse(marked))


def _marked_values(values: object) -> object:
    """`%` values as marked text where they carry readings (see `Furigana.__mod__`)."""
    if isinstance(values, dict):
        return {key: _marked_value(value) for key, value in values.items()}
    if isinstance(values, tuple):
        return tuple(_marked_value(value) for value in values)
    return _marked_value(values)


def _marked_value(value: object) -> object:
    if isinstance(value, LazyProxy):
        value = value.value
    if isinstance(value, Furigana):
        return _explicit(value.marked)
    if isinstance(value, str):
        return _explicit(mark_dates(value))
    return value  # numbers keep their %d / %.1f formatting


#: 分 after a number ending in 1, 3, 4, 6, 8 or 0 is read ぷん (いっぷん, じゅっぷん), else ふん.
_MINUTES = re.compile(f"(\\d+){BAR}分{OPEN}ふん{CLOSE}")
#: One and two people are ひとり and ふたり (and the first, second person ひとりめ, ふたりめ).
_PEOPLE = re.compile(f"(?<!\\d)([12]){BAR}人(目?){OPEN}にん(め?){CLOSE}")


def counter_readings(marked: str) -> str:
    """Readings of counters that change with the number put before them (`%` formatting of
    easy-Japanese messages such as "%(num)d分《ふん》")."""
    marked = _MINUTES.sub(lambda m: f"{m[1]}{BAR}分{OPEN}"
                          f"{'ぷん' if m[1][-1] in '134680' else 'ふん'}{CLOSE}", marked)
    return _PEOPLE.sub(lambda m: f"{BAR}{m[1]}人{m[2]}{OPEN}"
                       f"{'ひとり' if m[1] == '1' else 'ふたり'}{m[3]}{CLOSE}", marked)


def _values(values: object) -> list[object]:
    if isinstance(values, dict):
        return list(values.values())
    return list(values) if isinstance(values, tuple) else [values]


def furigana(text: str) -> str:
    """A Furigana for text with well-formed ruby markup; any other text unchanged."""
    if OPEN not in text:
        return text
    try:
        return Furigana(text)
    except RubyError:
        return text


_READINGS_HTML = re.compile(r"<rp>.*?</rp>|<rt>.*?</rt>", re.DOTALL)


def plain_text(value: object) -> str:
    """What a text reads as without its readings or tags: for places where HTML cannot go
    (attribute values, <title>, <option>). Accepts plain text, Furigana and HTML."""
    if isinstance(value, Markup) or (not isinstance(value, str) and hasattr(value, "__html__")):
        return Markup(_READINGS_HTML.sub("", Markup(value))).striptags()
    return str(value)


# --- Readings of Japanese dates -------------------------------------------------------------

_ERA_READINGS = {"明治": "めいじ", "大正": "たいしょう", "昭和": "しょうわ", "平成": "へいせい",
                 "令和": "れいわ"}
#: Days of the month read irregularly; the others are N日《にち》.
_DAY_READINGS = {1: "ついたち", 2: "ふつか", 3: "みっか", 4: "よっか", 5: "いつか", 6: "むいか",
                 7: "なのか", 8: "ようか", 9: "ここのか", 10: "とおか", 14: "じゅうよっか",
                 20: "はつか", 24: "にじゅうよっか"}
_WEEKDAY_READINGS = {"月": "げつ", "火": "か", "水": "すい", "木": "もく", "金": "きん", "土": "ど",
                     "日": "にち"}
_JAPANESE_DATE = re.compile(r"(明治|大正|昭和|平成|令和)?(元|\d+)年(\d+)月(\d+)日"
                            r"(?:([月火水木金土日])曜日)?")


def _marked_date(match: re.Match[str]) -> str:
    era, year, month, day, weekday = match.groups()
    marked = f"{era}{OPEN}{_ERA_READINGS[era]}{CLOSE}" if era else ""
    marked += f"元年{OPEN}がんねん{CLOSE}" if year == "元" else f"{year}年{OPEN}ねん{CLOSE}"
    marked += f"{month}月{OPEN}がつ{CLOSE}"
    special = _DAY_READINGS.get(int(day))
    marked += f"{BAR}{day}日{OPEN}{special}{CLOSE}" if special else f"{day}日{OPEN}にち{CLOSE}"
    if weekday:
        marked += f"{weekday}曜日{OPEN}{_WEEKDAY_READINGS[weekday]}ようび{CLOSE}"
    return marked


def mark_dates(text: str) -> str:
    """Japanese dates in a text with their readings in ruby markup, for easy Japanese:
    令和8年12月3日 → 令和《れいわ》8年《ねん》12月《がつ》｜3日《みっか》 (days 1–10, 14, 20 and
    24 are read irregularly, the others N日《にち》)."""
    return _JAPANESE_DATE.sub(_marked_date, text)
