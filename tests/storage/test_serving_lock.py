"""The data directory's serving lock: one holder at a time across processes, given back when its holder ends."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from altostratus.storage.serving_lock import LOCK_FILE, DataDirInUse, serving_lock, take_serving_lock

# Another process tries the lock and says what happened: "taken", or the error's code.
TRY_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from altostratus.storage.serving_lock import DataDirInUse, take_serving_lock
try:
    take_serving_lock(Path(sys.argv[1]))
except DataDirInUse as exc:
    print(exc.code)
else:
    print("taken")
"""


def try_in_another_process(data_dir: Path) -> str:
    command = [sys.executable, "-c", TRY_IN_ANOTHER_PROCESS, str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_another_process_cannot_take_it_while_it_is_held(tmp_path: Path) -> None:
    with serving_lock(tmp_path):
        assert try_in_another_process(tmp_path) == "DataDirectoryInUse"
    assert try_in_another_process(tmp_path) == "taken"  # released, and the one that took it has ended
    assert try_in_another_process(tmp_path) == "taken"


def test_a_second_taker_is_told_the_data_dir_and_the_holders_pid(tmp_path: Path) -> None:
    with serving_lock(tmp_path), pytest.raises(DataDirInUse) as refused:
        take_serving_lock(tmp_path)
    assert refused.value.code == "DataDirectoryInUse"
    assert f"data_dir={str(tmp_path)!r} is in use" in refused.value.message
    assert f"(pid {os.getpid()})" in refused.value.message


def test_the_lock_file_is_its_owners_only_and_goes_with_the_lock(tmp_path: Path) -> None:
    lock = take_serving_lock(tmp_path)
    assert stat.S_IMODE((tmp_path / LOCK_FILE).stat().st_mode) == 0o600
    assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()}\n"
    lock.release()
    lock.release()  # idempotent
    assert not (tmp_path / LOCK_FILE).exists()


def test_the_file_a_killed_holder_left_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILE).write_text("999999999\n")  # its flock went with its process; the file stayed
    with serving_lock(tmp_path) as lock:
        assert lock.path.read_text() == f"{os.getpid()}\n"
