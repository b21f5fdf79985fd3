"""Languages: which ones exist, choosing one per request, translations and locale formatting."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from gettext import GNUTranslations, NullTranslations
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import LazyProxy

from frontyard import PROJECT_ROOT, ruby

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"
LOCALE_COOKIE = "fy_locale"


@dataclass(frozen=True)
class LanguageInfo:
    """One language Frontyard speaks: its code (also its folder in locales/) and how to show it."""

    code: str
    babel_tag: str
    native_name: str
    html_lang: str

    @property
    def babel(self) -> Locale:
        """The Babel locale used for dates and numbers."""
        return Locale.parse(self.babel_tag)


LANGUAGES: tuple[LanguageInfo, ...] = (
    LanguageInfo("ja", "ja_JP", "日本語", "ja"),
    LanguageInfo("ja_easy", "ja_JP", "やさしい にほんご", "ja"),
    LanguageInfo("en", "en_US", "English", "en"),
    LanguageInfo("zh_Hans", "zh_Hans_CN", "简体中文", "zh-Hans"),
    LanguageInfo("zh_Hant", "zh_Hant_TW", "繁體中文", "zh-Hant"),
    LanguageInfo("ko", "ko_KR", "한국어", "ko"),
    LanguageInfo("vi", "vi_VN", "Tiếng Việt", "vi"),
    LanguageInfo("pt_BR", "pt_BR", "Português (Brasil)", "pt-BR"),
    LanguageInfo("es", "es_ES", "Español", "es"),
    LanguageInfo("tl", "fil_PH", "Filipino", "fil"),
    LanguageInfo("ne", "ne_NP", "नेपाली", "ne"),
    LanguageInfo("id", "id_ID", "Bahasa Indonesia", "id"),
)
BY_CODE = {language.code: language for language in LANGUAGES}

#: Locales whose catalogs must be fully translated (a test enforces it): every one.
COMPLETE_LOCALES: tuple[str, ...] = tuple(language.code for language in LANGUAGES)
#: Locales staff and manager pages offer.
STAFF_LOCALES: tuple[str, ...] = ("ja", "en")
#: Locales whose texts (UI translations and catalog data) carry furigana in ruby markup.
RUBY_LOCALES: frozenset[str] = frozenset({"ja_easy"})
#: Easy Japanese borrows Japanese where it has no simpler wording yet.
FALLBACKS = {"ja_easy": "ja"}
#: Only an explicit choice selects these; a browser never asks for them.
EXPLICIT_ONLY = {"ja_easy"}
#: Babel calls Tagalog `fil` and may parse `tl` into it.
_LANGUAGE_ALIASES = {"tl": "fil"}

_current: ContextVar[str] = ContextVar("frontyard_locale", default="ja")


def is_supported(code: str | None) -> bool:
    """Whether the code names one of our languages."""
    return code in BY_CODE


def current_locale() -> str:
    """The language code of the request being handled."""
    return _current.get()


def current_language() -> LanguageInfo:
    """The LanguageInfo of the request being handled."""
    return BY_CODE[_current.get()]


def set_locale(code: str) -> None:
    """Make `code` the language for the rest of this context."""
    _current.set(code if code in BY_CODE else "ja")


@contextmanager
def use_locale(code: str) -> Iterator[None]:
    """Temporarily render in another language (e.g. a board's second language)."""
    token = _current.set(code if code in BY_CODE else "ja")
    try:
        yield
    finally:
        _current.reset(token)


def _language_of(locale: Locale) -> str:
    return _LANGUAGE_ALIASES.get(locale.language, locale.language)


def _script_of(locale: Locale) -> str | None:
    """The script a locale is written in, filling it in from likely subtags (zh-SG → Hans)."""
    if locale.script:
        return locale.script
    likely = get_global("likely_subtags")
    for key in (f"{locale.language}_{locale.territory}", locale.language):
        if key in likely:
            return Locale.parse(likely[key]).script
    return None


def match_language(tag: str) -> str | None:
    """Our language for one BCP 47 tag: matched on language, then script, then territory."""
    try:
        wanted = Locale.parse(tag.strip().replace("_", "-"), sep="-")
    except (ValueError, UnknownLocaleError, TypeError):
        return None
    candidates = [
        language
        for language in LANGUAGES
        if language.code not in EXPLICIT_ONLY
        and _language_of(language.babel) == _language_of(wanted)
    ]
    if not candidates:
        return None
    script = _script_of(wanted)
    same_script = [c for c in candidates if _script_of(c.babel) == script] or candidates
    same_territory = [c for c in same_script if c.babel.territory == wanted.territory]
    return (same_territory or same_script)[0].code


def parse_accept_language(header: str) -> list[str]:
    """The tags of an Accept-Language header, most wanted first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(cookie_choice: str | None, accept_language: str | None, default: str) -> str:
    """Explicit choice, then the browser's languages, then the default."""
    if cookie_choice in BY_CODE:
        return cookie_choice
    for tag in parse_accept_language(accept_language or ""):
        match = match_language(tag)
        if match:
            return match
    return default if default in BY_CODE else "ja"


def po_path(code: str) -> str:
    """Where the catalog of a language lives."""
    return str(LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po")


@cache
def translations(code: str) -> NullTranslations:
    """A language's catalog, compiled in memory from its .po (fuzzy entries left out)."""
    path = LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    result: NullTranslations
    if path.exists():
        with path.open("rb") as po_file:
            catalog = read_po(po_file, locale=BY_CODE[code].babel_tag)
        # An untranslated plural entry (msgstr[0] "") would otherwise be compiled and shadow
        # the fallback: "3 person" in English instead of easy Japanese's Japanese, or "people".
        for message in list(catalog):
            if message.id and isinstance(message.string, tuple) and not any(message.string):
                catalog.delete(message.id, message.context)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        result = GNUTranslations(buffer)
    else:
        result = NullTranslations()
    fallback = FALLBACKS.get(code)
    if fallback:
        result.add_fallback(translations(fallback))
    return result


def gettext(message: str) -> str:
    """Translate into the current language."""
    return with_readings(translations(_current.get()).gettext(message))


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate with the plural form the current language needs."""
    return with_readings(translations(_current.get()).ngettext(singular, plural, count))


def pgettext(context: str, message: str) -> str:
    """Translate a message whose meaning depends on a context."""
    return with_readings(translations(_current.get()).pgettext(context, message))


def with_readings(text: str) -> str:
    """Easy-Japanese translations carry readings over their kanji (see frontyard.ruby)."""
    return ruby.furigana(text) if _current.get() in RUBY_LOCALES else text


def as_text(value: object) -> str:
    """A translated message as a string for a page: like str(), but easy Japanese keeps its
    readings (str() of a Furigana, or of a lazy translation, gives the text without them)."""
    if isinstance(value, LazyProxy):
        value = value.value
    return value if isinstance(value, str) else str(value)


def lazy_gettext(message: str) -> LazyProxy:
    """A translation resolved when used, for module-level constants."""
    return LazyProxy(gettext, message, enable_cache=False)


class Deferred(str):
    """A message that is English as a string and translated only when shown (`translated`).

    For messages built where no reader is known, or kept for every reader: a catalog check's
    problems are cached by the text's hash and shared by every admin, kiosk and command, so
    they keep their msgid and values and each page translates them into its reader's
    language; the command line and the logs print the English string."""

    __slots__ = ("msgid", "params")
    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, params: dict[str, object]) -> Deferred:
        text = super().__new__(cls, msgid % params if params else msgid)
        text.msgid = msgid
        text.params = params
        return text

    def translated(self) -> str:
        """The message in the current language (its values too, when they are messages)."""
        text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {key: translated(value) if isinstance(value, str) else value
                       for key, value in self.params.items()}


def deferred(message: str, **params: object) -> Deferred:
    """A message translated when shown rather than now (extracted like `gettext`)."""
    return Deferred(message, params)


def translated(text: str) -> str:
    """A Deferred message in the current language; any other text as it is."""
    return text.translated() if isinstance(text, Deferred) else text


def translate_map(names: dict[str, str]) -> str:
    """Pick the current language from a {code: text} map of catalog data, with fallbacks.

    In easy Japanese a text with readings comes back as `ruby.Furigana`: plain as a string
    (JSON, CSV, attributes), <ruby> in HTML."""
    code = _current.get()
    for candidate in (code, FALLBACKS.get(code), "en", "ja"):
        if candidate and names.get(candidate):
            return with_readings(names[candidate])
    return next(iter(names.values()), "")


def _babel_locale() -> Locale:
    return BY_CODE[_current.get()].babel


def local_datetime(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime in the city's time zone."""
    return value.astimezone(tz)


#: How every screen shows a date: the year in full and the month by name or in the language's
#: own order (CLDR's "yMMMd": 2026年12月6日, Dec 6, 2026, 6 thg 12, 2026), never CLDR's short
#: forms with two-digit years in differing orders (12/6/26, 26. 12. 6.).
DATE_SKELETON = "yMMMd"
#: The formats callers may ask for that `fmt_when` stands in for.
_EVERYDAY = frozenset({"short", "medium"})


def fmt_when(value: date | datetime, tz: ZoneInfo | None = None, *, with_date: bool = True,
             with_time: bool = True) -> str:
    """A date, a time of day or both, as every screen shows them in the current language
    (datetimes in the city's zone `tz`)."""
    locale = _babel_locale()
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    with_time = with_time and isinstance(value, datetime)
    day = format_skeleton(DATE_SKELETON, value, locale=locale) if with_date else ""
    hour = format_time(value, "short", locale=locale) if with_time else ""  # type: ignore[arg-type]
    if day and hour:
        pattern = locale.datetime_formats["medium"]
        text = str(pattern).replace("{1}", day).replace("{0}", hour)
    else:
        text = day or hour
    return date_readings(text)


def fmt_datetime(value: datetime, tz: ZoneInfo, fmt: str = "medium") -> str:
    """A date and time in the current language, in the city's zone (`fmt_when` for the
    everyday formats; CLDR's "long" and "full" spell the date out)."""
    if fmt in _EVERYDAY:
        return fmt_when(value, tz)
    return date_readings(format_datetime(value, fmt, tzinfo=tz, locale=_babel_locale()))


def fmt_date(value: date | datetime, fmt: str = "medium") -> str:
    """A date in the current language (`fmt_when` for the everyday formats)."""
    if fmt in _EVERYDAY:
        return fmt_when(value, with_time=False)
    return date_readings(format_date(value, fmt, locale=_babel_locale()))


def date_readings(text: str) -> str:
    """Japanese dates in a text, with readings over 年, 月 and 日 in easy Japanese."""
    return with_readings(ruby.mark_dates(text)) if _current.get() in RUBY_LOCALES else text


def fmt_time(value: datetime | time, tz: ZoneInfo | None = None, fmt: str = "short") -> str:
    """A time of day in the current language (in the city's zone for datetimes)."""
    if fmt in _EVERYDAY and isinstance(value, datetime):
        return fmt_when(value, tz, with_date=False)
    return format_time(value, fmt, tzinfo=tz, locale=_babel_locale())


def fmt_number(value: float | int) -> str:
    """A number with the current language's separators."""
    return format_decimal(value, locale=_babel_locale())


def fmt_percent(value: float) -> str:
    """A ratio as a percentage in the current language."""
    return format_percent(value, locale=_babel_locale())
