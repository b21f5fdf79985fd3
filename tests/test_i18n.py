"""Language negotiation, locale formatting and catalog completeness."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from frontyard import PROJECT_ROOT, i18n, ruby
from frontyard.templating import TEMPLATES_DIR


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ja", "ja"), ("ja-JP", "ja"), ("en", "en"), ("en-GB", "en"), ("en-US", "en"),
        ("zh-CN", "zh_Hans"), ("zh-SG", "zh_Hans"), ("zh-Hans", "zh_Hans"), ("zh", "zh_Hans"),
        ("zh-TW", "zh_Hant"), ("zh-HK", "zh_Hant"), ("zh-Hant", "zh_Hant"),
        ("tl", "tl"), ("fil", "tl"), ("fil-PH", "tl"), ("pt-BR", "pt_BR"), ("pt", "pt_BR"),
        ("ko-KR", "ko"), ("vi", "vi"), ("es-MX", "es"), ("ne-NP", "ne"), ("id", "id"),
        ("fr", None), ("xx-YY", None), ("", None), ("!!", None),
    ],
)
def test_match_language(tag, expected):
    """Tags match on language, then script, then territory."""
    assert i18n.match_language(tag) == expected


def test_easy_japanese_only_by_explicit_choice():
    """No browser asks for easy Japanese; it is chosen on the kiosk."""
    assert i18n.negotiate(None, "ja", "ja") == "ja"
    assert i18n.negotiate("ja_easy", "en", "ja") == "ja_easy"


def test_negotiation_order():
    """Cookie choice beats Accept-Language, which beats the default."""
    assert i18n.negotiate("vi", "en-US,en;q=0.9", "ja") == "vi"
    assert i18n.negotiate(None, "fr-FR, zh-TW;q=0.8, en;q=0.5", "ja") == "zh_Hant"
    assert i18n.negotiate("not-a-locale", "fr", "ja") == "ja"
    assert i18n.negotiate(None, None, "en") == "en"


def test_accept_language_quality_order():
    """Higher q first; q=0 and wildcards are dropped; garbage does not raise."""
    assert i18n.parse_accept_language("en;q=0.2, ja, ko;q=0.5, *;q=0.1, de;q=0") == [
        "ja", "ko", "en"]
    assert i18n.parse_accept_language("en;q=abc") == []


def test_dates_times_and_numbers_follow_locale_and_city_zone():
    """The same instant reads differently per language, always in Asia/Tokyo."""
    tz = i18n.ZoneInfo("Asia/Tokyo")
    instant = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # 08:30 on 1 April in Tokyo
    with i18n.use_locale("ja"):
        assert i18n.fmt_date(instant.astimezone(tz)) == "2026年4月1日"
        assert i18n.fmt_time(instant, tz) == "8:30"
        assert i18n.fmt_number(1234567.5) == "1,234,567.5"
    with i18n.use_locale("en"):
        assert i18n.fmt_date(instant.astimezone(tz)) == "Apr 1, 2026"
        assert i18n.fmt_time(instant, tz) == "8:30\u202fAM"
    with i18n.use_locale("pt_BR"):
        assert i18n.fmt_number(1234567.5) == "1.234.567,5"
    with i18n.use_locale("es"):
        assert i18n.fmt_percent(0.25) == "25\xa0%"


def test_translate_map_falls_back():
    """Catalog data falls back from easy Japanese to Japanese, and to English otherwise."""
    names = {"ja": "市民課", "en": "Resident Registration"}
    with i18n.use_locale("ja_easy"):
        assert i18n.translate_map(names) == "市民課"
    with i18n.use_locale("vi"):
        assert i18n.translate_map(names) == "Resident Registration"


def test_translate_map_gives_easy_japanese_readings_as_ruby():
    """A name with readings is plain text as a string (JSON, attributes) and ruby in HTML."""
    from markupsafe import escape

    names = {"ja": "税務課", "ja_easy": "税務課《ぜいむか》", "en": "Taxation"}
    with i18n.use_locale("ja_easy"):
        name = i18n.translate_map(names)
    assert name == "税務課" and json.dumps(name) == '"\\u7a0e\\u52d9\\u8ab2"'
    assert str(escape(name)) == "<ruby>税務課<rp>(</rp><rt>ぜいむか</rt><rp>)</rp></ruby>"
    with i18n.use_locale("ja"):
        assert type(i18n.translate_map(names)) is str


def _catalog(code: str):  # type: ignore[no-untyped-def]
    with open(i18n.po_path(code), "rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("code", i18n.COMPLETE_LOCALES)
def test_complete_locales_have_no_untranslated_or_fuzzy_entries(code):
    """Every language is complete: every entry translated (plural forms too), none fuzzy."""
    problems = [message.id for message in _catalog(code)
                if message.id and (not message.string or message.fuzzy
                                   or (isinstance(message.string, tuple)
                                       and not all(message.string)))]
    assert not problems, f"{code}: untranslated or fuzzy: {problems}"


@pytest.mark.parametrize("code", sorted(i18n.RUBY_LOCALES))
def test_ruby_locales_put_a_reading_over_every_kanji(code):
    """Every translation (plural forms too) of an easy-Japanese catalog is well-formed ruby with
    a reading over each kanji, and no placeholder sits inside a base (its reading would be
    wrong for other values)."""
    problems = []
    for message in _catalog(code):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings if message.id else ():
            found = ruby.problems(text, every_kanji=True) or [
                f"placeholder in the base {segment.text!r}" for segment in ruby.parse(text)
                if segment.reading and "%" in segment.text]
            problems += [f"{text!r}: {problem}" for problem in found]
    assert not problems, f"{code}:\n" + "\n".join(problems)


def _extracted_ids() -> set[str]:
    method_map = [("frontyard/**.py", "python"), ("kiosk/**.py", "python"),
                  ("counter/**.py", "python"), ("analytics/**.py", "python"),
                  ("admin/**.py", "python"), ("navigator/**.py", "python"),
                  ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                     "lstrip_blocks": "True"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
                "lazy_gettext": None, "deferred": None}
    ids = set()
    for _, _, message, _, _ in extract_from_dir(PROJECT_ROOT, method_map, options, keywords):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("code", [language.code for language in i18n.LANGUAGES])
def test_every_catalog_holds_every_extracted_string(code):
    """No marked string is missing from a catalog (run `make i18n-update` when this fails)."""
    catalog_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(code) if m.id}
    missing = _extracted_ids() - catalog_ids
    assert not missing, f"{code} lacks: {sorted(missing)}"


TRANSLATABLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "aria-description"}
_JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


class _TextCollector(HTMLParser):
    """Collects human-readable text and attributes from a template's static parts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in TRANSLATABLE_ATTRIBUTES and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.texts.append(data)


def _untranslated_text(source: str) -> list[str]:
    """Words in a template that bypass gettext (placeholders stand in for expressions)."""
    collector = _TextCollector()
    collector.feed(_JINJA_EXPRESSION.sub("\x00", source))
    found = []
    for text in collector.texts:
        cleaned = text.replace("\x00", " ")
        if re.search(r"[^\W\d_]", cleaned) and not re.fullmatch(r"[\s·:()\-–/|,.]*", cleaned):
            found.append(cleaned.strip())
    return found


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES_DIR).as_posix()
                                            for p in TEMPLATES_DIR.rglob("*.html")))
def test_templates_contain_no_untranslated_text(template):
    """Every human-readable word in a template goes through gettext."""
    source = (TEMPLATES_DIR / template).read_text(encoding="utf-8")
    jinja2.Environment(extensions=["jinja2.ext.i18n"]).parse(source)  # must be valid Jinja
    assert _untranslated_text(source) == [], template


def test_untranslated_text_detector_catches_plain_words():
    """The detector itself: plain words and attributes are caught, markup and marks are not."""
    assert _untranslated_text("<p>Hello</p>") == ["Hello"]
    assert _untranslated_text('<img alt="Logo" src="x">') == ["Logo"]
    assert _untranslated_text("<p>{{ _('Hello') }}</p><b>{{ n }}:</b>") == []
    assert _untranslated_text("<p>受付</p>") == ["受付"]


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def test_python_strings_passed_to_errors_are_marked():
    """Domain errors in Python are raised with translated messages, not bare literals."""
    from composition.factory import _routes
    from frontyard import errors

    _routes()  # imports every area, so every DomainError subclass is known
    domain_errors = "|".join(
        cls.__name__ for cls in [errors.DomainError, *_all_subclasses(errors.DomainError)])
    offenders = []
    pattern = re.compile(rf"raise ({domain_errors})\(\s*f?[\"']")
    for folder in ["frontyard", "kiosk", "counter", "analytics"]:
        for path in Path(PROJECT_ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_catalogs_compile_and_translate():
    """The in-memory compilation yields working translations."""
    i18n.translations.cache_clear()
    assert i18n.translations("ja").gettext("Sign in") == "ログイン"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert i18n.translations("ja_easy").gettext("Sign in") in {"ログイン", "ろぐいん"}
    assert isinstance(io.BytesIO, type)


@pytest.mark.parametrize("code", [language.code for language in i18n.LANGUAGES])
def test_untranslated_plurals_fall_back_instead_of_showing_the_singular(code):
    """A plural not yet translated uses the fallback language, or English in the right number."""
    fallback = i18n.FALLBACKS.get(code)
    for message in _catalog(code):
        if not (message.id and isinstance(message.id, tuple)) or any(message.string):
            continue
        singular, plural = message.id
        got = i18n.translations(code).ngettext(singular, plural, 3)
        expected = (i18n.translations(fallback).ngettext(singular, plural, 3) if fallback
                    else plural)
        assert got == expected, (code, singular)


def test_a_deferred_message_is_english_as_text_and_translated_when_shown():
    """A deferred message (a catalog check's, cached for every reader) reads in English as a
    string whatever the language around it, and in the reader's language when translated;
    a message among its values is translated too, and easy Japanese keeps its readings."""
    with i18n.use_locale("ja"):
        message = i18n.deferred("Input should be a valid string, not %(found)s",
                                found=i18n.deferred("a list"))
        assert message == "Input should be a valid string, not a list"
        assert i18n.translated(message) == "文字列でなければなりませんが、リスト です"
        assert i18n.translated("plain text") == "plain text"
    twice = i18n.deferred("duplicate key '%(key)s'", key="name")
    with i18n.use_locale("ja_easy"):
        shown = i18n.translated(twice)
        assert str(shown) == "キー 'name' が 2回 あります" and "<ruby>回" in str(shown.__html__())
    with i18n.use_locale("en"):
        assert i18n.translated(twice) == "duplicate key 'name'"
