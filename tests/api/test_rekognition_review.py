"""Found in review: memory a small image may cost, thin images, attributes asked by name, colour counts."""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.live_server import LiveServer
from tests.vision_photos import shared_face, skimage_photo


@pytest.fixture(scope="module")
def rekognition(server: LiveServer) -> Any:
    return server.client("rekognition")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def blank_png(width: int, height: int, *, bit_depth: int, colour_type: int, channels: int) -> bytes:
    """A PNG of zeros, compressed row by row: 10,000 x 8,000 RGBA is about 300 KB."""
    row = b"\0" * (1 + width * channels * bit_depth // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def reset_peak_rss(server: LiveServer) -> None:
    assert server.process is not None
    with open(f"/proc/{server.process.pid}/clear_refs", "w") as refs:
        refs.write("5")  # 5: reset VmHWM to the current resident size


def peak_rss_mib(server: LiveServer) -> int:
    assert server.process is not None
    with open(f"/proc/{server.process.pid}/status") as status:
        found = re.search(r"VmHWM:\s+(\d+) kB", status.read())
    assert found is not None
    return int(found.group(1)) // 1024


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def test_detect_text_on_a_one_pixel_high_strip_costs_no_gigabytes(server: LiveServer, rekognition: Any) -> None:
    # RapidOCR scales the short side up to 30 px (1 x W becomes 32 x 30W) and then letterboxes to at most 8:1,
    # so the canvas grows with W squared: 1 x 200 (72 bytes) costs 1.3 GB, 1 x 400 3.6 GB, and 1 x 2,000
    # (still under RapidOCR's max_side_len) took the server to 21.8 GB and the kernel's OOM killer ended it.
    # Kept at 1 x 200 here so that the test does not take the machine down.
    rekognition.detect_text(Image={"Bytes": png(np.zeros((64, 64, 3), np.uint8))})  # the reader loaded first
    reset_peak_rss(server)
    before = peak_rss_mib(server)
    strip = png(np.zeros((1, 200, 3), np.uint8))
    rekognition.detect_text(Image={"Bytes": strip})
    grown = peak_rss_mib(server) - before
    assert grown < 256, f"a {len(strip)}-byte 1 x 200 PNG raised the server's peak memory by {grown} MiB"


def test_a_300_kb_png_does_not_cost_gigabytes(server: LiveServer, rekognition: Any) -> None:
    # Within MAX_PIXELS (40 M): 7,000 x 5,500 RGBA, all transparent. decode() makes RGBA, a white RGBA
    # canvas, their composite and the RGB copy (4 x 320 MB), outside VisionService's concurrency slots, so
    # N such requests at once cost N times that: 5 took a 1 GB server to 11.3 GB here.
    rekognition.detect_faces(Image={"Bytes": skimage_photo("astronaut")})  # every model loaded first
    reset_peak_rss(server)
    before = peak_rss_mib(server)
    bomb = blank_png(7_000, 5_500, bit_depth=8, colour_type=6, channels=4)
    assert len(bomb) < 400_000
    rekognition.detect_faces(Image={"Bytes": bomb})
    grown = peak_rss_mib(server) - before
    assert grown < 1024, f"one {len(bomb):,}-byte PNG raised the server's peak memory by {grown} MiB"


@pytest.mark.parametrize("shape", [(1, 10_000, 3), (10_000, 1, 3), (100, 20_000, 3), (64, 8_000, 3), (8_000, 64, 3)])
def test_detect_text_on_a_thin_image_is_no_500(rekognition: Any, shape: tuple[int, int, int]) -> None:
    # RapidOCR raises ResizeImgError when a side scales to 0 pixels; it reaches the gateway as InternalError.
    # TextReader's MIN_SIDE (16) covers 1 x W, not a long image: reduce_max_side brings the long side to 2,000
    # and rounds the short one to a multiple of 32, so 100 x 20,000 or 64 x 8,000 rounds to 0.
    answer = rekognition.detect_text(Image={"Bytes": png(np.zeros(shape, np.uint8))})
    assert answer["TextDetections"] == []


@pytest.mark.parametrize("attribute,member", [("BEARD", "Beard"), ("MUSTACHE", "Mustache")])
def test_an_attribute_never_measured_is_refused_not_silently_left_out(
    rekognition: Any, attribute: str, member: str
) -> None:
    # Nothing sets FaceAttributes.beard or .mustache; asked for by name, the answer just lacks them
    # (EYE_DIRECTION, equally unmeasured, is refused with InvalidParameterException).
    photo = shared_face("obama/obama.jpg")
    try:
        answer = rekognition.detect_faces(Image={"Bytes": photo}, Attributes=[attribute])
    except rekognition.exceptions.InvalidParameterException:
        return
    assert member in answer["FaceDetails"][0], f"Attributes=[{attribute!r}] answered without {member}"


def test_max_dominant_colors_up_to_twenty_is_honoured(rekognition: Any) -> None:
    # Settings.ImageProperties.MaxDominantColors accepts 0-20 (Rekognition's default 10); the server only ever
    # computes a fixed number of clusters and slices that list, so 10 or 20 silently gives fewer.
    rng = np.random.default_rng(0)
    noisy = png(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8))
    answer = rekognition.detect_labels(
        Image={"Bytes": noisy},
        Features=["IMAGE_PROPERTIES"],
        Settings={"ImageProperties": {"MaxDominantColors": 20}},
    )
    assert len(answer["ImageProperties"]["DominantColors"]) == 20
