"""Reading reference images safely: format sniffing, size limits, EXIF orientation."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from openlfr.types import ImageArray
from openlfr.watchlist.rejections import ImageRejected, RejectionReason

# "PPM" is Pillow's name for the Netpbm family (PBM, PGM, PPM): grey PGM is how many
# research face sets ship (the ORL faces, for one).
SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "BMP", "WEBP", "TIFF", "PPM"})
_FORMAT_NAMES = "JPEG, PNG, BMP, WebP, TIFF or PGM/PPM"

# Recognisable image containers we do not accept, so the message can say so.
_OTHER_IMAGE_SIGNATURES = {
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"\x00\x00\x00\x0cjP  ": "JPEG 2000",
}


def _sniff_other(data: bytes) -> str | None:
    for signature, name in _OTHER_IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return name
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIF/AVIF"
    return None


def load_reference_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageArray:
    """Decode ``data`` to a BGR ``uint8`` array, or raise :class:`ImageRejected`.

    The size in pixels is read from the header before any pixel is decoded, so
    an oversized or decompression-bomb file costs nothing. EXIF orientation is
    applied (phone photos are often stored sideways).
    """
    if len(data) > max_bytes:
        raise ImageRejected(
            RejectionReason.TOO_LARGE_BYTES,
            f"file is {len(data):,} bytes; the limit is {max_bytes:,}. Re-save it smaller.",
        )
    if not data:
        raise ImageRejected(RejectionReason.NOT_AN_IMAGE, "file is empty")
    other = _sniff_other(data)
    if other:
        raise ImageRejected(
            RejectionReason.UNSUPPORTED_FORMAT,
            f"{other} images are not supported; use {_FORMAT_NAMES}",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ImageRejected(
            RejectionReason.NOT_AN_IMAGE, "not an image file (format not recognised)"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(
            RejectionReason.TOO_LARGE_PIXELS, f"image dimensions are too large ({exc})"
        ) from exc
    except Exception as exc:
        # Pillow's format plugins read headers eagerly and fail in many ways on
        # crafted input (OSError for a cut frame header, ValueError for a PNG
        # text or ICC chunk that inflates past its limit, struct.error, ...):
        # whatever the type, the file cannot be read, so it is refused.
        raise ImageRejected(RejectionReason.CORRUPT, _damaged("the image", exc)) from exc
    if image.format not in SUPPORTED_FORMATS:
        raise ImageRejected(
            RejectionReason.UNSUPPORTED_FORMAT,
            f"{image.format} images are not supported; use {_FORMAT_NAMES}",
        )
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejected(
            RejectionReason.TOO_LARGE_PIXELS,
            f"image is {width}×{height} = {width * height:,} pixels; the limit is "
            f"{max_pixels:,}. Downscale it.",
        )
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        rgb = _to_rgb(upright)
    except Exception as exc:  # decoders fail in as many ways as files can be damaged
        raise ImageRejected(RejectionReason.CORRUPT, _damaged(f"{image.format} file", exc)) from exc
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _damaged(what: str, exc: Exception) -> str:
    detail = str(exc) or type(exc).__name__
    return f"{what} is damaged, truncated or crafted and cannot be decoded ({detail})"


def _to_rgb(image: Image.Image) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB of any mode, 16-bit grey scaled down rather than clipped.

    Pillow holds 16-bit grey (PGM with maxval > 255, 16-bit PNG) as 32-bit
    integers on the full 0–65535 scale, and ``convert("RGB")`` would clip every
    value above 255 to white.
    """
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        grey = np.asarray(image, dtype=np.float64)
        eight = np.clip(np.rint(grey / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(eight[:, :, None], 3, axis=2)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)
