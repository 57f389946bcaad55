"""DetectText's engine on text rendered with Pillow: the real RapidOCR models, loaded once per session."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from altostratus.vision.images import Picture
from altostratus.vision.results import TextDetection, TextType
from altostratus.vision.text import TextReader

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(FONT), size) if FONT.exists() else ImageFont.load_default(size=size)


def rendered(lines: list[tuple[str, tuple[int, int]]], size: tuple[int, int] = (640, 240)) -> Picture:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for text, where in lines:
        draw.text(where, text, fill="black", font=font(40))
    return Picture(np.asarray(image), "PNG", None)


@pytest.fixture(scope="session")
def reader() -> TextReader:
    found = TextReader()
    found.warm()
    return found


@pytest.fixture(scope="session")
def two_lines(reader: TextReader) -> list[TextDetection]:
    return reader.read(rendered([("HELLO WORLD", (40, 40)), ("ALTOSTRATUS 2026", (40, 140))]))


def test_both_lines_are_read_in_order(two_lines: list[TextDetection]) -> None:
    lines = [d for d in two_lines if d.type is TextType.LINE]
    assert [(d.text, d.id, d.parent_id) for d in lines] == [("HELLO WORLD", 0, None), ("ALTOSTRATUS 2026", 1, None)]
    assert all(d.confidence > 90 for d in lines)
    assert lines[0].box.top < lines[1].box.top


def test_words_name_their_line(two_lines: list[TextDetection]) -> None:
    words = [d for d in two_lines if d.type is TextType.WORD]
    assert [(d.text, d.parent_id) for d in words] == [("HELLO", 0), ("WORLD", 0), ("ALTOSTRATUS", 1), ("2026", 1)]
    assert [d.id for d in words] == [2, 3, 4, 5]
    hello, world = words[0], words[1]
    assert hello.box.left + hello.box.width <= world.box.left + 0.01


def test_geometry_is_inside_the_image(two_lines: list[TextDetection]) -> None:
    for detection in two_lines:
        assert len(detection.polygon) == 4
        assert all(0 <= p.x <= 1 and 0 <= p.y <= 1 for p in detection.polygon)
        box = detection.box
        assert box.width > 0 and box.height > 0 and box.left + box.width <= 1 and box.top + box.height <= 1
        top_left, top_right, bottom_right, bottom_left = detection.polygon
        assert top_left.x < top_right.x and bottom_left.x < bottom_right.x and top_left.y < bottom_left.y


def test_a_blank_picture_has_no_text(reader: TextReader) -> None:
    assert reader.read(rendered([])) == []


def test_words_far_apart_on_one_row_are_separate_lines(reader: TextReader) -> None:
    found = reader.read(rendered([("LEFT", (20, 100)), ("RIGHT", (1000, 100))], size=(1200, 240)))
    assert sorted(d.text for d in found if d.type is TextType.LINE) == ["LEFT", "RIGHT"]


def test_threads_read_alike(reader: TextReader, two_lines: list[TextDetection]) -> None:
    picture = rendered([("HELLO WORLD", (40, 40)), ("ALTOSTRATUS 2026", (40, 140))])
    answers: list[list[TextDetection]] = []
    threads = [threading.Thread(target=lambda: answers.append(reader.read(picture))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [two_lines, two_lines]
