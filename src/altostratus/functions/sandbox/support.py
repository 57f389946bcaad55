"""Whether this machine can make sandboxes, found out once when the server starts, with plain reasons if not."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess

from altostratus.functions.sandbox.bubblewrap import SandboxTools
from altostratus.functions.sandbox.cgroups import CgroupTree
from altostratus.functions.sandbox.seccomp import compile_filter

DEBIAN_PACKAGES = "bubblewrap slirp4netns libseccomp2"


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
    """Find the tools sandboxes are made with, try a sandbox, and see which cgroup controllers we may use."""
    cgroups, cgroup_notes = CgroupTree.detect()
    notes = [f"cgroup controller {note}; " + _fallback(note) for note in cgroup_notes]
    missing = _missing_tools()
    if missing:
        return SandboxSupport(None, cgroups, (missing,), tuple(notes))
    root = os.geteuid() == 0
    if compile_filter() is None:
        notes.append("libseccomp is not installed: sandboxes get no seccomp filter (their user namespace is closed)")
    slirp4netns = shutil.which("slirp4netns")
    if slirp4netns is None:
        notes.append("slirp4netns is not installed: functions cannot be given outbound network (VpcConfig)")
    tools = SandboxTools(str(shutil.which("bwrap")), shutil.which("setpriv") if root else None, slirp4netns)
    trial = _try(tools)
    return SandboxSupport(tools, cgroups, (trial,) if trial else (), tuple(notes))


def _missing_tools() -> str | None:
    """What sandboxes cannot be made without, when it is missing."""
    install = f"(Debian: apt-get install {DEBIAN_PACKAGES})"
    if shutil.which("bwrap") is None:
        return f"bubblewrap is not installed {install}"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    if os.geteuid() == 0 and compile_filter() is None:
        # A root server's sandboxes have no user namespace: without the filter they could make one of their own.
        return f"libseccomp is not installed {install}"
    return None


def _try(tools: SandboxTools) -> str | None:
    """Why a small sandbox made with the options the server uses fails here; None when it works."""
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-net"]
    if tools.setpriv is None:
        namespaces += ["--unshare-user", "--disable-userns"]
    else:
        namespaces += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID"]
    data = os.memfd_create("probe")
    os.write(data, b"probe\n")
    os.lseek(data, 0, os.SEEK_SET)
    passed = [data]
    options = ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
    options += ["--size", str(1 << 20), "--perms", "1777", "--tmpfs", "/tmp", "--perms", "0444"]
    options += ["--ro-bind-data", str(data), "/tmp/probe"]
    seccomp = compile_filter()
    if seccomp is not None:
        rules = os.memfd_create("seccomp")
        os.write(rules, seccomp)
        os.lseek(rules, 0, os.SEEK_SET)
        passed.append(rules)
        options += ["--seccomp", str(rules)]
    command = [tools.bwrap, *namespaces, "--die-with-parent", *options, "--", "/bin/true"]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL, pass_fds=passed
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not run: {error}"
    finally:
        for fd in passed:
            os.close(fd)
    if done.returncode != 0:
        why = done.stderr.strip() or f"exit status {done.returncode}"
        hint = "" if tools.setpriv else " (a server run as a user needs unprivileged user namespaces)"
        return f"bubblewrap cannot make namespaces here: {why}{hint}"
    return None


def _fallback(note: str) -> str:
    controller = note.split(":", 1)[0]
    return {
        "memory": "a function's memory is held to its MemorySize by polling its processes' resident memory",
        "pids": "the process count is limited per uid (RLIMIT_NPROC) where sandboxes have uids of their own",
        "cpu": "a function may use every core while it runs (its timeout still bounds its CPU time)",
    }.get(controller, "no fallback")
