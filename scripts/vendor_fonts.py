"""Vendor the web fonts every offered language needs into static/fonts/ and static/css/fonts.css.

    python scripts/vendor_fonts.py

City-hall intranets are offline and kiosks may have no font for a script (Nepali showed empty
boxes), so Frontyard serves its own. The fonts are the Noto variable fonts (one file covers
every weight, so 400 and 700–800 are real, not synthesised) from Fontsource's npm packages,
which ship them as unicode-range slices: a browser downloads only the slices a page's text
needs. Each package is fetched with `npm pack` at a pinned version and checked against its
pinned integrity; its OFL licence is copied beside its files. Run it again after changing
FONTS; it rewrites its output completely (static/fonts/README.md records what it took).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONTS_DIR = ROOT / "static" / "fonts"
CSS_FILE = ROOT / "static" / "css" / "fonts.css"
NUMBERED = "numbered"  # the CJK fonts' frequency-ordered slices: [0] … [119]


@dataclass(frozen=True)
class Font:
    """One npm package of a variable font, and the slices Frontyard keeps of it."""

    package: str
    version: str
    integrity: str
    family: str
    subsets: tuple[str, ...]

    @property
    def folder(self) -> str:
        """The folder under static/fonts/ (the package's own name)."""
        return self.package.rsplit("/", 1)[1]


# Latin with the Vietnamese diacritics serves en, vi, pt_BR, es, tl and id; the CJK fonts keep
# their Latin slice too, for the punctuation (… — “”) in their own regional forms.
FONTS: tuple[Font, ...] = (
    Font("@fontsource-variable/noto-sans", "5.3.0",
         "sha512-e3ZuxzY9AL2psXPZlhwhnYrHUHv6PMoyK9MQ7croF0CUgURLqu9EMjW7q2FgVLwij1tjLsIHQrnwQ8aUcg4BiA==",
         "Noto Sans", ("latin", "latin-ext", "vietnamese")),
    Font("@fontsource-variable/noto-sans-devanagari", "5.3.0",
         "sha512-52XBcJS3jRvZ5ugFXJvdKgffXPYnN08LeodXkgCbepOdMKVRVTQu1yj071cq8S3zmUwT6w6XKKXRSQlQkwwNNg==",
         "Noto Sans Devanagari", ("devanagari",)),
    Font("@fontsource-variable/noto-sans-jp", "5.3.1",
         "sha512-/anGvJFc5y36f8DJ+3TSh2+KAvaRLA9PaLUMvneeY5s4j8m+8X4F3lE/sjTuG9YI5BX4sykvCk4TuJMG7ecMRQ==",
         "Noto Sans JP", (NUMBERED, "latin")),
    Font("@fontsource-variable/noto-sans-sc", "5.3.1",
         "sha512-UB96JJ17HyD5ehEU7Em0hDdh7fvTMB4B4Hzmq5c4QaNwwSLqTrdM2S+coySeBqCkXwh0DxqXT0b0wMrmzorFpQ==",
         "Noto Sans SC", (NUMBERED, "latin")),
    Font("@fontsource-variable/noto-sans-tc", "5.3.1",
         "sha512-gueh+AySNkihE+HvizXLHltxt5/xVFSvw6ISnKTlpb/lG5QQm6u/KwuempTJ/jDYMST3xwiERYTTyseoJ/Kxew==",
         "Noto Sans TC", (NUMBERED, "latin")),
    Font("@fontsource-variable/noto-sans-kr", "5.3.1",
         "sha512-f5aty6Qgk2LVU5TjCtXHxiYHqUWYW8f75ll0Chn8ucCqoOlIomcACUwf1V47yUt6wTdWZiGr3dcbQk+zlOspMA==",
         "Noto Sans KR", (NUMBERED, "latin")),
)

# One @font-face of a package's wght.css, after its comment naming the slice.
FACE = re.compile(r"/\* (?P<name>[^*]+?) \*/\s*@font-face \{(?P<body>[^}]*)\}")
SOURCE = re.compile(r"url\(\./files/(?P<file>[^)]+\.woff2)\)")
RANGE = re.compile(r"unicode-range:\s*(?P<range>[^;]+);")


def fetch(font: Font, into: Path) -> Path:
    """Download the package tarball with npm, check its integrity and unpack it."""
    spec = f"{font.package}@{font.version}"
    out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(into)],
                         check=True, capture_output=True, text=True).stdout
    tarball = into / json.loads(out)[0]["filename"]
    algorithm, expected = font.integrity.split("-", 1)
    actual = base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{font.package}@{font.version}: integrity mismatch")
    unpacked = into / font.folder
    with tarfile.open(tarball) as archive:
        archive.extractall(unpacked, filter="data")
    return unpacked / "package"


def wanted(font: Font, slice_name: str) -> bool:
    """Whether a slice (`noto-sans-jp-[12]-wght-normal`, `noto-sans-latin-wght-normal`) is kept."""
    subset = slice_name.removeprefix(f"{font.folder}-").removesuffix("-wght-normal")
    if subset.startswith("["):
        return NUMBERED in font.subsets
    return subset in font.subsets


def vendor(font: Font, package: Path) -> tuple[list[str], int]:
    """Copy the kept slices and the licence; return their @font-face rules and total bytes."""
    target = FONTS_DIR / font.folder
    target.mkdir(parents=True)
    shutil.copyfile(package / "LICENSE", target / "LICENSE")
    faces, size = [], 0
    for match in FACE.finditer((package / "wght.css").read_text(encoding="utf-8")):
        if not wanted(font, match["name"]):
            continue
        body = match["body"]
        source, unicode_range = SOURCE.search(body), RANGE.search(body)
        if source is None or unicode_range is None:
            raise SystemExit(f"{font.package}: unexpected rule {match['name']}")
        data = (package / "files" / source["file"]).read_bytes()
        (target / source["file"]).write_bytes(data)
        size += len(data)
        # A content version, as static_url gives the pages' links: Caddy lets browsers keep
        # such URLs for a year instead of revalidating a hundred slices on every page.
        version = hashlib.sha256(data).hexdigest()[:12]
        faces.append(
            "@font-face {\n"
            f'  font-family: "{font.family}";\n'
            "  font-style: normal;\n"
            "  font-weight: 100 900;\n"
            "  font-display: swap;\n"
            f'  src: url("../fonts/{font.folder}/{source["file"]}?v={version}") format("woff2");\n'
            f"  unicode-range: {unicode_range['range'].strip()};\n"
            "}\n"
        )
    if not faces:
        raise SystemExit(f"{font.package}: no slice kept")
    return faces, size


def main() -> None:
    """Rebuild static/fonts/ and static/css/fonts.css from the pinned packages."""
    shutil.rmtree(FONTS_DIR, ignore_errors=True)
    css = ["/* Generated by scripts/vendor_fonts.py from Fontsource's npm packages (SIL OFL 1.1,"
           " licences in static/fonts/*/LICENSE): do not edit. */\n"]
    rows, total = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for font in FONTS:
            faces, size = vendor(font, fetch(font, Path(tmp)))
            css += [f"\n/* {font.family}: {font.package}@{font.version} */\n", *faces]
            rows.append(f"| {font.family} | `{font.package}` | {font.version} | "
                        f"{', '.join(font.subsets)} | {len(faces)} | {size / 1024:,.0f} KiB |")
            total += size
    CSS_FILE.write_text("".join(css), encoding="utf-8")
    (FONTS_DIR / "README.md").write_text(
        "# Vendored fonts\n\n"
        "Written by `python scripts/vendor_fonts.py` (do not edit): the Noto variable fonts"
        " (weights 100–900 in one file) as Fontsource's unicode-range slices, wired in"
        " `static/css/fonts.css`. Each folder holds its licence (SIL Open Font License 1.1).\n\n"
        "| family | npm package | version | slices kept | files | size |\n"
        "| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n\n"
        f"Total: {total / 1024 / 1024:.1f} MiB.\n",
        encoding="utf-8",
    )
    print(f"vendored {len(FONTS)} fonts, {total / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
