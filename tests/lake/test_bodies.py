"""Small objects keep their bytes in object_bodies beside their row (blob_key ""); larger ones are files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, select, text

from altostratus.core.clock import SystemClock
from altostratus.core.errors import ConfigurationError
from altostratus.core.events import EventBus
from altostratus.core.settings import Settings
from altostratus.lake.bodies import INLINE_LIMIT
from altostratus.lake.encryption import SSE_S3, CustomerKey, EncryptionKind, EncryptionRequest, Keyring
from altostratus.lake.objects import ObjectInfo, ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.lake.tables import object_bodies
from altostratus.lake.versions import Versioning
from altostratus.storage.blobs import BlobMissing
from altostratus.storage.metadata import MIGRATIONS

SMALL = b"0123456789abcdef" * 64  # 1 KiB
MASTER = bytes(range(32))


def sibling(lake: LakeService, *, keyring: Keyring | None = None, inline_limit: int = INLINE_LIMIT) -> LakeService:
    """Another LakeService over the same store and blobs (bucket "data" exists), with this keyring and limit."""
    clock = SystemClock()
    return LakeService(
        lake.store, lake.blobs, EventBus(), clock, "us-east-1", keyring=keyring, inline_limit=inline_limit
    )


def put(lake: LakeService, key: str, data: bytes, encryption: EncryptionRequest | None = None) -> ObjectInfo:
    writer = lake.object_writer("data", key, ObjectMeta(), encryption=encryption)
    with writer:
        writer.write(data)
        return writer.commit()


def read(
    lake: LakeService, key: str, version_id: str | None = None, *, start: int = 0, end: int | None = None
) -> bytes:
    return b"".join(lake.read(lake.head("data", key, version_id), start, end))


def files(lake: LakeService) -> list[str]:
    return list(lake.blobs.keys("objects/"))


def bodies(lake: LakeService) -> dict[tuple[str, str], bytes]:
    """Every stored body, by (key, version_id)."""
    with lake.store.read() as db:
        found = db.execute(select(object_bodies.c.key, object_bodies.c.version_id, object_bodies.c.data))
        return {(key, version_id): bytes(data) for key, version_id, data in found}


def test_a_small_object_keeps_its_bytes_beside_its_row(lake: LakeService) -> None:
    put(lake, "small", SMALL)
    assert files(lake) == []
    assert bodies(lake) == {("small", "null"): SMALL}
    assert lake.head("data", "small").blob_key == ""
    assert read(lake, "small") == SMALL
    assert read(lake, "small", start=10, end=20) == SMALL[10:20]
    assert read(lake, "small", start=1000) == SMALL[1000:]


def test_an_object_past_the_limit_is_a_file(lake: LakeService) -> None:
    data = os.urandom(INLINE_LIMIT + 1)
    put(lake, "big", data)
    assert len(files(lake)) == 1
    assert bodies(lake) == {}
    assert lake.head("data", "big").blob_key == files(lake)[0]
    assert read(lake, "big") == data


def test_an_object_of_exactly_the_limit_is_inline(lake: LakeService) -> None:
    data = os.urandom(INLINE_LIMIT)
    put(lake, "edge", data)
    assert files(lake) == []
    assert bodies(lake) == {("edge", "null"): data}


def test_an_empty_object_is_inline(lake: LakeService) -> None:
    put(lake, "empty", b"")
    assert files(lake) == []
    assert bodies(lake) == {("empty", "null"): b""}
    assert read(lake, "empty") == b""


def test_overwriting_a_small_object_with_a_big_one_drops_its_body(lake: LakeService) -> None:
    big = os.urandom(INLINE_LIMIT + 1)
    put(lake, "k", SMALL)
    put(lake, "k", big)
    assert bodies(lake) == {}
    assert len(files(lake)) == 1
    assert read(lake, "k") == big


def test_overwriting_a_big_object_with_a_small_one_drops_its_file(lake: LakeService) -> None:
    put(lake, "k", os.urandom(INLINE_LIMIT + 1))
    put(lake, "k", SMALL)
    assert files(lake) == []
    assert bodies(lake) == {("k", "null"): SMALL}
    assert read(lake, "k") == SMALL


def test_overwriting_a_small_object_with_a_small_one_replaces_its_body(lake: LakeService) -> None:
    put(lake, "k", SMALL)
    put(lake, "k", b"newer")
    assert bodies(lake) == {("k", "null"): b"newer"}
    assert read(lake, "k") == b"newer"


def test_each_small_version_keeps_its_own_body(lake: LakeService) -> None:
    lake.set_versioning("data", Versioning.ENABLED)
    first = put(lake, "k", b"first").version_id
    second = put(lake, "k", b"second").version_id
    assert bodies(lake) == {("k", first): b"first", ("k", second): b"second"}
    assert read(lake, "k", first) == b"first"
    assert read(lake, "k") == read(lake, "k", second) == b"second"
    assert files(lake) == []


def test_deleting_a_version_removes_its_body(lake: LakeService) -> None:
    lake.set_versioning("data", Versioning.ENABLED)
    first = put(lake, "k", b"first").version_id
    second = put(lake, "k", b"second").version_id
    lake.delete_object("data", "k", version_id=first)
    assert bodies(lake) == {("k", second): b"second"}
    assert [(info.version_id, latest) for info, latest in lake.list_versions("data").versions] == [(second, True)]
    assert read(lake, "k") == b"second"


def test_a_suspended_buckets_null_version_replaces_its_body(lake: LakeService) -> None:
    lake.set_versioning("data", Versioning.SUSPENDED)
    put(lake, "k", b"first")
    put(lake, "k", b"second")
    assert bodies(lake) == {("k", "null"): b"second"}
    assert read(lake, "k") == b"second"


def test_deleting_the_object_removes_its_body(lake: LakeService) -> None:
    put(lake, "k", SMALL)
    lake.delete_object("data", "k")
    assert bodies(lake) == {}


@pytest.mark.parametrize(
    ("encryption", "customer_key"),
    [(SSE_S3, None), (EncryptionRequest(EncryptionKind.SSE_C, CustomerKey(b"c" * 32)), CustomerKey(b"c" * 32))],
    ids=["sse-s3", "sse-c"],
)
def test_a_sealed_small_object_keeps_only_sealed_bytes(
    lake: LakeService, encryption: EncryptionRequest, customer_key: CustomerKey | None
) -> None:
    sealed = sibling(lake, keyring=Keyring(lambda: MASTER))
    plain = b"a known plaintext marker " * 20
    put(sealed, "secret", plain, encryption)
    assert files(sealed) == []
    [stored] = bodies(sealed).values()
    assert b"known plaintext" not in stored
    info = sealed.head("data", "secret")
    assert b"".join(sealed.read(info, customer_key=customer_key)) == plain
    assert b"".join(sealed.read(info, 30, 60, customer_key=customer_key)) == plain[30:60]


def test_an_inline_limit_of_zero_makes_every_object_a_file(lake: LakeService) -> None:
    files_only = sibling(lake, inline_limit=0)
    put(files_only, "small", SMALL)
    put(files_only, "empty", b"")
    assert len(files(files_only)) == 2
    assert bodies(files_only) == {}
    assert read(files_only, "small") == SMALL
    assert read(files_only, "empty") == b""


def test_a_copy_of_a_small_object_outlives_its_source(lake: LakeService) -> None:
    put(lake, "source", SMALL)
    lake.copy_object(lake.head("data", "source"), "data", "copy", None)
    lake.delete_object("data", "source")
    assert bodies(lake) == {("copy", "null"): SMALL}
    assert files(lake) == []
    assert read(lake, "copy") == SMALL


def downgrade_to(connection: Connection, revision: str) -> None:
    """Downgrade with the Config that MetadataStore.migrate builds, on this connection, in one transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    with connection.begin():
        command.downgrade(config, revision)


def revision(lake: LakeService) -> str:
    with lake.store.read() as db:
        return str(db.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


def test_the_downgrade_refuses_while_bodies_are_stored(lake: LakeService) -> None:
    put(lake, "k", SMALL)
    head = revision(lake)
    with lake.store.engine.connect() as connection, pytest.raises(RuntimeError, match="1 small objects"):
        downgrade_to(connection, "0014")
    assert revision(lake) == head
    assert read(lake, "k") == SMALL


def test_the_downgrade_runs_once_no_body_is_stored_and_upgrading_again_works(lake: LakeService) -> None:
    put(lake, "k", SMALL)
    lake.delete_object("data", "k")
    head = revision(lake)
    with lake.store.engine.connect() as connection:
        downgrade_to(connection, "0014")
    assert revision(lake) == "0014"
    assert "object_bodies" not in inspect(lake.store.engine).get_table_names()
    lake.store.migrate()
    assert revision(lake) == head
    put(lake, "k", SMALL)
    assert read(lake, "k") == SMALL


def test_a_reader_of_an_overwritten_small_object_never_gets_the_newer_bytes(lake: LakeService) -> None:
    put(lake, "k", b"old bytes")
    stale = lake.head("data", "k")
    put(lake, "k", b"NEWER, LONGER BYTES")  # an unversioned key keeps its version id, "null"
    with pytest.raises(BlobMissing):  # as a file's reader finds its blob gone
        b"".join(lake.read(stale))
    assert b"".join(lake.read(lake.head("data", "k"))) == b"NEWER, LONGER BYTES"


@pytest.mark.parametrize(("value", "accepted"), [("0", True), ("1048576", True), ("-1", False), ("1048577", False)])
def test_the_inline_limit_is_a_setting_of_0_to_1_mib(tmp_path: Path, value: str, accepted: bool) -> None:
    load = lambda: Settings.load(  # noqa: E731
        {"ALTO_LAKE_INLINE_BYTES": value}, config_file=tmp_path / "absent.toml", data_dir=tmp_path
    )
    if accepted:
        assert load().lake_inline_bytes == int(value)
    else:
        with pytest.raises(ConfigurationError, match=rf"lake_inline_bytes={value}; expected 0 to 1048576"):
            load()
