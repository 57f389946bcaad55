"""Datasets read from a real lake (folders, CSV and Ground Truth manifests), built-ins, and seeded splits."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from altostratus.dl import datasets
from altostratus.dl.datasets import Entry, read_dataset, read_folder, split, split_off
from altostratus.dl.errors import (
    DatasetError,
    DatasetTooLarge,
    DatasetTooSmall,
    EmptyClass,
    InvalidManifest,
    MissingObject,
)
from altostratus.lake.service import LakeService
from tests.dl.image_lake import CIFAR, image_bytes, lake, migrated, put

__all__ = ["lake", "migrated"]  # the fixtures, used by name


def pets(lake: LakeService) -> None:
    """Two cats and three dogs under pets/, plus a note that is not an image and a folder marker."""
    for name in ("cat/a.jpg", "cat/b.PNG", "dog/1.png", "dog/2.webp", "dog/deeper/3.jpeg"):
        put(lake, f"pets/{name}", image_bytes(len(name)))
    put(lake, "pets/dog/notes.txt", "not an image")
    put(lake, "pets/", b"")


def ground_truth(source: str, index: int, name: str, attribute: str = "pets", **extra: Any) -> str:
    """One line of a Ground Truth image-classification manifest."""
    metadata = {"class-name": name, "confidence": 1, "type": "groundtruth/image-classification", "job-name": "j"}
    return json.dumps({"source-ref": source, attribute: index, f"{attribute}-metadata": metadata, **extra})


def test_a_folder_source_has_one_folder_per_class_and_takes_only_images(
    lake: LakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    pets(lake)
    monkeypatch.setattr(datasets, "LIST_PAGE", 2)  # pages through the listing
    dataset = read_dataset("s3://images/pets/", lake)
    assert dataset.classes == ("cat", "dog")
    assert [entry.key.removeprefix("s3://images/pets/") for entry in dataset.entries] == [
        "cat/a.jpg",
        "cat/b.PNG",
        "dog/1.png",
        "dog/2.webp",
        "dog/deeper/3.jpeg",
    ]
    assert dataset.labels.tolist() == [0, 0, 1, 1, 1]
    assert len(dataset) == 5 and dataset.images is None
    assert read_dataset("s3://images/pets", lake).entries == dataset.entries  # no suffix: a folder


def test_a_folder_source_refuses_objects_directly_under_it(lake: LakeService) -> None:
    pets(lake)
    put(lake, "pets/stray.jpg", image_bytes(0))
    with pytest.raises(DatasetError, match=r"s3://images/pets/stray.jpg lies directly under the source"):
        read_dataset("s3://images/pets/", lake)


def test_a_class_folder_without_images_is_an_empty_class(lake: LakeService) -> None:
    pets(lake)
    put(lake, "pets/bird/readme.txt", "no birds yet")
    with pytest.raises(EmptyClass, match="class 'bird' has no image"):
        read_dataset("s3://images/pets/", lake)


def test_folder_sources_with_nothing_a_dot_segment_or_no_bucket_are_refused(lake: LakeService) -> None:
    with pytest.raises(DatasetTooSmall, match="holds no image"):
        read_dataset("s3://images/empty/", lake)
    with pytest.raises(MissingObject, match="bucket 'nowhere' does not exist"):
        read_dataset("s3://nowhere/", lake)
    put(lake, "pets/cat/../dog/a.jpg", image_bytes(0))  # a legal S3 key that tools would resolve
    with pytest.raises(DatasetError, match=r"'\.' or '\.\.' path segment"):
        read_dataset("s3://images/pets/", lake)


def test_a_csv_manifest_takes_keys_relative_to_its_folder_or_full_urls(lake: LakeService) -> None:
    pets(lake)
    put(lake, "other/x.jpg", image_bytes(9), bucket="images")
    lake.create_bucket("more")
    put(lake, "far/y.png", image_bytes(8), bucket="more")
    put(
        lake,
        "pets/list.csv",
        "cat/a.jpg, cat\r\n\r\ndog/1.png,dog\ns3://more/far/y.png,dog\ns3://images/other/x.jpg,cat\n",
    )
    dataset = read_dataset("s3://images/pets/list.csv", lake)
    assert dataset.entries == (
        Entry("s3://images/pets/cat/a.jpg", "cat"),
        Entry("s3://images/pets/dog/1.png", "dog"),
        Entry("s3://more/far/y.png", "dog"),
        Entry("s3://images/other/x.jpg", "cat"),
    )
    put(lake, "top.csv", "KEY,Label\npets/cat/b.PNG,cat\n")  # a manifest at the bucket's top: keys from there
    assert read_dataset("s3://images/top.csv", lake).entries == (Entry("s3://images/pets/cat/b.PNG", "cat"),)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("../pets/cat/a.jpg,cat", r"line 2: key '\.\./pets/cat/a\.jpg' has a '\.' or '\.\.' segment"),
        ("s3://images/pets/./cat/a.jpg,cat", r"line 2: key .* has a '\.' or '\.\.' segment"),
        ("file:///etc/passwd,cat", r"line 2: key 'file:///etc/passwd'; expected a key relative to s3://images/lists/"),
        ("/pets/cat/a.jpg,cat", "line 2: key '/pets/cat/a.jpg'; expected a key relative"),
        ("cat/a.jpg,cat,extra", r"line 2: 3 fields .*; expected key,label"),
        ("cat/a.jpg,", r"line 2: 2 fields .*; expected key,label"),
        ('"cat/a.jpg', "line 2: not CSV"),
    ],
)
def test_bad_csv_lines_are_refused_naming_the_line(lake: LakeService, row: str, message: str) -> None:
    pets(lake)
    put(lake, "lists/pets.csv", f"dog/x.jpg,dog\n{row}\n".replace("dog/x.jpg", "s3://images/pets/dog/1.png"))
    with pytest.raises(InvalidManifest, match=message):
        read_dataset("s3://images/lists/pets.csv", lake)


def test_a_manifest_line_naming_a_missing_object_is_refused_with_its_line_and_url(lake: LakeService) -> None:
    pets(lake)
    put(lake, "pets/list.csv", "cat/a.jpg,cat\ncat/gone.jpg,cat\n")
    with pytest.raises(MissingObject, match=r"pets/list.csv line 2: s3://images/pets/cat/gone.jpg is not in the lake"):
        read_dataset("s3://images/pets/list.csv", lake)
    put(lake, "pets/gt.manifest", ground_truth("s3://nowhere/a.jpg", 0, "cat"))
    with pytest.raises(MissingObject, match=r"gt.manifest line 1: s3://nowhere/a.jpg is not in the lake"):
        read_dataset("s3://images/pets/gt.manifest", lake)
    with pytest.raises(MissingObject, match="the manifest is not in the lake"):
        read_dataset("s3://images/pets/absent.csv", lake)


def test_a_ground_truth_manifest_finds_its_label_attribute(lake: LakeService) -> None:
    pets(lake)
    lines = [
        ground_truth("s3://images/pets/cat/a.jpg", 0, "cat", other={"not": "a label"}),
        "",
        ground_truth("s3://images/pets/dog/1.png", 1, "dog"),
        ground_truth("dog/2.webp", 1, "dog"),  # relative to the manifest's folder, as a CSV key is
    ]
    put(lake, "pets/train.manifest", "\n".join(lines) + "\n")
    dataset = read_dataset("s3://images/pets/train.manifest", lake)
    assert dataset.classes == ("cat", "dog")
    assert [entry.label for entry in dataset.entries] == ["cat", "dog", "dog"]
    assert dataset.entries[2].key == "s3://images/pets/dog/2.webp"
    assert read_dataset("s3://images/pets/train.manifest", lake, label_attribute="pets").entries == dataset.entries


def test_a_ground_truth_manifest_with_two_label_attributes_needs_one_named(lake: LakeService) -> None:
    pets(lake)
    both = json.loads(ground_truth("s3://images/pets/cat/a.jpg", 0, "cat"))
    both.update(json.loads(ground_truth("s3://images/pets/cat/a.jpg", 1, "kitten", attribute="age")))
    put(lake, "pets/both.jsonl", json.dumps(both) + "\n")
    with pytest.raises(InvalidManifest, match=r"line 1: label attributes \['age', 'pets'\] are all possible"):
        read_dataset("s3://images/pets/both.jsonl", lake)
    assert read_dataset("s3://images/pets/both.jsonl", lake, label_attribute="age").classes == ("kitten",)
    with pytest.raises(InvalidManifest, match="line 1: no label attribute 'colour'"):
        read_dataset("s3://images/pets/both.jsonl", lake, label_attribute="colour")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"source-ref": "s3://images/pets/cat/a.jpg", ', "line 2: not JSON"),
        ("[1, 2]", "line 2: a JSON list; expected an object"),
        (json.dumps({"pets": 0, "pets-metadata": {"class-name": "cat"}}), "line 2: no 'source-ref'"),
        (json.dumps({"source-ref": "s3://images/pets/cat/a.jpg", "pets": 0}), "line 2: no label attribute 'pets'"),
        (ground_truth("s3://images/pets/cat/a.jpg", 0, "cat").replace(": 0", ': "0"', 1), "pets='0'; expected the"),
        (
            ground_truth("s3://images/pets/cat/a.jpg", 1, "cat"),
            "line 2: class 1 is 'cat'; an earlier line calls it 'dog'",
        ),
    ],
)
def test_bad_ground_truth_lines_are_refused_naming_the_line(lake: LakeService, line: str, message: str) -> None:
    pets(lake)
    put(lake, "pets/gt.manifest", ground_truth("s3://images/pets/dog/1.png", 1, "dog") + "\n" + line + "\n")
    with pytest.raises(InvalidManifest, match=message):
        read_dataset("s3://images/pets/gt.manifest", lake)


def test_a_ground_truth_manifest_without_any_label_attribute_is_refused(lake: LakeService) -> None:
    pets(lake)
    put(lake, "pets/boxes.manifest", json.dumps({"source-ref": "s3://images/pets/cat/a.jpg", "boxes": {}}))
    with pytest.raises(InvalidManifest, match="line 1: no label attribute; an image-classification line has"):
        read_dataset("s3://images/pets/boxes.manifest", lake)


def test_a_class_named_in_ground_truth_metadata_without_example_is_an_empty_class(lake: LakeService) -> None:
    pets(lake)
    line = json.loads(ground_truth("s3://images/pets/cat/a.jpg", 0, "cat"))
    line["pets-metadata"]["class-map"] = {"0": "cat", "1": "bird"}
    put(lake, "pets/gt.manifest", json.dumps(line))
    with pytest.raises(EmptyClass, match="class 'bird' has no image"):
        read_dataset("s3://images/pets/gt.manifest", lake)


def test_sources_that_are_not_known_are_refused_listing_those_that_are(lake: LakeService) -> None:
    for source in ("file:///etc/", "images/pets/", "s3:///x.csv", "s3://images/pets/cat/a.jpg", "builtin:cifar"):
        with pytest.raises(DatasetError, match=r"expected one of s3://bucket/prefix/, .*builtin:mnist"):
            read_dataset(source, lake)


def test_more_entries_than_allowed_is_refused(lake: LakeService) -> None:
    pets(lake)
    with pytest.raises(DatasetTooLarge, match="more than max_entries=4 images"):
        read_dataset("s3://images/pets/", lake, max_entries=4)
    put(lake, "pets/list.csv", "cat/a.jpg,cat\ndog/1.png,dog\n")
    with pytest.raises(DatasetTooLarge, match=r"line 2: .* more than max_entries=1"):
        read_dataset("s3://images/pets/list.csv", lake, max_entries=1)


@pytest.mark.slow
def test_builtin_digits_and_mnist_are_labelled_uint8_images(lake: LakeService) -> None:
    digits = read_dataset("builtin:digits", lake)
    assert digits.images is not None and digits.images.pixels.shape == (1797, 8, 8, 1)
    assert digits.images.pixels.max() == 255 and digits.classes == tuple("0123456789")
    mnist = read_dataset("builtin:mnist", lake)
    assert mnist.images is not None and mnist.images.shape == (28, 28, 1) and len(mnist) == 5000
    assert np.bincount(mnist.labels).tolist() == [500] * 10


def test_a_folder_on_disk_reads_as_file_urls(tmp_path: Any) -> None:
    for name in ("cat/a.png", "dog/b.jpg", "dog/c.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(image_bytes(0))
    dataset = read_folder(tmp_path)
    assert dataset.entries == (
        Entry((tmp_path / "cat/a.png").as_uri(), "cat"),
        Entry((tmp_path / "dog/b.jpg").as_uri(), "dog"),
    )
    with pytest.raises(MissingObject, match="is not a folder"):
        read_folder(tmp_path / "cat" / "a.png")


@pytest.mark.skipif(not CIFAR.is_dir(), reason=f"the CIFAR-10 subset is not at {CIFAR}")
def test_the_cifar10_subset_reads_as_ten_classes_of_two_hundred() -> None:
    dataset = read_folder(CIFAR)
    assert len(dataset.classes) == 10 and "airplane" in dataset.classes
    assert np.bincount(dataset.labels).tolist() == [200] * 10


def test_a_split_is_stratified_seeded_and_covers_every_index_once() -> None:
    labels = np.repeat(np.arange(3), [50, 30, 20])
    train, validation, test = split(labels, (0.8, 0.1, 0.1), seed=7)
    assert sorted([*train, *validation, *test]) == list(range(100))
    assert np.bincount(labels[train]).tolist() == [40, 24, 16]
    assert np.bincount(labels[validation]).tolist() == [5, 3, 2]
    assert np.bincount(labels[test]).tolist() == [5, 3, 2]
    again = split(labels, (0.8, 0.1, 0.1), seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, validation, test), strict=True))
    other = split(labels, (0.8, 0.1, 0.1), seed=8)
    assert not np.array_equal(other[2], test)


def test_every_class_keeps_a_training_example() -> None:
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2])
    train, validation, test = split(labels, (0.4, 0.3, 0.3))
    assert set(labels[train]) == {0, 1, 2}
    assert 1 not in labels[validation] and 1 not in labels[test]
    assert np.bincount(labels[test], minlength=3).tolist() == [3, 0, 1]  # the held-out parts give way


def test_a_class_without_examples_cannot_be_split() -> None:
    with pytest.raises(EmptyClass, match="class 'bird' has no example"):
        split(np.array([0, 0, 2]), classes=("cat", "bird", "dog"))
    with pytest.raises(EmptyClass, match="class '1' has no example"):
        split(np.array([0, 2, 2]))
    with pytest.raises(DatasetTooSmall, match="nothing to split"):
        split(np.array([], dtype=np.int64))
    with pytest.raises(DatasetError, match=r"labels of shape \(3,\); expected class indices, below 2"):
        split(np.array([0, 1, 2]), classes=("cat", "dog"))


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.0, 0.5, 0.5), (0.8, 0.3, -0.1), (0.8, 0.1, 0.2)])
def test_split_fractions_must_be_three_summing_to_one(fractions: tuple[float, ...]) -> None:
    with pytest.raises(DatasetError, match=r"fractions=.*; expected \(train, validation, test\)"):
        split(np.array([0, 1]), fractions)


def test_split_off_holds_out_a_fraction_of_each_class() -> None:
    labels = np.repeat(np.arange(2), [50, 10])
    kept, held_out = split_off(labels, 0.2, seed=3)
    assert np.bincount(labels[held_out]).tolist() == [10, 2]
    assert not set(kept) & set(held_out) and len(kept) + len(held_out) == 60
    assert np.array_equal(split_off(labels, 0.2, seed=3)[1], held_out)
    with pytest.raises(DatasetError, match=r"fraction=1\.0"):
        split_off(labels, 1.0)
