"""Whether this machine can make sandboxes, found out once when the server starts, with plain reasons if not."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess

from altostratus.functions.sandbox.bubblewrap import SandboxTools
from altostratus.functions.sandbox.cgroups import CgroupTree
from altostratus.functions.sandbox.seccomp import compile_filter

DEBIAN_PACKAGES = "bubblewrap slirp4netns"


@dataclasses.dataclass(frozen=True)
class SandboxSupport:
    """The tools found, why sandboxes cannot be made (none: they can), and what is limited less strictly."""

    tools: SandboxTools | None
    cgroups: CgroupTree
    problems: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether functions can run sandboxed."""
        return self.tools is not None and not self.problems

    @property
    def as_root(self) -> bool:
        """Whether sandboxes run as uids of their own (the server is root)."""
        return self.tools is not None and self.tools.setpriv is not None


def probe() -> SandboxSupport:
    """Look for bubblewrap, setpriv and slirp4netns, try a sandbox, and see which cgroup controllers we may use."""
    cgroups, cgroup_notes = CgroupTree.detect()
    notes = [f"cgroup controller {note}; " + _fallback(note) for note in cgroup_notes]
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxSupport(
            None, cgroups, (f"bubblewrap is not installed (Debian: apt-get install {DEBIAN_PACKAGES})",), tuple(notes)
        )
    root = os.geteuid() == 0
    setpriv = shutil.which("setpriv") if root else None
    if root and setpriv is None:
        return SandboxSupport(None, cgroups, ("setpriv (util-linux) is not installed",), tuple(notes))
    if compile_filter() is None:
        notes.append(
            "libseccomp is not installed: sandboxes get no seccomp filter (root servers' sandboxes could "
            "then make user namespaces)"
        )
    slirp4netns = shutil.which("slirp4netns")
    if slirp4netns is None:
        notes.append("slirp4netns is not installed: functions cannot be given outbound network (VpcConfig)")
    tools = SandboxTools(bwrap, setpriv, slirp4netns)
    trial = _try(tools)
    return SandboxSupport(tools, cgroups, (trial,) if trial else (), tuple(notes))


def _try(tools: SandboxTools) -> str | None:
    """Why a minimal sandbox of the kind the server makes fails here; None when it works."""
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-net"]
    if tools.setpriv is None:
        namespaces += ["--unshare-user", "--disable-userns"]
    command = [tools.bwrap, *namespaces, "--ro-bind", "/", "/", "--proc", "/proc", "--", "/bin/true"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not run: {error}"
    if done.returncode != 0:
        why = done.stderr.strip() or f"exit status {done.returncode}"
        hint = (
            ""
            if tools.setpriv
            else " (as a user, this needs unprivileged user namespaces: kernel.unprivileged_userns_clone=1)"
        )
        return f"bubblewrap cannot make namespaces here: {why}{hint}"
    return None


def _fallback(note: str) -> str:
    controller = note.split(":", 1)[0]
    return {
        "memory": "a function's memory is held to its MemorySize by polling its processes' resident memory",
        "pids": "the process count is limited per uid (RLIMIT_NPROC) where sandboxes have uids of their own",
        "cpu": "a function may use every core while it runs (its timeout still bounds its CPU time)",
    }.get(controller, "no fallback")
