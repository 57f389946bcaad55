"""LocalBlobStore specifics: keys that could escape the root are refused; crash leftovers are removed when asked,
never by constructing a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from altostratus.core.errors import InvalidArgument
from altostratus.storage.blobs import put_chunks
from altostratus.storage.local_blobs import LocalBlobStore

BAD_KEYS = ["", "..", "../escape", "a/../../b", "a//b", "/abs", "trailing/", ".", "a/./b", "x.partial"]


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", fsync=False)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(store: LocalBlobStore, key: str) -> None:
    for use in (store.writer, store.read, store.size, store.delete, store.exists):
        with pytest.raises(InvalidArgument, match="blob key=") as caught:
            use(key)
        assert (caught.value.code, caught.value.status) == ("InvalidArgument", 400)
    assert not any(store.root.parent.glob("escape*"))


def test_partials_from_a_crash_are_removed_by_the_clean_up(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root, fsync=False)
    put_chunks(store, "kept/blob", [b"committed"])
    crashed = store.writer("kept/other")  # never committed nor aborted: the process "died"
    crashed.write(b"half of it")
    (root / "deep" / "er").mkdir(parents=True)
    (root / "deep" / "er" / ".orphan.partial").write_bytes(b"left by a crash")
    assert len(list(root.rglob("*.partial"))) == 2

    reopened = LocalBlobStore(root, fsync=False)
    assert reopened.remove_partials() == 2  # what the server does at start, holding the serving lock

    assert list(root.rglob("*.partial")) == []
    assert list(reopened.keys()) == ["kept/blob"]
    assert b"".join(reopened.read("kept/blob")) == b"committed"
    crashed.abort()


def test_constructing_a_store_leaves_writes_in_flight_alone(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    writer = LocalBlobStore(root, fsync=False).writer("in/flight")  # another process's upload, say
    writer.write(b"the first half")

    beside = LocalBlobStore(root, fsync=False)  # what a CLI command builds beside a running server

    assert len(list(root.rglob(".*.partial"))) == 1
    writer.write(b", the second half")
    writer.commit()
    assert b"".join(beside.read("in/flight")) == b"the first half, the second half"


def test_partials_are_not_keys(store: LocalBlobStore) -> None:
    with store.writer("pending") as writer:
        writer.write(b"not yet")
        assert list(store.keys()) == []
        assert not store.exists("pending")
