"""Uploaded images (the city's and an office's logo): decoded and re-encoded so that nothing
but pixels is kept.

An upload is refused unless it is a PNG or WebP file within `MAX_BYTES` and `MAX_SIDE` pixels
a side. The header is read first, so a decompression bomb is refused before any pixel is
decoded; the pixels are then copied into a new image and encoded afresh, which drops metadata
(EXIF with its GPS position, text chunks, ICC profiles), trailing data and any other frames.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _

#: The largest file accepted, before decoding: 1 MiB keeps a whole upload form under the
#: proxy's 2 MB request limit (Caddyfile), so the refusal is ours, with a clear message.
MAX_BYTES = 1024 * 1024
#: The longest side accepted, in pixels (a logo is shown at most a few hundred pixels high).
MAX_SIDE = 2048
#: The formats accepted, by Pillow's name, with what they are served as.
FORMATS = {"PNG": "image/png", "WEBP": "image/webp"}
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"RIFF")


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image: its bytes, type, size and content digest (for ETags and URLs)."""

    data: bytes
    media_type: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        """SHA-256 of the bytes, hexadecimal."""
        return hashlib.sha256(self.data).hexdigest()


def _refuse(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, **{field: message})


def clean_logo(data: bytes, field: str = "logo") -> CleanImage:
    """The upload's pixels in a fresh PNG or WebP file; ValidationFailed (under `field`) for
    anything else: empty, too large, another format, corrupt, or too many pixels."""
    if not data:
        raise _refuse(_("Choose an image file to upload."), field)
    if len(data) > MAX_BYTES:
        raise _refuse(_("The image is larger than %(mb)d MB.") % {"mb": MAX_BYTES // 2**20}, field)
    not_an_image = _("Upload a PNG or WebP image.")
    if not data.startswith(_SIGNATURES):
        raise _refuse(not_an_image, field)
    too_big = _("The image is larger than %(side)d × %(side)d pixels.") % {"side": MAX_SIDE}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                source_format = image.format or ""
                if max(image.size) > MAX_SIDE or min(image.size) < 1:
                    raise _refuse(too_big, field)
                image.seek(0)  # an animation's first frame only
                image.load()
                mode = "RGBA" if image.mode in {"RGBA", "LA", "PA", "P"} or \
                    "transparency" in image.info else "RGB"
                pixels = image.convert(mode)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(too_big, field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(_("The image file is damaged or is not a PNG or WebP image."),
                      field) from None
    if source_format not in FORMATS:
        raise _refuse(not_an_image, field)
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())  # pixels and nothing else
    buffer = io.BytesIO()
    if source_format == "PNG":
        fresh.save(buffer, format="PNG", optimize=True)
    else:
        fresh.save(buffer, format="WEBP", lossless=True)
    return CleanImage(buffer.getvalue(), FORMATS[source_format], fresh.width, fresh.height)
