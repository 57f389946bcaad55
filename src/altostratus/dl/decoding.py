"""Image bytes to uint8 pixels, the one way: training's loaders and inference decode every image with it.

Pillow reads only the formats of the suffixes datasets take, applies the EXIF orientation, converts to grey or RGB
and resizes with Lanczos. Whatever goes wrong, a decompression bomb included, is an UnreadableImage. This module
is light on purpose: it is all a decoding worker process imports.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import TypeAlias

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from altostratus.dl.errors import UnreadableImage
from altostratus.dl.images import Pixels, Shape

MAX_SIDE = 224
"""The longest side of a default shape taken from an image's own size."""
# Only the formats of the suffixes datasets take: Pillow would otherwise try every plugin (EPS runs Ghostscript).
FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
ORIENTATION = 0x0112
ROTATED = frozenset({5, 6, 7, 8})

Decoded: TypeAlias = "tuple[Pixels, bool] | str"
"""One image decoded (its pixels, and whether it is grey itself), or why it cannot be."""


def decode_image(data: bytes, shape: Shape) -> Pixels:
    """An image's bytes as uint8 H x W x C pixels of `shape`: EXIF orientation applied, grey or RGB, resized.

    UnreadableImage when Pillow cannot decode the bytes or they are a decompression bomb (past Pillow's
    MAX_IMAGE_PIXELS).
    """
    return _decoded(data, shape)[0]


def _decoded(data: bytes, shape: Shape) -> tuple[Pixels, bool]:
    """The pixels of `shape` and whether the image itself is grey."""
    height, width, channels = shape
    with _decoding():
        opened = _opened(data)
        opened.draft(None, (max(height, width), max(height, width)))  # JPEG decodes at a reduced scale, cheaply
        image = ImageOps.exif_transpose(opened)
        grey = image.mode in GREY_MODES
        if image.mode in ("P", "PA"):
            image = image.convert("RGBA")  # a palette's transparency, resolved before dropping alpha
        elif image.mode == "I" or image.mode.startswith("I;16"):
            image = image.convert("I").point(lambda value: value * (1 / 256))  # 16 bits to 8, where convert clips
        image = image.convert("L" if channels == 1 else "RGB")
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        pixels = np.asarray(image, dtype=np.uint8).reshape(shape)
    return pixels, grey


def natural_shape(data: bytes, max_side: int = MAX_SIDE) -> Shape:
    """The shape an image has upright, 3 channels, scaled down to `max_side` at most; reads only its header."""
    with _decoding():
        image = _opened(data)
        width, height = image.size
        if image.getexif().get(ORIENTATION) in ROTATED:
            width, height = height, width
    scale = min(1.0, max_side / max(width, height))
    return (max(1, round(height * scale)), max(1, round(width * scale)), 3)


@contextlib.contextmanager
def _decoding() -> Iterator[None]:
    """Every decoding error as UnreadableImage (no warnings filter: catch_warnings is not thread-safe, and the
    server decodes in several threads; the decompression-bomb limit is checked by `_opened` instead)."""
    Image.init()  # registers every plugin once, so that `formats` can name WEBP and TIFF
    try:
        yield
    except UnreadableImage:
        raise
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:  # a warning where warnings are errors
        raise UnreadableImage(f"a decompression bomb: {error}") from None
    except UnidentifiedImageError:
        raise UnreadableImage(f"not an image in one of the formats taken: {', '.join(FORMATS)}") from None
    except Exception as error:  # Pillow's decoders raise many kinds on hostile bytes; none may stop a dataset
        raise UnreadableImage(f"not an image Pillow can decode ({type(error).__name__}: {error})") from None


def _opened(data: bytes) -> Image.Image:
    """The image Pillow opens (its header only); UnreadableImage past MAX_IMAGE_PIXELS, before any decoding."""
    image = Image.open(io.BytesIO(data), formats=FORMATS)
    width, height = image.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise UnreadableImage(f"a decompression bomb: {width} x {height} pixels, past the limit of {limit}")
    return image


def decode_all(items: list[bytes | str], shape: Shape) -> list[Decoded]:
    """Each image's pixels and whether it is grey, or why it is skipped (a str stays the reason it already is).

    This is what a decoding worker runs, on a few dozen images at a time to keep the round trips few.
    """
    decoded: list[Decoded] = []
    for item in items:
        try:
            decoded.append(item if isinstance(item, str) else _decoded(item, shape))
        except UnreadableImage as error:
            decoded.append(error.message)
    return decoded
