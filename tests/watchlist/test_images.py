"""Reference image reading: every format and size rejection, EXIF orientation."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from openlfr.watchlist.images import load_reference_image
from openlfr.watchlist.rejections import ImageRejected, RejectionReason

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 4_000_000}


def encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def gradient(width: int = 64, height: int = 48) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.stack([np.tile(x, (height, 1))] * 3, axis=2)
    rgb[..., 0] = 10  # red channel constant: lets the test check channel order
    return Image.fromarray(rgb, "RGB")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "WEBP", "TIFF"])
def test_supported_formats_decode_to_bgr(fmt: str) -> None:
    image = load_reference_image(encode(gradient(), fmt), **LIMITS)
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    assert abs(int(image[5, 5, 2]) - 10) <= 3  # red lands in channel 2 (BGR)


def test_rgba_and_greyscale_are_converted() -> None:
    rgba = gradient().convert("RGBA")
    grey = gradient().convert("L")
    assert load_reference_image(encode(rgba, "PNG"), **LIMITS).shape == (48, 64, 3)
    assert load_reference_image(encode(grey, "PNG"), **LIMITS).shape == (48, 64, 3)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", RejectionReason.NOT_AN_IMAGE),
        (b"name,identity\nalice,1\n", RejectionReason.NOT_AN_IMAGE),
        (b"%PDF-1.7\n" + b"0" * 100, RejectionReason.NOT_AN_IMAGE),
    ],
)
def test_non_images_are_refused(data: bytes, reason: RejectionReason) -> None:
    with pytest.raises(ImageRejected) as info:
        load_reference_image(data, **LIMITS)
    assert info.value.reason == reason


def test_gif_is_an_unsupported_format() -> None:
    with pytest.raises(ImageRejected) as info:
        load_reference_image(encode(gradient(), "GIF"), **LIMITS)
    assert info.value.reason == RejectionReason.UNSUPPORTED_FORMAT
    assert "GIF" in info.value.message


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(gradient(640, 480), "JPEG", quality=95)
    with pytest.raises(ImageRejected) as info:
        load_reference_image(data[: len(data) // 2], **LIMITS)
    assert info.value.reason == RejectionReason.CORRUPT


def test_too_many_bytes() -> None:
    data = encode(gradient(), "PNG")
    with pytest.raises(ImageRejected) as info:
        load_reference_image(data, max_bytes=len(data) - 1, max_pixels=10**9)
    assert info.value.reason == RejectionReason.TOO_LARGE_BYTES
    assert f"{len(data):,}" in info.value.message


def test_too_many_pixels_is_refused_before_decoding() -> None:
    # A 6000×6000 PNG of one colour is tiny on disk but 36 megapixels.
    data = encode(Image.new("RGB", (6000, 6000)), "PNG")
    assert len(data) < 1_000_000
    with pytest.raises(ImageRejected) as info:
        load_reference_image(data, **LIMITS)
    assert info.value.reason == RejectionReason.TOO_LARGE_PIXELS
    assert "6000×6000" in info.value.message


def test_exif_orientation_is_applied() -> None:
    image = gradient(64, 48)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to view
    rotated = load_reference_image(encode(image, "JPEG", exif=exif), **LIMITS)
    assert rotated.shape == (64, 48, 3)


def test_netpbm_grey_and_colour_are_accepted() -> None:
    # The ORL faces and many other research sets are 8-bit grey PGM; they used to be refused.
    grey = gradient().convert("L")
    pgm = encode(grey, "PPM")
    assert pgm.startswith(b"P5")
    image = load_reference_image(pgm, **LIMITS)
    assert image.shape == (48, 64, 3)
    assert np.array_equal(image[:, :, 0], np.asarray(grey))
    ppm = encode(gradient(), "PPM")
    assert ppm.startswith(b"P6")
    assert abs(int(load_reference_image(ppm, **LIMITS)[5, 5, 2]) - 10) <= 1
    plain = b"P2\n2 2\n255\n0 128 255 10\n"
    assert load_reference_image(plain, **LIMITS)[:, :, 1].tolist() == [[0, 128], [255, 10]]


def test_sixteen_bit_grey_is_scaled_not_clipped_to_white() -> None:
    values = np.array([[0, 4095], [2048, 1000]], dtype=">u2")
    pgm = b"P5\n2 2\n4095\n" + values.tobytes()
    image = load_reference_image(pgm, **LIMITS)
    expected = np.rint(values.astype(np.float64) / 4095 * 255)
    assert np.abs(image[:, :, 0].astype(int) - expected).max() <= 1
    png16 = encode(Image.fromarray(np.array([[0, 65535], [32768, 257]], dtype=np.uint16)), "PNG")
    assert load_reference_image(png16, **LIMITS)[:, :, 2].tolist() == [[0, 255], [128, 1]]
