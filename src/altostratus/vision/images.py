"""Decoding the images Rekognition takes: JPEG and PNG (palette, greyscale, 16-bit, alpha) into 8-bit RGB.

Every check that can be made from the header is made before a pixel is decoded: the format, and the declared
size against MAX_PIXELS, so a decompression bomb (a small file declaring a huge canvas) costs nothing. EXIF
orientation is applied, and reported the way Rekognition reports OrientationCorrection.
"""

from __future__ import annotations

import dataclasses
import io
import warnings

import numpy as np
from numpy.typing import NDArray
from PIL import Image as PilImage
from PIL import ImageOps, UnidentifiedImageError

from altostratus.vision.errors import ImageTooLarge, InvalidImageFormat

# Rekognition's limits: 5 MB as Bytes, 15 MB as an S3 object.
MAX_BYTES = 5 * 1024 * 1024
MAX_S3_BYTES = 15 * 1024 * 1024
# The largest canvas decoded (40 megapixels, a 7,700 x 5,200 photo). Rekognition documents no limit in pixels;
# a canvas this size takes 120 MB as RGB and about 300 MB while a transparent PNG is laid on white, which is as
# far as one request may go here (`vision_concurrency` of them at once).
MAX_PIXELS = 40_000_000
FORMATS = ("JPEG", "PNG")
# EXIF orientation tag value -> Rekognition's OrientationCorrection (the rotation that makes the image upright).
EXIF_ORIENTATION = 0x0112
CORRECTIONS = {1: "ROTATE_0", 3: "ROTATE_180", 6: "ROTATE_90", 8: "ROTATE_270"}

Pixels = NDArray[np.uint8]


@dataclasses.dataclass(frozen=True)
class Picture:
    """An upright 8-bit RGB image (height x width x 3) and the rotation its EXIF orientation asked for."""

    pixels: Pixels
    format: str
    orientation_correction: str | None  # None when the file carries no EXIF orientation

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.pixels.shape[0])


def decode(data: bytes, *, limit: int = MAX_BYTES) -> Picture:
    """The image in `data`, upright and RGB; InvalidImageFormat or ImageTooLarge when it cannot be one."""
    if len(data) > limit:
        raise ImageTooLarge(f"The image is {len(data)} bytes; at most {limit} are accepted")
    if not data:
        raise InvalidImageFormat("The image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow warns of large canvases; the size is checked here, against our own limit, before decoding.
            warnings.simplefilter("ignore", PilImage.DecompressionBombWarning)
            image = PilImage.open(io.BytesIO(data), formats=FORMATS)
            _check_size(image.width, image.height)
            orientation = image.getexif().get(EXIF_ORIENTATION)
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            pixels = _rgb(upright)
    except UnidentifiedImageError:
        raise InvalidImageFormat(f"The image is not a {' or '.join(FORMATS)} file") from None
    except PilImage.DecompressionBombError as error:
        raise ImageTooLarge(str(error)) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImageFormat(f"The image could not be decoded: {error}") from None
    return Picture(pixels, str(image.format), _correction(orientation))


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise InvalidImageFormat(f"The image declares a {width} x {height} canvas")
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(
            f"The image declares {width} x {height} pixels ({width * height:,}); at most {MAX_PIXELS:,} are decoded"
        )


def _rgb(image: PilImage.Image) -> Pixels:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: keep the high byte rather than clip (Pillow's convert("L") clips at 255).
        wide = np.clip(np.asarray(image, dtype=np.int64), 0, 65535)
        grey = (wide >> 8).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels are laid on white, as browsers and Rekognition's console show them.
        rgba = image.convert("RGBA")
        white = PilImage.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))  # one RGB canvas, not two RGBA ones and a composite
        image = white
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def _correction(orientation: object) -> str | None:
    if not isinstance(orientation, int):
        return None
    return CORRECTIONS.get(orientation, "ROTATE_0")
