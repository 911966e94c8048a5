"""Crafted and damaged image files, made in memory: every one must be refused, clearly."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

import openlfr.demokit

KIT = Path(openlfr.demokit.__file__).parent / "images"


def _face_jpeg() -> bytes:
    return sorted(KIT.glob("*.jpg"))[0].read_bytes()


def _encode(image: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def _face(fmt: str, **kw: object) -> bytes:
    return _encode(Image.open(io.BytesIO(_face_jpeg())).convert("RGB"), fmt, **kw)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, *extra: bytes, idat: bytes | None = None) -> bytes:
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if idat is None:
        raw = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
        idat = zlib.compress(raw)
    return (
        b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(extra) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _bomb(size: int = 200_000_000) -> bytes:
    """``size`` zero bytes, zlib-compressed to about 200 KB."""
    z = zlib.compressobj(9)
    block = bytes(1 << 20)
    parts = [z.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + z.flush()


def header_only_jpeg() -> bytes:
    """SOI, a baseline frame header claiming 4000×3000, then the end: no tables, no scan."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 3000, 4000, 3)
    sof += b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def png_iccp_bomb() -> bytes:
    """An ICC profile chunk that inflates to 200 MB."""
    return _png(32, 32, _chunk(b"iCCP", b"icc\x00\x00" + _bomb()))


def png_ztxt_bomb() -> bytes:
    """A compressed text chunk that inflates to 200 MB."""
    return _png(32, 32, _chunk(b"zTXt", b"Comment\x00\x00" + _bomb()))


def png_idat_bomb() -> bytes:
    """Image data that inflates far past what the header's 64×64 pixels need."""
    return _png(64, 64, idat=_bomb(50_000_000))


def truncated_webp() -> bytes:
    data = _face("WEBP", quality=80)
    return data[: len(data) // 2]


CORPUS: dict[str, Callable[[], bytes]] = {
    # The four of finding 9.
    "header-only.jpg": header_only_jpeg,
    "header-only-cut.jpg": lambda: b"\xff\xd8\xff\xc0\x00\x05\x08\x00",
    "iccp-bomb.png": png_iccp_bomb,
    "ztxt-bomb.png": png_ztxt_bomb,
    "truncated.webp": truncated_webp,
    # Damaged real photos.
    "truncated.jpg": lambda: _face_jpeg()[: len(_face_jpeg()) // 3],
    "truncated.png": lambda: _face("PNG")[:4000],
    "bad-crc.png": lambda: _png(16, 16)[:29] + b"\x00\x00\x00\x00" + _png(16, 16)[33:],
    "truncated.tiff": lambda: _face("TIFF")[:5000],
    "truncated.bmp": lambda: _face("BMP")[:5000],
    "header-only.webp": lambda: _face("WEBP")[:30],
    # Headers that lie or are extreme.
    "idat-bomb.png": png_idat_bomb,
    "zero-width.png": lambda: _png(0, 16),
    "huge-claimed.png": lambda: _png(60000, 60000, idat=zlib.compress(b"\x00" * 100)),
    "one-pixel.png": lambda: _encode(Image.new("RGB", (1, 1)), "PNG"),
    "sliver.png": lambda: _encode(Image.new("RGB", (1, 30000)), "PNG"),
    "wide-sliver.png": lambda: _encode(Image.new("RGB", (30000, 2)), "PNG"),
    "bmp-negative.bmp": lambda: (
        _encode(Image.new("RGB", (8, 8)), "BMP")[:22]
        + struct.pack("<i", -(2**31))
        + _encode(Image.new("RGB", (8, 8)), "BMP")[26:]
    ),
    "tiff-bad-ifd.tiff": lambda: b"II*\x00" + struct.pack("<I", 0xFFFFFF00) + bytes(64),
    "float.tiff": lambda: _encode(Image.new("F", (64, 64), 1e30), "TIFF"),
    "sixteen-bit.png": lambda: _encode(Image.new("I;16", (64, 64), 40000), "PNG"),
    "cmyk.jpg": lambda: _encode(Image.new("CMYK", (64, 64), (0, 0, 0, 255)), "JPEG"),
    "multi-frame.tiff": lambda: _encode(
        Image.new("RGB", (64, 64)), "TIFF", save_all=True, append_images=[Image.new("RGB", (8, 8))]
    ),
    "bad-exif.jpg": lambda: _encode(
        Image.new("RGB", (64, 64)), "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff"
    ),
    # Not images at all, or not the kind accepted.
    "empty.jpg": lambda: b"",
    "text.png": lambda: b"this is not an image\n" * 10,
    "nul-bytes.jpg": lambda: bytes(4096),
    "gif.gif": lambda: _encode(Image.new("RGB", (64, 64)), "GIF"),
    "svg.svg": lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "html.jpg": lambda: b"<html><script>alert(1)</script></html>",
}
