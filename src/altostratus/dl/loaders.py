"""Images of a dataset decoded once into an on-disk cache, then served batch by batch: memory stays a few batches.

The calling process reads each object's bytes (the lake's metadata store lives there); worker processes, started
with 'spawn' because the server is multi-threaded, decode them with Pillow into a uint8 numpy memmap. An image that
is missing, over the size limit or not decodable (a decompression bomb included) is skipped and listed in
`skipped`, never a crash. `decode_image` (from `altostratus.dl.decoding`) is the one decoding, inference's too.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from altostratus.dl.decoding import MAX_SIDE, Decoded, decode_all, decode_image, natural_shape
from altostratus.dl.errors import DatasetError, DatasetTooSmall, UnreadableImage
from altostratus.dl.images import CHANNELS, ArrayImages, Labels, Pixels, Shape
from altostratus.lake.errors import NoSuchBucket, NoSuchKey

if TYPE_CHECKING:
    from altostratus.dl.datasets import Dataset, Entry
    from altostratus.lake.service import LakeService

__all__ = ["MAX_IMAGE_BYTES", "CachedImages", "EntryReader", "LakeImages", "decode_image", "images_of"]

MAX_IMAGE_BYTES = 15 * 1024 * 1024
"""The largest object read, as Rekognition Custom Labels allows for a training image."""
IN_FLIGHT_PER_WORKER = 2
CHUNK_IMAGES = 64
CHUNK_BYTES = 8 * 1024 * 1024
COPY_ROWS = 256


class EntryReader:
    """Reads an entry's bytes in the calling process: `s3://` keys from the lake, `file://` keys from disk."""

    def __init__(self, lake: LakeService | None = None) -> None:
        self._lake = lake

    def read(self, key: str, limit: int) -> bytes:
        """The object's bytes; UnreadableImage when it is gone or has more than `limit` bytes (checked first)."""
        if key.startswith("s3://") and self._lake is not None:
            bucket, _, name = key.removeprefix("s3://").partition("/")
            try:
                info = self._lake.head(bucket, name)
            except (NoSuchBucket, NoSuchKey):
                raise UnreadableImage("not in the lake any more") from None
            _check_size(info.size, limit)
            return b"".join(self._lake.read(info))
        if key.startswith("file://"):
            path = Path(urllib.request.url2pathname(urllib.parse.urlparse(key).path))
            try:
                with path.open("rb") as handle:
                    _check_size(os.fstat(handle.fileno()).st_size, limit)
                    return handle.read()
            except OSError as error:
                raise UnreadableImage(f"cannot be read ({error.strerror})") from None
        raise UnreadableImage(f"key {key!r}; expected an s3:// URL (with a lake) or a file:// URL")


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise UnreadableImage(f"{size} bytes; an image may have at most {limit}")


class CachedImages:
    """ImageData over rows of a uint8 memmap: a batch is read from disk only when it is asked for."""

    def __init__(self, pixels: NDArray[np.uint8], rows: NDArray[np.int64], labels: Labels, classes: tuple[str, ...]):
        self._pixels = pixels
        self._rows = rows
        self.labels = labels
        self._classes = classes

    @property
    def classes(self) -> tuple[str, ...]:
        return self._classes

    @property
    def shape(self) -> Shape:
        height, width, channels = self._pixels.shape[1:]
        return (int(height), int(width), int(channels))

    def __len__(self) -> int:
        return len(self._rows)

    def batches(self, size: int, shuffle: bool = False, seed: int = 0) -> Iterator[tuple[Pixels, Labels]]:
        """Copies of `size` rows at a time, in order or in the seeded order ArrayImages uses for the same seed."""
        if size < 1:
            raise ValueError(f"batch size {size!r}; expected a positive integer")
        order = np.random.default_rng(seed).permutation(len(self)) if shuffle else np.arange(len(self))
        for start in range(0, len(self), size):
            chosen = order[start : start + size]
            yield np.asarray(self._pixels[self._rows[chosen]]), self.labels[chosen]

    def subset(self, indices: Sequence[int] | NDArray[Any]) -> CachedImages:
        """The images at `indices`, over the same cache and with the same classes."""
        chosen = np.asarray(indices, dtype=np.int64)
        return CachedImages(self._pixels, self._rows[chosen], self.labels[chosen], self._classes)


class LakeImages(CachedImages):
    """A dataset's entries decoded once into a memmap cache file; `close()` (or leaving `with`) removes it.

    The shape is `shape`, or by default the first readable image's size scaled to `max_side` at most, with one
    channel when every image is grey, else three. `workers=0` decodes in this process.
    """

    def __init__(
        self,
        entries: Sequence[Entry],
        classes: Sequence[str],
        reader: EntryReader,
        *,
        shape: Shape | None = None,
        cache_dir: str | Path | None = None,
        workers: int = 2,
        max_bytes: int = MAX_IMAGE_BYTES,
        max_side: int = MAX_SIDE,
    ) -> None:
        if shape is not None and (len(shape) != 3 or min(shape) < 1 or shape[2] not in CHANNELS):
            raise DatasetError(f"shape={shape!r}; expected (height, width, channels) with channels one of {CHANNELS}")
        if workers < 0 or max_bytes < 1 or max_side < 1:
            raise DatasetError(f"workers={workers}, max_bytes={max_bytes}, max_side={max_side}; expected 0+, 1+, 1+")
        unknown = sorted({entry.label for entry in entries} - set(classes))
        if unknown:
            raise DatasetError(f"entries labelled {unknown[:5]}, which are not among the classes {list(classes)[:20]}")
        self._workers, self._max_bytes, self._max_side = workers, max_bytes, max_side
        self.skipped: list[tuple[str, str]] = []
        """(key, reason) of every image left out."""
        self._own_dir = cache_dir is None
        self._dir = Path(tempfile.mkdtemp(prefix="alto-images-") if cache_dir is None else cache_dir)
        handle, name = tempfile.mkstemp(prefix="images-", suffix=".u8", dir=self._dir)
        os.close(handle)
        self.cache_path = Path(name)
        """The memmap file on disk that holds the decoded pixels."""
        try:
            pixels, labels = self._fill(list(entries), {name: n for n, name in enumerate(classes)}, reader, shape)
        except BaseException:
            self.close()
            raise
        super().__init__(pixels, np.arange(len(labels), dtype=np.int64), labels, tuple(classes))

    def _fill(
        self, entries: list[Entry], index: dict[str, int], reader: EntryReader, shape: Shape | None
    ) -> tuple[NDArray[np.uint8], Labels]:
        """Every decodable entry's pixels in the cache, in order, and their labels."""
        first, adapt_channels = 0, shape is None
        while shape is None and first < len(entries):
            try:
                shape = natural_shape(reader.read(entries[first].key, self._max_bytes), self._max_side)
            except UnreadableImage as error:
                self.skipped.append((entries[first].key, error.message))
                first += 1
        if shape is None or first == len(entries):
            raise DatasetTooSmall(f"none of the {len(entries)} images can be read; skipped: {self.skipped[:3]}")
        pixels = np.memmap(self.cache_path, dtype=np.uint8, mode="w+", shape=(len(entries) - first, *shape))
        labels: list[int] = []
        all_grey = True
        for entry, result in self._decoded(entries[first:], reader, shape):
            if isinstance(result, str):
                self.skipped.append((entry.key, result))
                continue
            pixels[len(labels)], grey = result
            all_grey = all_grey and grey
            labels.append(index[entry.label])
        if not labels:
            raise DatasetTooSmall(f"none of the {len(entries)} images can be decoded; skipped: {self.skipped[:3]}")
        pixels.flush()
        cached: NDArray[np.uint8] = pixels[: len(labels)]
        if adapt_channels and all_grey:
            cached = self._one_channel(cached)
        return cached, np.asarray(labels, dtype=np.int64)

    def _decoded(self, entries: list[Entry], reader: EntryReader, shape: Shape) -> Iterator[tuple[Entry, Decoded]]:
        """(entry, its pixels and greyness, or why it is skipped) in order, a few chunks in flight at a time."""
        chunks = self._chunks(entries, reader)
        if self._workers == 0:
            for chunk, items in chunks:
                yield from zip(chunk, decode_all(items, shape), strict=True)
            return
        context = multiprocessing.get_context("spawn")  # never fork a multi-threaded server
        with ProcessPoolExecutor(self._workers, mp_context=context) as pool:
            window: deque[tuple[list[Entry], Future[list[Decoded]]]] = deque()
            for chunk, items in chunks:
                window.append((chunk, pool.submit(decode_all, items, shape)))
                if len(window) > IN_FLIGHT_PER_WORKER * self._workers:
                    done, pending = window.popleft()
                    yield from zip(done, pending.result(), strict=True)
            for done, pending in window:
                yield from zip(done, pending.result(), strict=True)

    def _chunks(self, entries: list[Entry], reader: EntryReader) -> Iterator[tuple[list[Entry], list[bytes | str]]]:
        """Entries with their bytes (or why they cannot be read), CHUNK_IMAGES or CHUNK_BYTES at a time."""
        chunk: list[Entry] = []
        items: list[bytes | str] = []
        size = 0
        for entry in entries:
            try:
                items.append(reader.read(entry.key, self._max_bytes))
            except UnreadableImage as error:
                items.append(error.message)
            chunk.append(entry)
            size += len(items[-1])
            if len(chunk) == CHUNK_IMAGES or size >= CHUNK_BYTES:
                yield chunk, items
                chunk, items, size = [], [], 0
        if chunk:
            yield chunk, items

    def _one_channel(self, pixels: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The cache rewritten with one channel, a few rows at a time: every image was grey."""
        handle, name = tempfile.mkstemp(prefix="images-", suffix=".u8", dir=self._dir)
        os.close(handle)
        grey = np.memmap(name, dtype=np.uint8, mode="w+", shape=(*pixels.shape[:3], 1))
        for start in range(0, len(pixels), COPY_ROWS):
            grey[start : start + COPY_ROWS] = pixels[start : start + COPY_ROWS, ..., :1]
        grey.flush()
        self.cache_path.unlink()
        self.cache_path = Path(name)
        return grey

    def close(self) -> None:
        """Remove the cache (its folder too, when this made it)."""
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)
        else:
            self.cache_path.unlink(missing_ok=True)

    def __enter__(self) -> LakeImages:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


@contextlib.contextmanager
def images_of(
    dataset: Dataset,
    lake: LakeService | None = None,
    *,
    shape: Shape | None = None,
    cache_dir: str | Path | None = None,
    workers: int = 2,
) -> Iterator[tuple[ArrayImages | LakeImages, list[tuple[str, str]]]]:
    """A dataset's images and the (key, reason) of those skipped, for a `with` block that closes the cache after.

    A built-in's arrays come as they are (none skipped); entries are decoded into a LakeImages cache.
    """
    if dataset.images is not None:
        yield dataset.images, []
        return
    with LakeImages(
        dataset.entries, dataset.classes, EntryReader(lake), shape=shape, cache_dir=cache_dir, workers=workers
    ) as images:
        yield images, images.skipped
