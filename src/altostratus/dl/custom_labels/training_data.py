"""A version's training data: the manifests it trains and is tested on, written under its OutputConfig in the lake.

Training takes the TRAIN dataset's usable entries (no errors, one label); testing takes the TEST dataset's or,
without one (or with TestingData.AutoCreate), a seeded fifth of each label split off the training entries, as
Custom Labels does. Each manifest line is a plain image-classification line whose `class` indexes the labels in
order of name, so both manifests agree on it.
"""

from __future__ import annotations

import dataclasses

from altostratus.dl.custom_labels.datasets import Dataset, Datasets, DatasetStatus
from altostratus.dl.custom_labels.entries import Entry, split_test, trainable, training_manifest
from altostratus.dl.custom_labels.lake_files import LakeFiles
from altostratus.vision.errors import InvalidParameter

MANIFEST_TYPE = "application/x-ndjson"


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """Where the manifests were written, how many images each has, and whether the test set was split off."""

    train_key: str
    test_key: str
    train_images: int
    test_images: int
    auto_create: bool


def write_training_data(
    datasets: Datasets, lake: LakeFiles, project: str, bucket: str, root: str, split_off: bool, seed: int
) -> TrainingData:
    """Write the project's training and test manifests under `root` in `bucket`."""
    train = trainable(datasets.entries(_created(datasets.of_project(project, "TRAIN"), project, "TRAIN")))
    test_set = None if split_off else datasets.of_project(project, "TEST")
    if test_set is None:
        train, test = split_test(train, seed=seed)
    else:
        test = trainable(datasets.entries(_created(test_set, project, "TEST")))
    classes = sorted({entry.labels[0] for entry in (*train, *test)})
    keys = (f"{root}TrainingGroundTruth.manifest", f"{root}TestingGroundTruth.manifest")
    parts: tuple[list[Entry], list[Entry]] = (train, test)
    for key, entries in zip(keys, parts, strict=True):
        lake.write(bucket, key, training_manifest(entries, classes), MANIFEST_TYPE)
    return TrainingData(keys[0], keys[1], len(train), len(test), test_set is None)


def _created(dataset: Dataset | None, project: str, dataset_type: str) -> Dataset:
    if dataset is None or dataset.status is not DatasetStatus.CREATE_COMPLETE:
        found = "none" if dataset is None else f"one {dataset.status}: {dataset.status_message}"
        raise InvalidParameter(
            f"Project {project!r} needs a created {dataset_type} dataset to train a model; it has {found}"
        )
    return dataset
