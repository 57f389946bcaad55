"""LakeLocations: s3:// locations resolved to lake objects (one, or every one under a prefix) and written whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.core.clock import SystemClock
from altostratus.core.events import EventBus
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.predict import InvalidInput, ReadOptions
from altostratus.predict import lake_locations as module
from altostratus.predict.datasources import CsvReader
from altostratus.predict.lake_locations import LakeLocations
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[LakeService]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'metadata.db'}")
    store.migrate()
    service = LakeService(store, LocalBlobStore(tmp_path / "blobs"), EventBus(), SystemClock(), "us-east-1")
    service.create_bucket("data")
    for key in ("csv/b.csv", "csv/a.csv", "csv/", "csv/deeper/c.csv", "csvother.csv", "one.csv"):
        writer = service.object_writer("data", key, ObjectMeta())
        writer.write(b"" if key.endswith("/") else f"x\n{key}\n".encode())
        writer.commit()
    yield service
    store.close()


def names(lake: LakeService, location: str) -> list[str]:
    return [source.name for source in LakeLocations(lake).sources(location)]


def test_a_key_is_one_object_and_a_prefix_every_object_under_it_in_key_order(lake: LakeService) -> None:
    assert names(lake, "s3://data/one.csv") == ["s3://data/one.csv"]
    under = ["s3://data/csv/a.csv", "s3://data/csv/b.csv", "s3://data/csv/deeper/c.csv"]
    assert names(lake, "s3://data/csv/") == under
    assert names(lake, "s3://data/csv") == under  # no object "csv": the folder (not csvother.csv)
    assert len(names(lake, "s3://data")) == 5  # the folder marker csv/ is not data


def test_listing_pages_through_the_lake(lake: LakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "LIST_PAGE", 1)
    assert names(lake, "s3://data/csv/") == ["s3://data/csv/a.csv", "s3://data/csv/b.csv", "s3://data/csv/deeper/c.csv"]


def test_objects_read_as_csv(lake: LakeService) -> None:
    reader = CsvReader(LakeLocations(lake).sources("s3://data/csv/"), ReadOptions(), header=True)
    assert [row for block in reader.blocks() for row in block.rows] == [
        ["csv/a.csv"],
        ["csv/b.csv"],
        ["csv/deeper/c.csv"],
    ]
    assert reader.bytes_read == sum(len(f"x\ncsv/{n}\n") for n in ("a.csv", "b.csv", "deeper/c.csv"))


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("data/one.csv", "is not in the lake"),
        ("s3:///one.csv", "names no bucket"),
        ("s3://nobucket/x.csv", "bucket 'nobucket' does not exist"),
        ("s3://data/absent/", "holds no object"),
    ],
)
def test_bad_locations_are_named(lake: LakeService, location: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        LakeLocations(lake).sources(location)


def test_a_written_object_appears_whole_on_commit_and_not_at_all_on_error(lake: LakeService) -> None:
    locations = LakeLocations(lake)
    with locations.writer("s3://data/out/result.gz") as writer:
        writer.write(b"abc")
        writer.write(b"def")
        info = writer.commit()
    assert (info.key, info.size) == ("s3://data/out/result.gz", 6)
    stored = lake.head("data", "out/result.gz")
    assert b"".join(lake.read(stored)) == b"abcdef" and stored.meta.content_type == "application/gzip"
    with pytest.raises(RuntimeError), locations.writer("s3://data/out/broken.gz") as writer:
        writer.write(b"half")
        raise RuntimeError("the batch failed midway")
    assert names(lake, "s3://data/out/") == ["s3://data/out/result.gz"]
    with pytest.raises(InvalidInput, match="bucket 'nobucket' does not exist"):
        locations.writer("s3://nobucket/x.gz")
    with pytest.raises(InvalidInput, match="names no object"):
        locations.writer("s3://data/out/")
