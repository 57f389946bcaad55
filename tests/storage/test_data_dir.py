"""The data directory's check at start, and the private folders and files the storage layer makes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.auth.keys import KeyStore, write_credentials_file
from altostratus.core.clock import SystemClock
from altostratus.storage.data_dir import UnsafeDataDir, secure_data_dir
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.private_files import create_private_file, make_private_dirs

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def shared_umask() -> Iterator[None]:
    """The usual umask 022, under which a plain mkdir or open gives everyone read access."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def old_layout(data: Path) -> None:
    """A data directory as versions before this one left it: folders 0755, files 0644."""
    for folder in ("blobs/objects/ab", "functions/code/0123", "functions/deps/4567"):
        (data / folder).mkdir(parents=True)
    for file in ("metadata.db", "metadata.db-wal", "blobs/objects/ab/cdef", "functions/code/0123/app.py"):
        (data / file).write_text("x")
    (data / "functions/deps/4567.log").write_text("pip said")
    (data / "credentials").write_text("[default]\n")
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_new_data_directory_and_its_missing_parents_are_made_0700(tmp_path: Path, shared_umask: None) -> None:
    data = tmp_path / "a" / "b" / "data"
    assert secure_data_dir(data) is None
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", data)] == [0o700] * 3
    assert secure_data_dir(data) is None  # and again: nothing to do


def test_a_directory_an_older_version_left_readable_is_tightened_but_the_sandbox_trees_are_not(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    old_layout(data)

    tightened = secure_data_dir(data)

    assert tightened is not None and tightened.mode_before == 0o755
    assert tightened.entries == 8  # metadata.db, -wal, credentials, blobs, blobs/objects, .../ab, .../cdef, functions
    assert tightened.note().startswith(f"note: {data} was mode 0755, readable by other users")
    assert mode(data) == 0o700
    for path in ("metadata.db", "metadata.db-wal", "credentials", "blobs/objects/ab/cdef"):
        assert mode(data / path) == 0o600, path
    for path in ("blobs", "blobs/objects/ab", "functions"):
        assert mode(data / path) == 0o700, path
    # The function sandbox sets these itself, for the user its workers run as.
    assert mode(data / "functions/code/0123") == 0o755 and mode(data / "functions/code/0123/app.py") == 0o644
    assert mode(data / "functions/deps/4567.log") == 0o644


@pytest.mark.parametrize("bits", [0o777, 0o775, 0o770, 0o757])
def test_a_directory_others_may_write_is_refused_and_left_alone(tmp_path: Path, bits: int) -> None:
    data = tmp_path / "data"
    old_layout(data)
    data.chmod(bits)
    with pytest.raises(UnsafeDataDir, match=rf"{data} is mode 0{bits:o}: its group or other users may write in it"):
        secure_data_dir(data)
    assert mode(data) == bits and mode(data / "credentials") == 0o644


def test_an_entry_others_may_write_refuses_the_tightening_before_anything_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old_layout(data)
    (data / "blobs/objects").chmod(0o777)
    with pytest.raises(UnsafeDataDir, match=r"holds entries another user owns or may write: .*blobs/objects \(uid"):
        secure_data_dir(data)
    assert mode(data) == 0o755 and mode(data / "metadata.db") == 0o644


def test_a_file_where_the_directory_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(UnsafeDataDir, match="is not a directory"):
        secure_data_dir(tmp_path / "data")


def test_a_parent_others_may_write_is_refused_unless_sticky(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(UnsafeDataDir, match=rf"lies in {shared} \(owner uid {os.geteuid()}, mode 0777\)"):
        secure_data_dir(shared / "data")
    assert not (shared / "data").exists()
    shared.chmod(0o1777)  # as /tmp: nobody may rename away what is not theirs
    assert secure_data_dir(shared / "data") is None


@as_root
def test_a_directory_another_user_owns_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    os.chown(data, NOBODY, NOBODY)
    with pytest.raises(UnsafeDataDir, match=f"{data} is owned by uid {NOBODY}, not by this user"):
        secure_data_dir(data)


@as_root
def test_a_place_another_user_controls_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, NOBODY, NOBODY)
    with pytest.raises(UnsafeDataDir, match=f"lies in {theirs} \\(owner uid {NOBODY}"):
        secure_data_dir(theirs / "data")
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(mine)
    os.lchown(link, NOBODY, NOBODY)
    with pytest.raises(UnsafeDataDir, match=f"{link} is a symbolic link owned by uid {NOBODY}"):
        secure_data_dir(link / "data")


@as_root
def test_an_entry_another_user_owns_refuses_the_tightening(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old_layout(data)
    os.chown(data / "credentials", NOBODY, NOBODY)
    with pytest.raises(UnsafeDataDir, match=f"credentials \\(uid {NOBODY}, mode 0644\\)"):
        secure_data_dir(data)


def test_private_folders_and_files_whatever_the_umask(tmp_path: Path, shared_umask: None) -> None:
    make_private_dirs(tmp_path / "x" / "y")
    assert mode(tmp_path / "x") == mode(tmp_path / "x" / "y") == 0o700
    create_private_file(tmp_path / "x" / "f")
    assert mode(tmp_path / "x" / "f") == 0o600
    (tmp_path / "x" / "f").chmod(0o640)
    create_private_file(tmp_path / "x" / "f")  # one that exists is left as it is
    assert mode(tmp_path / "x" / "f") == 0o640


def test_the_database_its_journals_blobs_and_credentials_are_private(tmp_path: Path, shared_umask: None) -> None:
    data = tmp_path / "data"
    store = MetadataStore(f"sqlite:///{data / 'metadata.db'}")
    try:
        store.migrate()
        key = KeyStore(store, SystemClock()).create()  # a write: the -wal and -shm files exist now
        blobs = LocalBlobStore(data / "blobs", fsync=False)
        writer = blobs.writer("objects/ab/cd/ef")
        writer.write(b"secret")
        assert mode(next((data / "blobs/objects/ab/cd").glob(".*.partial"))) == 0o600
        writer.commit()
        (data / "credentials").write_text("")  # there already, readable by all
        write_credentials_file(data / "credentials", key)
        found = {path.relative_to(data).as_posix(): mode(path) for path in [data, *data.rglob("*")]}
    finally:
        store.close()
    assert found == {
        ".": 0o700,
        "metadata.db": 0o600,
        "metadata.db-wal": 0o600,
        "metadata.db-shm": 0o600,
        "blobs": 0o700,
        "blobs/objects": 0o700,
        "blobs/objects/ab": 0o700,
        "blobs/objects/ab/cd": 0o700,
        "blobs/objects/ab/cd/ef": 0o600,
        "credentials": 0o600,
    }


@as_root
@pytest.mark.parametrize("planted", ["folder", "symlink"])
def test_a_directory_another_user_plants_while_it_is_made_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: str
) -> None:
    target = tmp_path / "data"
    elsewhere = tmp_path / "theirs"
    elsewhere.mkdir()

    def plant_first(path: Path) -> None:  # the other user wins the race between the stat and the mkdir
        if planted == "folder":
            path.mkdir(mode=0o700)
            os.chown(path, 65534, 65534)
        else:
            path.symlink_to(elsewhere)
        make_private_dirs(path)

    monkeypatch.setattr("altostratus.storage.data_dir.make_private_dirs", plant_first)
    with pytest.raises(UnsafeDataDir):
        secure_data_dir(target)
