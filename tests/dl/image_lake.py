"""A real lake in this process with a bucket of images, and real image bytes drawn with Pillow, for dataset tests."""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from altostratus.core.clock import SystemClock
from altostratus.core.events import EventBus
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore

BUCKET = "images"
CIFAR = Path(__file__).resolve().parents[3] / "shared" / "data" / "images" / "cifar10_subset" / "train"


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty metadata database, migrated once per session (a migration takes a good part of a second)."""
    path = tmp_path_factory.mktemp("lake") / "metadata.db"
    store = MetadataStore(f"sqlite:///{path}")
    store.migrate()
    store.close()
    return path


@pytest.fixture
def lake(tmp_path: Path, migrated: Path) -> Iterator[LakeService]:
    """A lake on SQLite and local blobs with one empty bucket, `images`."""
    shutil.copyfile(migrated, tmp_path / "metadata.db")
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    service = LakeService(store, LocalBlobStore(tmp_path / "blobs"), EventBus(), SystemClock(), "us-east-1")
    service.create_bucket(BUCKET)
    yield service
    store.close()


def put(lake: LakeService, key: str, data: bytes | str, bucket: str = BUCKET) -> str:
    """Store `data` at bucket/key; its s3:// URL."""
    writer = lake.object_writer(bucket, key, ObjectMeta())
    writer.write(data.encode() if isinstance(data, str) else data)
    writer.commit()
    return f"s3://{bucket}/{key}"


def image_bytes(
    seed: int, size: tuple[int, int] = (12, 10), mode: str = "RGB", fmt: str = "PNG", **options: object
) -> bytes:
    """A real image of random pixels, width x height, encoded by Pillow."""
    channels = {"L": 1, "RGB": 3}[mode]
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels, mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 1 x 1 PNG made by Pillow whose header is rewritten to claim `width` x `height`: a decompression bomb."""
    data = bytearray(image_bytes(0, (1, 1), "L"))
    header = struct.pack(">II", width, height) + bytes(data[24:29])  # IHDR: size, then depth, colour, ...
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)
