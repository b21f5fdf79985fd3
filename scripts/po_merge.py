"""Resolve merge conflicts in the gettext catalogs: keep every translation either side made.

    python scripts/po_merge.py            # after a `git merge` stopped on .po conflicts

For each conflicted catalog it reads our and their versions from git's index, takes the
union of their translations (ours wins where both translated the same msgid differently),
writes it, re-extracts and updates every catalog, and re-applies the union.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def _version(stage: int, path: str):  # type: ignore[no-untyped-def]
    blob = subprocess.run(["git", "show", f":{stage}:{path}"], cwd=ROOT, capture_output=True,
                          check=True).stdout
    return read_po(io.BytesIO(blob))


def _translations(catalog) -> dict:  # type: ignore[no-untyped-def]
    return {m.id: m.string for m in catalog if m.id and _done(m.string) and not m.fuzzy}


def _done(string) -> bool:  # type: ignore[no-untyped-def]
    """A translation is there: a non-empty string, or every plural form filled."""
    return all(string) if isinstance(string, tuple) else bool(string)


def main() -> None:
    """Merge every conflicted .po file."""
    conflicted = subprocess.run(["git", "diff", "--name-only", "--diff-filter=U"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.split()
    merged: dict[str, dict] = {}
    for path in (p for p in conflicted if p.endswith(".po")):
        theirs = _translations(_version(3, path))
        ours = _translations(_version(2, path))
        merged[path] = theirs | ours
        catalog = _version(2, path)
        with (ROOT / path).open("wb") as handle:
            write_po(handle, catalog, width=100, no_location=True, sort_output=True)
    subprocess.run(["make", "-s", "i18n-update"], cwd=ROOT, check=True)
    for path, translations in merged.items():
        with (ROOT / path).open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if message.id in translations and not _done(message.string):
                message.string = translations[message.id]
                message.flags.discard("fuzzy")
        with (ROOT / path).open("wb") as handle:
            write_po(handle, catalog, width=100, no_location=True, sort_output=True,
                     ignore_obsolete=True)
        subprocess.run(["git", "add", path], cwd=ROOT, check=True)
        print(f"merged {path}: {len(translations)} translations", file=sys.stderr)


if __name__ == "__main__":
    main()
