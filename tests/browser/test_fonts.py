"""Every script renders from the fonts we ship: each kiosk language's screens and the ticket
status page, in a Chromium whose only system font has no glyph but a box (a kiosk or board
with no font for Nepali, Korean or Chinese)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontyard import i18n
from kiosk.catalog import KIOSK_LOCALES
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.browser.test_kiosk_flow import pair_kiosk, walk_to_ticket

pytestmark = pytest.mark.browser

KIOSK_SIZE = {"width": 1080, "height": 1920}  # a portrait touch-screen kiosk
PHONE_SIZE = {"width": 390, "height": 844}  # where residents open their ticket's status
NO_SYSTEM_FONT = "Fontless"
TEXT_NODE = 3
# The font that draws most of a page in each language (PostScript names, before the style):
# Chinese and Korean Han in their own regional forms, not the Japanese ones.
LEADING_FONT = {"ja": "NotoSansJP", "ja_easy": "NotoSansJP", "zh_Hans": "NotoSansSC",
                "zh_Hant": "NotoSansTC", "ko": "NotoSansKR", "ne": "NotoSansDevanagari"}
# Never drawn where they stand (a select draws its chosen option in its own shadow tree): asking
# for their fonts would only cost a round trip each.
UNDRAWN = {"HEAD", "SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "OPTION", "DATALIST"}


def write_fontless_font(path: Path) -> None:
    """A font whose only glyph is the missing-glyph box, so text we fail to cover shows as
    boxes, as on a bare kiosk. Chromium needs one system font: with none, web fonts fail too."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    box = TTGlyphPen(None)
    for contour in (((50, 0), (50, 700), (450, 700), (450, 0)),
                    ((100, 50), (400, 50), (400, 650), (100, 650))):
        box.moveTo(contour[0])
        for point in contour[1:]:
            box.lineTo(point)
        box.closePath()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "space"])
    builder.setupCharacterMap({0x20: "space"})
    builder.setupGlyf({".notdef": box.glyph(), "space": TTGlyphPen(None).glyph()})
    builder.setupHorizontalMetrics({".notdef": (500, 50), "space": (250, 0)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": NO_SYSTEM_FONT, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))


@pytest.fixture(scope="module")
def fontless_browser(browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A second Chromium whose fontconfig knows only the fontless font, launched by the shared
    browser's Playwright (a worker can run only one sync Playwright at a time)."""
    root = tmp_path_factory.mktemp("fontless")
    (root / "fonts").mkdir()
    write_fontless_font(root / "fonts" / "fontless.ttf")
    config = root / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{root / 'fonts'}</dir>\n  <cachedir>{root / 'cache'}</cachedir>\n"
        "</fontconfig>\n", encoding="utf-8")
    fontless = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        env={**os.environ, "FONTCONFIG_FILE": str(config)})
    yield fontless
    fontless.close()


@pytest.fixture
def fontless_page(fontless_browser):  # type: ignore[no-untyped-def]
    """A kiosk-sized page in a fresh context of the fontless browser."""
    context = fontless_browser.new_context(locale="en-US", viewport=KIOSK_SIZE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def text_drawn_without_our_fonts(page) -> tuple[list[str], Counter[str]]:  # type: ignore[no-untyped-def]
    """The page's rendered text (text nodes, placeholders, ::before/::after) drawn in a font
    that is not one of our web fonts, and how many glyphs each of ours drew."""
    page.wait_for_function("document.fonts.ready.then(() => true)")
    failed = page.evaluate("[...document.fonts].filter(f => f.status === 'error')"
                           ".map(f => f.family)")
    assert not failed, f"web fonts that failed to load on {page.url}: {sorted(set(failed))}"
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    nodes = [cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]]
    foreign: list[str] = []
    ours: Counter[str] = Counter()
    while nodes:
        node = nodes.pop()
        if node["nodeName"] in UNDRAWN:
            continue
        nodes += node.get("children", []) + node.get("pseudoElements", []) + node.get(
            "shadowRoots", [])
        is_text = node["nodeType"] == TEXT_NODE and node["nodeValue"].strip()
        if not (is_text or node.get("pseudoType")):
            continue
        # Hidden text lists no fonts; it is checked where a screen shows it.
        for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]:
            if font["isCustomFont"]:
                ours[font["postScriptName"].split("-")[0]] += font["glyphCount"]
            else:
                text = node.get("nodeValue") or f"::{node['pseudoType']}"
                foreign.append(f"{text.strip()!r} in {font['familyName']!r}")
    cdp.detach()
    return foreign, ours


def assert_every_glyph_ours(page) -> Counter[str]:  # type: ignore[no-untyped-def]
    """Fail, listing the text, when any of the page's text is drawn without our fonts; else
    return the glyphs each of our fonts drew."""
    foreign, ours = text_drawn_without_our_fonts(page)
    assert not foreign, f"text without a glyph in our fonts on {page.url}:\n" + "\n".join(foreign)
    assert ours, f"no text drawn with our fonts on {page.url}"
    return ours


def assert_drawn_in_its_own_font(page, code: str) -> None:  # type: ignore[no-untyped-def]
    """Every glyph ours, and most of them in the language's own font."""
    leading = assert_every_glyph_ours(page).most_common(1)[0][0]
    assert leading == LEADING_FONT.get(code, "NotoSans"), f"{code} on {page.url}: {leading}"


def status_page(fontless_browser, link: str, code: str):  # type: ignore[no-untyped-def]
    """The ticket's status page in one language, on a phone."""
    phone = fontless_browser.new_context(locale="en-US", viewport=PHONE_SIZE).new_page()
    phone.goto(f"{link}?lang={code}")
    assert phone.locator("html").get_attribute("lang") == i18n.BY_CODE[code].html_lang
    return phone


@pytest.mark.parametrize("locale", KIOSK_LOCALES)
def test_every_kiosk_screen_and_the_status_page_render_from_our_fonts(
        fontless_browser, fontless_page, live_server: LiveServer, locale: str) -> None:
    """Language, events, questions, guide, details (with errors), confirmation and ticket, then
    the ticket's status page on a phone: every glyph is drawn by a font we ship."""
    pair_kiosk(fontless_page, live_server)
    walk_to_ticket(fontless_page, live_server, locale, check=assert_every_glyph_ours)
    link = fontless_page.locator("[data-status-link]").get_attribute("href") or ""
    assert_drawn_in_its_own_font(fontless_page, locale)
    phone = status_page(fontless_browser, link, locale)
    assert_drawn_in_its_own_font(phone, locale)
    phone.context.close()


def test_status_page_renders_from_our_fonts_in_the_languages_kiosks_do_not_offer(
        fontless_browser, fontless_page, live_server: LiveServer) -> None:
    """A resident can switch the status page to any language (繁體中文 too)."""
    others = [language.code for language in i18n.LANGUAGES if language.code not in KIOSK_LOCALES]
    assert others
    pair_kiosk(fontless_page, live_server)
    walk_to_ticket(fontless_page, live_server, "ja", check=lambda page: None,
                   check_variants=False)
    link = fontless_page.locator("[data-status-link]").get_attribute("href") or ""
    for code in others:
        phone = status_page(fontless_browser, link, code)
        assert_drawn_in_its_own_font(phone, code)
        phone.context.close()


def test_the_check_sees_text_no_font_of_ours_covers(
        fontless_page, live_server: LiveServer) -> None:
    """The check is not blind: Ethiopic, which no font of ours covers, is drawn as boxes."""
    pair_kiosk(fontless_page, live_server)
    fontless_page.evaluate("document.querySelector('h1').textContent = 'ሰላም'")
    foreign, _ = text_drawn_without_our_fonts(fontless_page)
    assert foreign == [f"'ሰላም' in {NO_SYSTEM_FONT!r}"]
