"""The city's logo and privacy notice as data: uploads re-encoded to nothing but pixels, every
other file refused with a clear message; the privacy notice's Markdown never yields markup an
administrator did not mean (raw HTML, scripts, javascript: links)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from frontyard import i18n, images
from frontyard.errors import ValidationFailed
from frontyard.safe_markdown import render


def png(size: tuple[int, int] = (40, 20), mode: str = "RGBA", **save: object) -> bytes:
    """A small PNG image."""
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 255) if mode == "RGBA" else 128).save(
        buffer, "PNG", **save)
    return buffer.getvalue()


def refused(data: bytes) -> str:
    """The English message an upload is refused with."""
    with i18n.use_locale("en"), pytest.raises(ValidationFailed) as error:
        images.clean_logo(data)
    assert error.value.fields == {"logo": error.value.message}
    return str(error.value.message)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def test_a_png_keeps_its_pixels_and_loses_its_metadata():
    """Text chunks, EXIF and an ICC profile are gone; the pixels are the same."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Taro Yamada, 090-1234-5678")
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    original = png(pnginfo=info, exif=exif.tobytes(), icc_profile=b"\0" * 200)
    assert b"Taro" in original and b"secret" in original and b"iCCP" in original
    clean = images.clean_logo(original)
    assert (clean.media_type, clean.width, clean.height) == ("image/png", 40, 20)
    assert b"Taro" not in clean.data and b"secret" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.format == "PNG" and "icc_profile" not in image.info
        assert not image.getexif() and "Author" not in image.info
        assert image.getpixel((5, 5)) == (10, 120, 200, 255)
    assert clean.digest == images.clean_logo(clean.data).digest  # re-encoding is stable


def test_trailing_data_after_the_image_is_dropped():
    """Bytes hidden after the image's end (a polyglot file) do not survive."""
    clean = images.clean_logo(png() + b"<script>alert(1)</script>")
    assert b"script" not in clean.data


def test_webp_stays_webp_and_an_animation_keeps_its_first_frame():
    """A WebP upload is served as WebP; an animated one as its first frame only."""
    frames = [Image.new("RGB", (30, 30), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    clean = images.clean_logo(buffer.getvalue())
    assert clean.media_type == "image/webp"
    with Image.open(io.BytesIO(clean.data)) as image:
        assert getattr(image, "n_frames", 1) == 1
        assert image.convert("RGB").getpixel((1, 1)) == (255, 0, 0)


@pytest.mark.parametrize(("kind", "expected"), [("GIF", "PNG or WebP"), ("JPEG", "PNG or WebP"),
                                                ("BMP", "PNG or WebP")])
def test_other_formats_are_refused(kind, expected):
    """GIF, JPEG, BMP: refused, saying what is accepted."""
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, kind)
    assert expected in refused(buffer.getvalue())


def test_text_empty_corrupt_and_disguised_files_are_refused():
    """Not an image, nothing at all, a truncated PNG, SVG: each a clear message."""
    assert "PNG or WebP" in refused(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    assert "Choose an image file" in refused(b"")
    assert "damaged" in refused(png((200, 200))[:60])
    assert "damaged" in refused(b"RIFF\x00\x00\x00\x00WAVEfmt ")


def test_too_many_bytes_or_pixels_are_refused_before_decoding():
    """Over the byte limit, over the side limit, and a decompression bomb whose header
    claims a vast image: refused without decoding its pixels."""
    assert "larger than 1 MB" in refused(b"\x89PNG\r\n\x1a\n" + b"\0" * images.MAX_BYTES)
    assert "2048 × 2048 pixels" in refused(png((images.MAX_SIDE + 1, 1), mode="L"))
    small = png((1, 1), mode="L")
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    bomb = small[:8] + _chunk(b"IHDR", header) + small[33:]
    assert "2048 × 2048 pixels" in refused(bomb)


def test_markdown_subset_renders_what_a_notice_needs():
    """Paragraphs, emphasis, lists and headings (under the page's own)."""
    html = str(render("# Title\n\nWe keep **your** details *briefly*.\n\n- one\n- two\n\n"
                      "1. first\n2. second"))
    assert "<h3>Title</h3>" in html
    assert "<p>We keep <strong>your</strong> details <em>briefly</em>.</p>" in html
    assert "<ul>\n<li>one</li>" in html and "<ol>\n<li>first</li>" in html


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='https://evil.example'>x</a>",
    "<div>raw</div>\n\n<p>block</p>",
    "<!-- comment --><iframe src=//evil.example></iframe>",
])
def test_raw_html_is_shown_as_text(text):
    """No tag an administrator types becomes markup: every < is escaped."""
    html = str(render(text))
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "<div" not in html and "<a " not in html and "&lt;" in html


@pytest.mark.parametrize("text", [
    "[click](javascript:alert(1))", "[click](JavaScript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](vbscript:msgbox)",
    "<javascript:alert(1)>", "[x][r]\n\n[r]: javascript:alert(1)",
    "![img](https://evil.example/a.png)",
])
def test_unsafe_links_and_images_stay_plain_text(text):
    """javascript:, data:, vbscript: and images never become links or images."""
    html = str(render(text))
    assert "href" not in html and "<img" not in html and "src=" not in html


def test_safe_links_are_shown_as_text_with_their_address():
    """An http(s) or mailto link shows its text and address; a kiosk never follows it."""
    html = str(render("See [our page](https://city.example/privacy) or "
                      "<https://city.example> or [mail us](mailto:info@city.example)."))
    assert "our page (https://city.example/privacy)" in html
    assert "or https://city.example or mail us (info@city.example)." in html
    assert "<a" not in html


def test_easy_japanese_gets_ruby_only_where_it_has_readings():
    """Ruby markup becomes <ruby>; other locales keep the marks as typed."""
    text = "個人情報《こじんじょうほう》を **大切《たいせつ》に** します"
    html = str(render(text, with_ruby=True))
    assert "<ruby>個人情報<rp>(</rp><rt>こじんじょうほう</rt>" in html
    assert "<strong><ruby>大切" in html
    assert "《" in str(render(text))
