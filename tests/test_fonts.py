"""The vendored fonts (scripts/vendor_fonts.py): served same-origin, versioned, licensed, and a
font stack for every language. tests/browser/test_fonts.py checks that pages draw with them."""

from __future__ import annotations

import hashlib
import re

import pytest

from frontyard import PROJECT_ROOT, i18n

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # static files

STATIC = PROJECT_ROOT / "static"
FONTS_CSS = (STATIC / "css" / "fonts.css").read_text(encoding="utf-8")
SITE_CSS = (STATIC / "css" / "frontyard.css").read_text(encoding="utf-8")
SOURCE = re.compile(r'url\("\.\./(fonts/[^"?]+\.woff2)\?v=([0-9a-f]{12})"\) format\("woff2"\)')
FAMILY = re.compile(r'font-family: "([^"]+)";')


@SQLITE_ONLY
def test_every_page_links_the_fonts_before_the_site_css(client):
    """Pages load fonts.css (same origin, as the CSP's font-src 'self' requires)."""
    html = client.get("/kiosk").text
    assert html.index("/static/css/fonts.css?v=") < html.index("/static/css/frontyard.css?v=")
    assert "font-src" not in client.get("/").headers["content-security-policy"]  # default 'self'


@SQLITE_ONLY
def test_every_font_file_is_served_under_its_content_version(client):
    """Each face's URL names a file we ship, its version is its content's hash, and it is
    served as WOFF2 (a stale fonts.css would keep browsers on old files for a year)."""
    sources = SOURCE.findall(FONTS_CSS)
    assert len(sources) == FONTS_CSS.count("@font-face")
    shipped = {path.relative_to(STATIC).as_posix() for path in STATIC.glob("fonts/*/*.woff2")}
    assert {path for path, _ in sources} == shipped
    for path, version in sources:
        assert hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12] == version, path
    path, version = sources[0]
    response = client.get(f"/static/{path}?v={version}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "font/woff2"


def test_every_face_is_sliced_and_swaps():
    """Browsers fetch only the slices a page's text needs and show text while they load."""
    faces = FONTS_CSS.split("@font-face")[1:]
    assert all("unicode-range: U+" in face and "font-display: swap;" in face for face in faces)


def test_every_font_ships_its_licence_and_its_source():
    """The OFL travels with the fonts; the README names each npm package and version."""
    folders = [path for path in (STATIC / "fonts").iterdir() if path.is_dir()]
    assert folders
    readme = (STATIC / "fonts" / "README.md").read_text(encoding="utf-8")
    for folder in folders:
        assert "SIL Open Font License, Version 1.1" in (folder / "LICENSE").read_text("utf-8")
        assert f"`@fontsource-variable/{folder.name}`" in readme


def test_every_language_leads_with_a_font_we_ship():
    """Each language's :lang rule names, first, a family fonts.css defines; Chinese and
    Korean pick their own Han forms, Nepali its Devanagari."""
    defined = set(FAMILY.findall(FONTS_CSS))
    stacks = {lang: stack
              for selectors, stack in re.findall(r"([^{}]+)\{ font-family: ([^;]+);", SITE_CSS)
              for lang in re.findall(r"\[lang\]:lang\(([\w-]+)\)", selectors)}
    latin = re.search(r'--latin-fonts: ([^;]+);', SITE_CSS)
    assert latin is not None
    for language in i18n.LANGUAGES:
        primary = language.html_lang.split("-")[0]
        stack = stacks.get(language.html_lang) or stacks.get(primary)
        assert stack is not None, f"no font stack for {language.code}"
        stack = stack.replace("var(--latin-fonts)", latin[1])
        families = re.findall(r'"([^"]+)"', stack)
        assert families and set(families) <= defined, language.code
    assert stacks["zh-Hans"].startswith('"Noto Sans SC"')
    assert stacks["zh-Hant"].startswith('"Noto Sans TC"')
    assert stacks["ko"].startswith('"Noto Sans KR"')
    assert stacks["ne"].startswith('"Noto Sans Devanagari"')
