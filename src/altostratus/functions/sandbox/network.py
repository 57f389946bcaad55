"""Outbound network for a sandbox that may have it: slirp4netns, a user-mode network stack (rootless Podman's).

The sandbox keeps its own network namespace (so its loopback is still its own, and the API channel works as for
any function); slirp4netns gives it a tap device with a NAT route out through the host's sockets, and
`--disable-host-loopback` keeps the host's own 127.0.0.1 (the server, databases, anything bound to loopback)
out of its reach.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess

from altostratus.functions.runtime.spawner import SPAWNER

READY_SECONDS = 5.0


class NetworkFailed(RuntimeError):
    """slirp4netns could not give the sandbox its network."""


class Uplink:
    """One sandbox's slirp4netns process; it ends when its exit descriptor is closed."""

    def __init__(self, program: str, pid: int, *, in_user_namespace: bool) -> None:
        ready_r, ready_w = os.pipe()
        exit_r, self._exit_w = os.pipe()
        # A user server's sandbox has a user namespace of its own, which owns its network namespace: slirp4netns
        # joins it first (and then needs /dev/net/tun open to every user, as Debian has it, for rootless Podman).
        joined = [f"--userns-path=/proc/{pid}/ns/user"] if in_user_namespace else []
        command = [
            program,
            *joined,
            "--configure",
            "--mtu=65520",
            "--disable-host-loopback",
            "--enable-sandbox",  # its own mount namespace, with only /etc and /run of the host, and no capabilities
            "--enable-seccomp",
            "--ready-fd",
            str(ready_w),
            "--exit-fd",
            str(exit_r),
            str(pid),
            "tap0",
        ]
        try:
            self._process = SPAWNER.call(
                lambda: subprocess.Popen(
                    command,
                    pass_fds=(ready_w, exit_r),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env={"PATH": "/usr/bin:/bin"},  # nothing of the server's environment (its secrets among it)
                )
            )
        except OSError as error:
            os.close(self._exit_w)
            os.close(ready_r)
            raise NetworkFailed(f"could not start {program}: {error}") from error
        finally:
            os.close(ready_w)
            os.close(exit_r)
        try:
            ready, _, _ = select.select([ready_r], [], [], READY_SECONDS)
            if not ready or os.read(ready_r, 1) != b"1":
                raise NetworkFailed(f"slirp4netns did not configure the sandbox's network: {self.close()}")
        finally:
            os.close(ready_r)

    def close(self) -> str:
        """End the slirp4netns process; what it said on stderr (its last 500 characters)."""
        with contextlib.suppress(OSError):
            os.close(self._exit_w)
        try:
            self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        said = ""
        if self._process.stderr is not None:
            said = self._process.stderr.read().decode(errors="replace").strip()[-500:]
            self._process.stderr.close()
        return said
