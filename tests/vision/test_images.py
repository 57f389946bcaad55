"""Decoding: the formats and modes Rekognition takes, EXIF orientation, and every kind of bad image refused."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from altostratus.vision.errors import ImageTooLarge, InvalidImageFormat
from altostratus.vision.images import MAX_BYTES, MAX_PIXELS, decode


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def gradient(width: int = 64, height: int = 48) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, axis=0)
    return Image.fromarray(np.stack([x, x[::-1, ::-1], np.full_like(x, 40)], axis=2))


def test_jpeg_decodes_to_rgb() -> None:
    picture = decode(encoded(gradient(), "JPEG"))
    assert picture.pixels.shape == (48, 64, 3) and picture.pixels.dtype == np.uint8
    assert (picture.format, picture.orientation_correction) == ("JPEG", None)


@pytest.mark.parametrize("mode", ["P", "L", "LA", "RGBA", "1"])
def test_png_modes_decode_to_rgb(mode: str) -> None:
    picture = decode(encoded(gradient().convert(mode), "PNG"))
    assert picture.pixels.shape == (48, 64, 3)
    assert picture.format == "PNG"


def test_sixteen_bit_greyscale_keeps_its_range() -> None:
    values = np.linspace(0, 65535, 64 * 48).reshape(48, 64).astype(np.uint16)
    picture = decode(encoded(Image.fromarray(values), "PNG"))
    assert picture.pixels.min() == 0 and picture.pixels.max() == 255
    assert np.array_equal(picture.pixels[..., 0], picture.pixels[..., 2])


def test_transparent_pixels_lie_on_white() -> None:
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    assert (decode(encoded(clear, "PNG")).pixels == 255).all()


@pytest.mark.parametrize(
    ("orientation", "correction", "shape"),
    [(1, "ROTATE_0", (48, 64)), (3, "ROTATE_180", (48, 64)), (6, "ROTATE_90", (64, 48)), (8, "ROTATE_270", (64, 48))],
)
def test_exif_orientation_is_applied_and_reported(orientation: int, correction: str, shape: tuple[int, int]) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    picture = decode(encoded(gradient(), "JPEG", exif=exif))
    assert picture.orientation_correction == correction
    assert picture.pixels.shape[:2] == shape


@pytest.mark.parametrize("data", [b"", b"not an image at all", encoded(gradient(), "GIF"), encoded(gradient(), "BMP")])
def test_what_is_not_a_jpeg_or_png_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidImageFormat):
        decode(data)


def test_a_truncated_jpeg_is_refused() -> None:
    data = encoded(gradient(640, 480), "JPEG")
    with pytest.raises(InvalidImageFormat):
        decode(data[: len(data) // 2])


def test_bytes_over_the_limit_are_too_large() -> None:
    with pytest.raises(ImageTooLarge):
        decode(b"\xff" * (MAX_BYTES + 1))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    side = int(MAX_PIXELS**0.5) + 100
    with pytest.raises(ImageTooLarge, match="declares"):
        decode(png_declaring(side, side))
