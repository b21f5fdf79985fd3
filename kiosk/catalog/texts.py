"""A catalog's texts: walking them, the translations they lack, and showing them in a language.

The localisation helpers are what screens and templates use; they need neither the YAML
reading nor the checks, so they live on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from markupsafe import Markup, escape
from pydantic import BaseModel

from frontyard import ruby
from frontyard.i18n import FALLBACKS, RUBY_LOCALES
from kiosk.catalog.reading import Loc, format_place
from kiosk.catalog.schema import KIOSK_LOCALES, Catalog


def located_texts(item: Any, loc: Loc = ()) -> Iterator[tuple[Loc, dict[str, str]]]:
    """Every text under an item, with its location."""
    if isinstance(item, BaseModel):
        for name in type(item).model_fields:
            yield from located_texts(getattr(item, name), (*loc, name))
    elif isinstance(item, list):
        for index, child in enumerate(item):
            yield from located_texts(child, (*loc, index))
    elif isinstance(item, dict):
        yield loc, item


def iter_texts(item: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """Every translatable text of a catalog (or part of one), with its place."""
    for loc, text in located_texts(item):
        yield format_place(loc), text


def missing_translations(catalog: Catalog,
                         locales: Iterable[str] = KIOSK_LOCALES) -> dict[str, list[str]]:
    """For each locale with gaps, the places of the texts it lacks (for translators and tests)."""
    gaps: dict[str, list[str]] = {}
    texts = list(iter_texts(catalog))
    for code in locales:
        places = [place for place, text in texts if not text.get(code)]
        if places:
            gaps[code] = places
    return gaps


def localized(text: Mapping[str, str], locale: str) -> str:
    """A catalog text in a language, falling back (easy Japanese → Japanese → English)."""
    for code in (locale, FALLBACKS.get(locale), "en", "ja"):
        if code and text.get(code):
            return text[code]
    return next(iter(text.values()), "")


def localized_html(text: Mapping[str, str], locale: str) -> Markup:
    """A catalog text as safe HTML: ruby over kanji in easy Japanese, escaped everywhere."""
    for code in (locale, FALLBACKS.get(locale), "en", "ja"):
        if code and text.get(code):
            return ruby.to_html(text[code]) if code in RUBY_LOCALES else escape(text[code])
    return Markup("")
