"""Loaders: lake images decoded once into a memmap cache, served in bounded batches; bad images skipped, not fatal."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from altostratus.dl.datasets import Dataset, read_dataset, read_folder
from altostratus.dl.decoding import decode_image, natural_shape
from altostratus.dl.errors import DatasetError, DatasetTooSmall, UnreadableImage
from altostratus.dl.images import ArrayImages, Shape, all_of
from altostratus.dl.loaders import MAX_IMAGE_BYTES, EntryReader, LakeImages, images_of
from altostratus.lake.service import LakeService
from tests.dl.image_lake import CIFAR, image_bytes, lake, migrated, png_claiming, put

__all__ = ["lake", "migrated"]  # the fixtures, used by name


def open_images(
    lake: LakeService, *, workers: int = 0, shape: Shape | None = None, cache_dir: Path | None = None
) -> LakeImages:
    """The images under s3://images/pets/, decoded into a cache (in this process unless `workers` says)."""
    dataset = read_dataset("s3://images/pets/", lake)
    return LakeImages(
        dataset.entries, dataset.classes, EntryReader(lake), workers=workers, shape=shape, cache_dir=cache_dir
    )


def pets(lake: LakeService, count: int = 3, mode: str = "RGB", size: tuple[int, int] = (12, 10)) -> list[bytes]:
    """`count` cats then `count` dogs as PNGs of `size`; their bytes, in key order."""
    images = [image_bytes(n, size, mode) for n in range(2 * count)]
    for n, data in enumerate(images):
        put(lake, f"pets/{'cat' if n < count else 'dog'}/{n:04}.png", data)
    return images


def test_decode_image_converts_resizes_and_applies_the_exif_orientation() -> None:
    data = image_bytes(1, (20, 10))
    original = np.asarray(Image.open(io.BytesIO(data)))
    assert np.array_equal(decode_image(data, (10, 20, 3)), original)
    grey = Image.open(io.BytesIO(data)).convert("L").resize((8, 5), Image.Resampling.LANCZOS)
    assert np.array_equal(decode_image(data, (5, 8, 1)), np.asarray(grey)[..., None])
    rotated = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    Image.open(io.BytesIO(data)).save(rotated, "PNG", exif=exif)
    assert natural_shape(rotated.getvalue()) == (20, 10, 3)
    assert np.array_equal(decode_image(rotated.getvalue(), (20, 10, 3)), np.rot90(original, k=-1))
    assert natural_shape(image_bytes(0, (1000, 500))) == (112, 224, 3)  # scaled to 224 a side at most


def test_sixteen_bit_grey_is_scaled_to_eight_bits_not_clipped() -> None:
    deep = (np.arange(80 * 100).reshape(80, 100) * 8).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(deep).save(buffer, "PNG")
    assert Image.open(buffer).mode == "I;16"
    assert np.array_equal(decode_image(buffer.getvalue(), (80, 100, 1))[..., 0], deep >> 8)


def test_decode_image_refuses_what_is_not_an_image_it_takes() -> None:
    with pytest.raises(UnreadableImage, match=r"not an image Pillow can decode \(OSError: .*truncated"):
        decode_image(image_bytes(0, fmt="JPEG")[:-40], (8, 8, 3))
    with pytest.raises(UnreadableImage, match="not an image in one of the formats taken: JPEG, PNG"):
        decode_image(b"plain text", (8, 8, 3))
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"  # Pillow would run Ghostscript for it
    with pytest.raises(UnreadableImage, match="not an image in one of the formats taken"):
        decode_image(eps, (8, 8, 3))


def test_images_are_decoded_into_a_cache_file_with_the_first_images_shape(lake: LakeService) -> None:
    images = pets(lake)
    put(lake, "pets/dog/wide.jpg", image_bytes(9, (30, 7), fmt="JPEG"))
    with open_images(lake) as data:
        assert data.shape == (10, 12, 3) and len(data) == 7 and data.skipped == []
        assert data.labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
        pixels, _ = next(data.batches(7))
        assert np.array_equal(pixels[0], decode_image(images[0], (10, 12, 3)))
        assert pixels[6].shape == (10, 12, 3)  # the wide JPEG, resized to the shape
        assert data.cache_path.is_file() and data.cache_path.stat().st_size == 7 * 10 * 12 * 3
        cache = data.cache_path
    assert not cache.exists() and not cache.parent.exists()


def test_grey_images_give_one_channel_and_a_given_shape_is_kept(lake: LakeService, tmp_path: Path) -> None:
    images = pets(lake, mode="L")
    with open_images(lake) as grey:
        assert grey.shape == (10, 12, 1)
        assert np.array_equal(all_of(grey).pixels[:, ..., 0], [np.asarray(Image.open(io.BytesIO(d))) for d in images])
    (tmp_path / "cache").mkdir()
    with open_images(lake, shape=(6, 6, 3), cache_dir=tmp_path / "cache") as given:
        assert given.shape == (6, 6, 3) and given.cache_path.parent == tmp_path / "cache"
        assert np.array_equal(all_of(given).pixels[1], decode_image(images[1], (6, 6, 3)))
    assert list((tmp_path / "cache").iterdir()) == []  # the caller's folder stays, the cache file goes
    with pytest.raises(DatasetError, match=r"shape=\(6, 6, 2\); expected \(height, width, channels\)"):
        open_images(lake, shape=(6, 6, 2))
    with pytest.raises(DatasetError, match=r"entries labelled \['cat'\], which are not among the classes \['dog'\]"):
        LakeImages(read_dataset("s3://images/pets/", lake).entries, ["dog"], EntryReader(lake))


def test_bad_images_are_skipped_and_reported_never_fatal(lake: LakeService) -> None:
    pets(lake, 2)
    big = image_bytes(5, fmt="JPEG")
    put(lake, "pets/cat/corrupt.png", image_bytes(3)[:60])  # a PNG cut short
    put(lake, "pets/cat/text.jpg", "just text")
    put(lake, "pets/dog/bomb.png", png_claiming(50_000, 50_000))  # past twice MAX_IMAGE_PIXELS: an error
    put(lake, "pets/dog/bomb-warning.png", png_claiming(10_000, 10_000))  # past MAX_IMAGE_PIXELS: a warning
    put(lake, "pets/dog/huge.jpg", big + bytes(MAX_IMAGE_BYTES + 1 - len(big)))  # a JPEG with trailing bytes
    with open_images(lake) as data:
        reasons = dict(data.skipped)
        assert len(data) == 4 and data.labels.tolist() == [0, 0, 1, 1]
        assert sum(len(labels) for _, labels in data.batches(3)) == 4
    assert reasons.keys() == {
        f"s3://images/pets/{key}"
        for key in ("cat/corrupt.png", "cat/text.jpg", "dog/bomb.png", "dog/bomb-warning.png", "dog/huge.jpg")
    }
    assert "not an image Pillow can decode" in reasons["s3://images/pets/cat/corrupt.png"]
    assert reasons["s3://images/pets/dog/bomb.png"].startswith("a decompression bomb")
    assert reasons["s3://images/pets/dog/bomb-warning.png"].startswith("a decompression bomb")
    assert (
        reasons["s3://images/pets/dog/huge.jpg"]
        == f"{MAX_IMAGE_BYTES + 1} bytes; an image may have at most {MAX_IMAGE_BYTES}"
    )


def test_an_image_gone_since_the_dataset_was_read_is_skipped(lake: LakeService) -> None:
    pets(lake, 2)
    dataset = read_dataset("s3://images/pets/", lake)
    lake.delete_object("images", "pets/cat/0000.png")
    with LakeImages(dataset.entries, dataset.classes, EntryReader(lake), workers=0) as data:
        assert data.skipped == [("s3://images/pets/cat/0000.png", "not in the lake any more")]
        assert data.shape == (10, 12, 3) and len(data) == 3


def test_a_dataset_with_no_decodable_image_is_too_small(lake: LakeService) -> None:
    put(lake, "pets/cat/a.png", "text")
    put(lake, "pets/dog/b.png", "more text")
    with pytest.raises(DatasetTooSmall, match="none of the 2 images can be read"):
        open_images(lake)
    with pytest.raises(DatasetTooSmall, match="none of the 2 images can be decoded"):
        open_images(lake, shape=(4, 4, 1))


def test_a_dataset_streams_from_its_cache_a_batch_at_a_time(lake: LakeService) -> None:
    pets(lake, 60, size=(32, 32))  # 120 images of 3 KB each: 360 KB decoded
    with open_images(lake) as data:
        assert data.cache_path.stat().st_size == 120 * 32 * 32 * 3
        whole = all_of(data)
        tracemalloc.start()
        try:
            sizes = [len(pixels) for pixels, _ in data.batches(8, shuffle=True, seed=4)]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert max(sizes) == 8 and sum(sizes) == 120
        assert peak < 4 * 8 * 32 * 32 * 3  # a few batches at most, never the 360 KB of the whole
        # the same order ArrayImages gives for the seed, so a family sees the same epochs either way
        for (pixels, labels), (expected, expected_labels) in zip(
            data.batches(64, shuffle=True, seed=4), whole.batches(64, shuffle=True, seed=4), strict=True
        ):
            assert np.array_equal(pixels, expected) and np.array_equal(labels, expected_labels)


def test_a_subset_reads_the_same_cache(lake: LakeService) -> None:
    pets(lake, 3)
    with open_images(lake) as data:
        part = data.subset([5, 0])
        assert len(part) == 2 and part.labels.tolist() == [1, 0] and part.classes == data.classes
        whole = all_of(data).pixels
        assert np.array_equal(all_of(part).pixels, whole[[5, 0]])
        assert np.array_equal(all_of(part.subset([1])).pixels, whole[[0]])


def test_decoding_in_worker_processes_gives_the_same_pixels(lake: LakeService) -> None:
    pets(lake, 20, size=(24, 18))
    put(lake, "pets/cat/broken.jpg", image_bytes(1, fmt="JPEG")[:100])
    with open_images(lake) as here, open_images(lake, workers=2) as workers:
        assert np.array_equal(all_of(here).pixels, all_of(workers).pixels)
        assert np.array_equal(here.labels, workers.labels) and here.skipped == workers.skipped
        assert len(workers) == 40 and len(workers.skipped) == 1


def test_builtin_images_come_as_they_are_and_lake_entries_as_a_cache(lake: LakeService) -> None:
    pixels = np.zeros((2, 4, 4, 1), np.uint8)
    builtin = Dataset("builtin:test", ("a", "b"), images=ArrayImages(pixels, np.array([0, 1]), ("a", "b")))
    with images_of(builtin) as (arrays, skipped):
        assert arrays is builtin.images and skipped == []
    pets(lake, 1)
    put(lake, "pets/dog/bad.png", "not a PNG")
    with images_of(read_dataset("s3://images/pets/", lake), lake, workers=0) as (data, skipped):
        assert (
            isinstance(data, LakeImages)
            and len(data) == 2
            and [key for key, _ in skipped] == ["s3://images/pets/dog/bad.png"]
        )
        cache = data.cache_path
    assert not cache.exists()


def test_entries_read_from_disk_and_refuse_other_schemes(tmp_path: Path) -> None:
    for n, name in enumerate(("cat/a.png", "dog/b.png")):
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).write_bytes(image_bytes(n, mode="L"))
    with images_of(read_folder(tmp_path), workers=0) as (data, _):
        assert data.shape == (10, 12, 1) and len(data) == 2
    with pytest.raises(UnreadableImage, match="expected an s3:// URL"):
        EntryReader().read("s3://images/a.png", 100)  # no lake to read it from
    with pytest.raises(UnreadableImage, match="cannot be read"):
        EntryReader().read((tmp_path / "absent.png").as_uri(), 100)


@pytest.mark.skipif(not CIFAR.is_dir(), reason=f"the CIFAR-10 subset is not at {CIFAR}")
def test_the_cifar10_subset_decodes_as_two_thousand_colour_images() -> None:
    with images_of(read_folder(CIFAR), workers=0) as (data, skipped):
        assert data.shape == (32, 32, 3) and len(data) == 2000 and skipped == []
        assert np.bincount(data.labels).tolist() == [200] * 10
