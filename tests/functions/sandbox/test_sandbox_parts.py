"""The sandbox's parts that need no sandbox to test: cgroup discovery, uid leases, API channel bindings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from altostratus.functions.sandbox.cgroups import CgroupTree
from altostratus.functions.sandbox.channels import ApiChannels
from altostratus.functions.sandbox.uids import NoFreeUid, UidPool

HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / {root}/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / {root}/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / {root}/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / {root}/unified rw,relatime - cgroup2 cgroup2 rw
"""


def fake_proc(tmp_path: Path, mountinfo: str, cgroup: str) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "mountinfo").write_text(mountinfo.format(root=tmp_path / "cg"))
    (proc / "cgroup").write_text(cgroup)
    return proc


def test_v1_controllers_are_found_below_this_process_own_cgroup(tmp_path: Path) -> None:
    for controller in ("cpu", "memory/server", "pids"):
        (tmp_path / "cg" / controller).mkdir(parents=True)
    proc = fake_proc(tmp_path, HYBRID_MOUNTINFO, "8:pids:/\n4:memory:/server\n1:cpu:/\n0::/\n")
    tree, notes = CgroupTree.detect(proc)
    assert tree.controllers == {"memory", "pids", "cpu"} and notes == []


def test_a_missing_or_unwritable_controller_is_named_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "cg" / "unified").mkdir(parents=True)
    (tmp_path / "cg" / "unified" / "cgroup.controllers").write_text("memory pids\n")
    (tmp_path / "cg" / "unified" / "cgroup.subtree_control").write_text("")
    mountinfo = "41 31 0:38 / {root}/unified rw,relatime - cgroup2 cgroup2 rw\n"
    proc = fake_proc(tmp_path, mountinfo, "0::/\n")
    tree, notes = CgroupTree.detect(proc)
    # A plain folder takes the write to subtree_control, as the root of a delegated v2 tree would.
    assert tree.controllers == {"memory", "pids"}
    assert notes == [
        "cpu: not enabled for the children of " + str(tmp_path / "cg" / "unified") + " (cgroup v2 without delegation)"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="uids are leased only by a root server")
def test_uid_leases_are_exclusive_across_processes_and_released_with_them(tmp_path: Path) -> None:
    pool = UidPool(1879048192, 2, folder=tmp_path)
    first = pool.lease()
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            from pathlib import Path
            from altostratus.functions.sandbox.uids import UidPool
            print(UidPool(1879048192, 2, folder=Path({str(tmp_path)!r})).lease().uid)
        """),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(other.stdout) != first.uid, "another server skips a leased uid"
    second = pool.lease()  # the other process has ended, so its lease is free again
    assert {first.uid, second.uid} == {1879048192, 1879048193}
    with pytest.raises(NoFreeUid):
        pool.lease()
    first.release()
    assert pool.lease().uid == first.uid
    assert second.shared_gid == 1879048194


def test_a_channel_is_bound_to_one_key_while_leased(tmp_path: Path) -> None:
    channels = ApiChannels(2, 8340, folder=tmp_path / "api")
    try:
        assert oct((tmp_path / "api").stat().st_mode & 0o777) == "0o700"
        index = channels.lease("AKIAFUNCTION", None)
        path = str(channels.path(index))
        assert channels.principal(path) == "AKIAFUNCTION"
        assert channels.principal(str(channels.path(1 - index))) == "", "a free slot is bound to no key"
        assert channels.principal("/elsewhere/api.sock") is None, "not a channel at all"
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)  # it listens
        channels.release(index)
        assert channels.principal(path) == ""
    finally:
        channels.close()
    assert not (tmp_path / "api").exists()
