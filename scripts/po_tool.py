"""Translation chores: copy English sources, apply translations from JSON, list what is missing.

    python scripts/po_tool.py fill-english            # en msgstr = msgid
    python scripts/po_tool.py apply ja ja.json        # {"msgid": "msgstr", ...}
    python scripts/po_tool.py missing ja              # print untranslated msgids as JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CONTEXT_SEPARATOR = "\x04"
LOCALES = Path(__file__).resolve().parent.parent / "locales"


def _path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / "messages.po"


def _load(code: str):  # type: ignore[no-untyped-def]
    with _path(code).open("rb") as handle:
        return read_po(handle, locale=None, abort_invalid=True)


def _save(code: str, catalog) -> None:  # type: ignore[no-untyped-def]
    with _path(code).open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, no_location=True,
                 sort_output=True, ignore_obsolete=True)


def fill_english() -> None:
    """English is the source language: its translations are the msgids themselves."""
    catalog = _load("en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    _save("en", catalog)


def apply(code: str, json_file: str) -> None:
    """Set translations from a JSON object; unknown msgids are reported, not added."""
    translations = json.loads(Path(json_file).read_text(encoding="utf-8"))
    catalog = _load(code)
    unknown = []
    plural_ids = {m.id[0]: m.id for m in catalog if m.pluralizable}
    for key, msgstr in translations.items():
        # A key "context\u0004msgid" names an entry with a msgctxt, as gettext does in .mo files.
        context, _, msgid = key.rpartition(CONTEXT_SEPARATOR)
        message = catalog.get(plural_ids.get(msgid, msgid), context=context or None)
        if message is None:
            unknown.append(key)
            continue
        if message.pluralizable:
            # A JSON list gives each plural form; one string serves every form.
            forms = msgstr if isinstance(msgstr, list) else [msgstr] * catalog.num_plurals
            message.string = tuple(forms)
        else:
            message.string = msgstr
        message.flags.discard("fuzzy")
    _save(code, catalog)
    for msgid in unknown:
        print(f"not in catalog: {msgid!r}", file=sys.stderr)


def missing(code: str) -> None:
    """Print the untranslated or fuzzy msgids of a locale as a JSON object to fill in."""
    catalog = _load(code)
    todo = {
        (f"{m.context}{CONTEXT_SEPARATOR}" if m.context else "")
        + (m.id if isinstance(m.id, str) else m.id[0]): ""
        for m in catalog
        if m.id and (not m.string or m.fuzzy or (isinstance(m.string, tuple) and not all(m.string)))
    }
    print(json.dumps(todo, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"fill-english": fill_english, "apply": apply, "missing": missing}[command](*args)
