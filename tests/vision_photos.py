"""Photos for the vision tests: the shared faces (skipped with a clear message when absent) and skimage's."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
# Debian's fonts-dejavu-core (`make debs` installs it): Pillow's built-in font sets words too close for OCR.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def shared_face(relative: str) -> bytes:
    """A photo of ../shared/data/faces; the test is skipped when the folder is absent."""
    path = FACES / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared face photos (../shared/data/faces) are not beside the checkout")
    return path.read_bytes()


def shared_faces(folder: str) -> list[bytes]:
    """Every photo of one folder of ../shared/data/faces, in name order."""
    where = FACES / folder
    if not where.is_dir():
        pytest.skip(f"{where} is absent: the shared face photos (../shared/data/faces) are not beside the checkout")
    return [p.read_bytes() for p in sorted(where.iterdir()) if p.suffix.lower() in (".jpg", ".jpeg", ".png")]


def jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
    """An RGB array as JPEG bytes."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality)
    return out.getvalue()


def skimage_photo(name: str) -> bytes:
    """One of scikit-image's sample photos (astronaut, chelsea the cat, coffee, rocket) as JPEG."""
    from skimage import data

    return jpeg(getattr(data, name)())


def rendered_text(lines: list[str], size: tuple[int, int] = (640, 240)) -> bytes:
    """A PNG with the lines of text drawn black on white, large enough to read."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 40) if FONT.exists() else ImageFont.load_default(size=40)
    for row, line in enumerate(lines):
        draw.text((40, 40 + row * 100), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
