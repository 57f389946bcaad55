"""DetectLabels' engine on scikit-image's photos: the real classifier and detector, loaded once per session."""

from __future__ import annotations

import json
import threading
from importlib import resources

import numpy as np
import pytest
from skimage import data

from altostratus.vision.errors import InvalidParameter
from altostratus.vision.images import Picture
from altostratus.vision.labels import LabelDetector, LabelFilters, default_hierarchy
from altostratus.vision.labels.properties import image_properties
from altostratus.vision.results import Label


def picture(pixels: np.ndarray) -> Picture:
    return Picture(np.ascontiguousarray(pixels, dtype=np.uint8), "PNG", None)


@pytest.fixture(scope="session")
def detector() -> LabelDetector:
    found = LabelDetector()
    found.warm()
    return found


@pytest.fixture(scope="session")
def photos() -> dict[str, Picture]:
    return {name: picture(getattr(data, name)()) for name in ("chelsea", "coffee", "rocket", "astronaut")}


@pytest.fixture(scope="session")
def every_cat_label(detector: LabelDetector, photos: dict[str, Picture]) -> list[Label]:
    return detector.detect(photos["chelsea"], min_confidence=0.0)


def by_name(labels: list[Label]) -> dict[str, Label]:
    return {label.name: label for label in labels}


def test_the_cat_is_a_cat_an_animal_and_a_pet(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    labels = by_name(detector.detect(photos["chelsea"], min_confidence=55.0))
    cat = labels["Cat"]
    assert cat.confidence > 80
    assert {"Animal", "Mammal"} <= set(cat.parents)
    assert cat.categories == ("Animals and Pets",)
    assert cat.instances and all(0 <= i.box.left <= 1 and 0 < i.box.area <= 1 for i in cat.instances)
    assert {"Animal", "Pet"} <= set(labels)


def test_the_coffee_is_a_cup(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    names = set(by_name(detector.detect(photos["coffee"], min_confidence=55.0)))
    assert {"Cup", "Coffee Mug", "Espresso"} & names
    assert "Beverage" in names


def test_the_rocket_is_a_rocket(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    names = set(by_name(detector.detect(photos["rocket"], min_confidence=20.0)))
    assert {"Rocket", "Missile", "Space Shuttle", "Projectile"} & names


def test_the_astronaut_is_a_boxed_person(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    person = by_name(detector.detect(photos["astronaut"]))["Person"]
    assert person.categories == ("Person Description",)
    (instance,) = person.instances
    assert instance.confidence >= 55 and instance.box.area > 0.3
    assert instance.box.left + instance.box.width <= 1 and instance.box.top + instance.box.height <= 1


def test_labels_come_most_confident_first_and_parents_score_at_least_their_children(
    every_cat_label: list[Label],
) -> None:
    confidences = [label.confidence for label in every_cat_label]
    assert confidences == sorted(confidences, reverse=True)
    scores = by_name(every_cat_label)
    for label in every_cat_label:
        for parent in label.parents:
            assert scores[parent].confidence >= label.confidence - 1e-6, (label.name, parent)


def test_max_labels_and_min_confidence_are_honoured(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    assert len(detector.detect(photos["chelsea"], max_labels=3, min_confidence=0.0)) == 3
    assert detector.detect(photos["chelsea"], max_labels=0) == []
    assert all(label.confidence >= 90 for label in detector.detect(photos["chelsea"], min_confidence=90.0))
    with pytest.raises(InvalidParameter, match="MinConfidence"):
        detector.detect(photos["chelsea"], min_confidence=101.0)
    with pytest.raises(InvalidParameter, match="MaxLabels"):
        detector.detect(photos["chelsea"], max_labels=-1)


def test_instances_can_be_left_out(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    labels = detector.detect(photos["astronaut"], min_confidence=0.0, instances=False)
    assert all(not label.instances for label in labels)


def test_name_filters(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    only = detector.detect(photos["chelsea"], filters=LabelFilters(include_labels=("cat", "Dog")))
    assert [label.name for label in only] == ["Cat"]
    without = detector.detect(photos["chelsea"], filters=LabelFilters(exclude_labels=("Cat", "Animal")))
    assert {"Cat", "Animal"}.isdisjoint(label.name for label in without) and without


def test_category_filters(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    animals = detector.detect(photos["coffee"], filters=LabelFilters(include_categories=("Animals and Pets",)))
    assert animals == []
    food = detector.detect(photos["coffee"], filters=LabelFilters(include_categories=("Food and Beverage",)))
    assert food and all(label.categories == ("Food and Beverage",) for label in food)
    rest = detector.detect(photos["coffee"], filters=LabelFilters(exclude_categories=("Food and Beverage",)))
    assert rest and all("Food and Beverage" not in label.categories for label in rest)
    both = LabelFilters(include_categories=("Food and Beverage",), exclude_labels=("Espresso",))
    assert "Espresso" not in {label.name for label in detector.detect(photos["coffee"], filters=both)}


def test_filters_check_their_lists() -> None:
    with pytest.raises(InvalidParameter, match="include_labels"):
        LabelFilters(include_labels=tuple(f"x{i}" for i in range(101)))
    with pytest.raises(InvalidParameter, match="exclude_categories"):
        LabelFilters(exclude_categories=("",))


def test_threads_share_the_detector(detector: LabelDetector, photos: dict[str, Picture]) -> None:
    chosen = ("chelsea", "astronaut")
    expected = {name: detector.detect(photos[name]) for name in chosen}
    answers: dict[str, list[Label]] = {}

    def run(name: str) -> None:
        answers[name] = detector.detect(photos[name])

    threads = [threading.Thread(target=run, args=(name,)) for name in chosen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == expected


def test_the_shipped_hierarchy_is_whole_and_small() -> None:
    hierarchy = default_hierarchy()
    assert len(hierarchy.classes) == 1000 == len(set(hierarchy.classes))
    assert len(hierarchy.objects) == 80 and hierarchy.objects["person"] == "Person"
    assert hierarchy.node("Egyptian Cat").parents[0] == "Cat"
    assert hierarchy.node("Tabby").aliases == ("Tabby Cat",)
    raw = resources.files("altostratus.vision.data").joinpath("labels.json").read_bytes()
    assert len(raw) < 1_000_000
    assert "Princeton" in json.loads(raw)["header"]["licence"]


def test_label_scores_sum_the_classes_under_them() -> None:
    hierarchy = default_hierarchy()
    probabilities = np.zeros(1000, dtype=np.float32)
    for name, p in (("Tabby", 0.5), ("Egyptian Cat", 0.25), ("Persian Cat", 0.125)):
        probabilities[hierarchy.classes.index(name)] = p
    scores = hierarchy.scores(probabilities)
    assert scores["Cat"] == pytest.approx(0.875) and scores["Animal"] == pytest.approx(0.875)
    assert scores["Tabby"] == pytest.approx(0.5) and "Dog" not in scores


def test_a_red_picture_is_red_and_a_black_one_dark() -> None:
    red = image_properties(picture(np.full((60, 80, 3), (255, 0, 0))))
    (colour,) = red.dominant_colors
    assert (colour.red, colour.green, colour.blue, colour.hex_code) == (255, 0, 0, "#ff0000")
    assert (colour.css_color, colour.simplified_color, colour.pixel_percent) == ("red", "red", 100.0)
    black = image_properties(picture(np.zeros((60, 80, 3))))
    assert black.quality.brightness == 0 and black.quality.contrast == 0 and black.quality.sharpness == 0
    assert image_properties(picture(np.full((10, 10, 3), 255))).quality.brightness == 100


def test_photo_properties_are_sane(photos: dict[str, Picture]) -> None:
    coffee = image_properties(photos["coffee"])
    quality = coffee.quality
    assert 20 < quality.brightness < 70 and 20 < quality.contrast < 80 and quality.sharpness > 60
    assert 1 < len(coffee.dominant_colors) <= 10
    assert sum(c.pixel_percent for c in coffee.dominant_colors) == pytest.approx(100, abs=0.1)
    shares = [c.pixel_percent for c in coffee.dominant_colors]
    assert shares == sorted(shares, reverse=True)
    blurred = picture(np.repeat(np.repeat(photos["coffee"].pixels[::8, ::8], 8, axis=0), 8, axis=1))
    assert image_properties(blurred).quality.sharpness < quality.sharpness
