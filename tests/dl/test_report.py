"""The comparison report: a page that parses, a decodable plot per section and family, user names escaped."""

from __future__ import annotations

import base64
import io
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from altostratus.dl.evaluation import Evaluation, InvalidEvaluation, evaluate, threshold_tradeoff
from altostratus.dl.families.linear import LinearClassifier
from altostratus.dl.families.nearest import NearestNeighbour
from altostratus.dl.report import render_report
from tests.dl.conftest import Split

SECTIONS = ["accuracy", "confusion", "mistakes", "precision-recall", "tradeoff"]
HOSTILE = "<script>alert(1)</script>"
TEX = "$\\frac{5 bill"  # mathtext would fail to parse this, were it not drawn as plain text


class Page(HTMLParser):
    """What a report holds: the images of each section, its text, its tags and the mistakes it lists."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.images: dict[str, list[bytes]] = defaultdict(list)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.mistakes: dict[str, list[int]] = {}
        self.section = ""
        self.family = ""
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self.section = found["id"] or ""
        if tag == "img":
            source = found["src"] or ""
            assert source.startswith("data:image/png;base64,")
            self.images[self.section].append(base64.b64decode(source.split(",", 1)[1]))
        if tag == "ol":
            self.family = found["data-family"] or ""
            self.mistakes[self.family] = []
        if tag == "li" and "data-image" in found:
            self.mistakes[self.family].append(int(found["data-image"] or -1))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def evaluations(digits: Split) -> dict[str, Evaluation]:
    """Four families on the digits' test images, two classes renamed as a hostile user would name them."""
    train, test = digits
    classes = list(test.classes)
    classes[3], classes[7] = HOSTILE, TEX
    models: dict[str, NearestNeighbour | LinearClassifier] = {
        "nearest": NearestNeighbour(),
        "nearest k=5": NearestNeighbour(k=5),
        "linear softmax": LinearClassifier(epochs=10),
        "linear svm": LinearClassifier(loss="svm", epochs=10),
    }
    return {
        family: evaluate(classes, test.labels, model.fit(train).predict_proba(test.pixels))
        for family, model in models.items()
    }


@pytest.fixture(scope="module")
def page(evaluations: dict[str, Evaluation], digits: Split) -> tuple[str, Page]:
    started = time.perf_counter()
    text = render_report(
        "Digits <b>bold</b>",
        evaluations,
        digits[1].pixels,
        operating_points={"linear softmax": {HOSTILE: 0.3}},
        notes=["seed 0 & <i>stratified</i>"],
    )
    print(f"report of 4 families x 10 classes: {time.perf_counter() - started:.2f} s, {len(text) / 1e6:.1f} MB")
    return text, Page(text)


def test_one_plot_per_section_and_family(page: tuple[str, Page]) -> None:
    _, parsed = page
    assert list(parsed.images) == SECTIONS
    assert {section: len(images) for section, images in parsed.images.items()} == {
        "accuracy": 1,
        "confusion": 4,
        "mistakes": 4,
        "precision-recall": 4,
        "tradeoff": 4,
    }


def test_the_plots_are_pngs_pillow_decodes(page: tuple[str, Page]) -> None:
    _, parsed = page
    for images in parsed.images.values():
        for data in images:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                assert image.format == "PNG" and min(image.size) >= 100


def test_user_text_is_escaped(page: tuple[str, Page]) -> None:
    text, parsed = page
    assert "script" not in parsed.tags and "b" not in parsed.tags and "i" not in parsed.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    shown = "".join(parsed.text)
    assert HOSTILE in shown and TEX in shown
    assert "Digits <b>bold</b>" in shown and "seed 0 & <i>stratified</i>" in shown


def test_the_mistakes_listed_are_real_mistakes(page: tuple[str, Page], evaluations: dict[str, Evaluation]) -> None:
    _, parsed = page
    assert list(parsed.mistakes) == list(evaluations)
    for family, listed in parsed.mistakes.items():
        evaluation = evaluations[family]
        assert listed == evaluation.mistakes[:24].tolist()
        assert (evaluation.probabilities[listed].argmax(axis=1) != evaluation.truth[listed]).all()


def test_the_operating_point_given_is_the_one_marked(
    page: tuple[str, Page], evaluations: dict[str, Evaluation]
) -> None:
    text, _ = page
    evaluation = evaluations["linear softmax"]
    point = threshold_tradeoff(evaluation.truth, evaluation.probabilities, 3, [0.3])
    row = f"<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>0.300</td><td>{point.recall[0]:.2%}</td>"
    assert row + f"<td>{point.false_positives[0]}</td></tr>" in text
    assert f"<td>{evaluation.thresholds[5]:.3f}</td>" in text


def test_the_page_is_the_same_every_time_and_from_any_thread(evaluations: dict[str, Evaluation], digits: Split) -> None:
    chosen = {"nearest": evaluations["nearest"]}

    def render(_: int) -> str:
        return render_report("twice", chosen, digits[1].pixels, tradeoff_classes=["0", TEX], mistakes_shown=8)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(render, range(2))
    assert first == second
    assert Page(first).mistakes["nearest"] == evaluations["nearest"].mistakes[:8].tolist()


def test_a_family_without_mistakes_shows_no_grid_and_no_classes_no_tradeoff(digits: Split) -> None:
    test = digits[1]
    perfect = evaluate(test.classes, test.labels, np.eye(10, dtype=np.float32)[test.labels])
    parsed = Page(render_report("perfect", {"oracle": perfect}, test.pixels, tradeoff_classes=[]))
    assert len(parsed.images["mistakes"]) == 0 and parsed.mistakes == {}
    assert len(parsed.images["tradeoff"]) == 0 and len(parsed.images["confusion"]) == 1
    assert "oracle: 0 of 450 wrong" in "".join(parsed.text)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tradeoff_classes": ["cat"]}, "unknown classes"),
        ({"operating_points": {"forest": {"0": 0.5}}}, "unknown families"),
        ({"operating_points": {"nearest": {"0": 2.0}}}, "expected 0 to 1"),
        ({"operating_points": {"nearest": {"cat": 0.5}}}, "Unknown class"),
        ({"mistakes_shown": -1}, "mistakes_shown=-1"),
    ],
)
def test_bad_options_name_what_is_wrong(
    evaluations: dict[str, Evaluation], digits: Split, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidEvaluation, match=message):
        render_report("bad", {"nearest": evaluations["nearest"]}, digits[1].pixels, **options)  # type: ignore[arg-type]


def test_evaluations_of_other_images_are_refused(evaluations: dict[str, Evaluation], digits: Split) -> None:
    test = digits[1]
    other = evaluate(evaluations["nearest"].classes, test.labels[::-1], evaluations["nearest"].probabilities)
    with pytest.raises(InvalidEvaluation, match="same classes and test images"):
        render_report("bad", {"nearest": evaluations["nearest"], "other": other}, test.pixels)
    with pytest.raises(InvalidEvaluation, match="450 images, pixels 449"):
        render_report("bad", {"nearest": evaluations["nearest"]}, test.pixels[1:])
    with pytest.raises(InvalidEvaluation, match="evaluations is empty"):
        render_report("bad", {}, test.pixels)


def test_colour_images_of_any_size_are_shown() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (30, 20, 36, 3), dtype=np.uint8)
    probabilities = rng.dirichlet(np.ones(3), 30).astype(np.float32)
    evaluation = evaluate(["cat", "dog", "_background"], np.arange(30) % 3, probabilities)
    parsed = Page(render_report("colour", {"random": evaluation}, pixels, mistakes_shown=5))
    assert parsed.mistakes == {"random": evaluation.mistakes[:5].tolist()}
    with Image.open(io.BytesIO(parsed.images["mistakes"][0])) as grid:
        assert grid.size[0] > grid.size[1]  # five tiles in one row
