"""A seccomp filter for sandboxes, compiled with libseccomp (as Flatpak builds the one it gives bubblewrap).

It refuses the system calls that open kernel surface no function needs and that namespaces and a uid of its
own do not already close: new user namespaces (a root server's sandboxes could otherwise make one, and be
root inside it), the kernel keyring, eBPF, userfaultfd, perf events, terminal injection, and what only an
administrator calls (modules, kexec, mounts, swap, clocks, reboot). clone3 answers ENOSYS, as in Flatpak and
Docker, so that libc falls back to clone, whose flags the filter can read. A call made through another
architecture's ABI (i386's int 0x80) kills the process: the filter is written for the native one only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os

_ALLOW = 0x7FFF0000
_MASKED_EQ = 7
_CLONE_NEWUSER = 0x10000000
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
REFUSED = (
    "add_key",
    "keyctl",
    "request_key",
    "bpf",
    "userfaultfd",
    "perf_event_open",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "mount",
    "umount2",
    "pivot_root",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "swapon",
    "swapoff",
    "reboot",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "acct",
    "syslog",
    "uselib",
    "quotactl",
    "setns",
)


class _ArgCompare(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


@functools.cache
def compile_filter() -> bytes | None:
    """The filter as a BPF program for bubblewrap's --seccomp; None where libseccomp is not installed."""
    lib = _library()
    if lib is None:
        return None
    context = lib.seccomp_init(_ALLOW)
    if not context:
        return None
    try:
        _add_rules(lib, context)
        return _export(lib, context)
    finally:
        lib.seccomp_release(context)


def _library() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    compares = ctypes.POINTER(_ArgCompare)
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, compares]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def _add_rules(lib: ctypes.CDLL, context: int) -> None:
    def refuse(syscall: str, code: int = errno.EPERM, arg: int | None = None, mask: int = 0, value: int = 0) -> None:
        number = lib.seccomp_syscall_resolve_name(syscall.encode())
        if number < 0:
            return  # not a system call of this architecture
        compares = (_ArgCompare * 1)(_ArgCompare(arg or 0, _MASKED_EQ, mask, value))
        if lib.seccomp_rule_add_array(context, _errno(code), number, 0 if arg is None else 1, compares) != 0:
            raise OSError(f"libseccomp refused the rule for {syscall}")

    for syscall in REFUSED:
        refuse(syscall)
    refuse("unshare", arg=0, mask=_CLONE_NEWUSER, value=_CLONE_NEWUSER)
    refuse("clone", arg=0, mask=_CLONE_NEWUSER, value=_CLONE_NEWUSER)
    refuse("clone3", code=errno.ENOSYS)
    refuse("ioctl", arg=1, mask=0xFFFFFFFF, value=_TIOCSTI)
    refuse("ioctl", arg=1, mask=0xFFFFFFFF, value=_TIOCLINUX)


def _export(lib: ctypes.CDLL, context: int) -> bytes:
    read_end, write_end = os.pipe()
    try:
        if lib.seccomp_export_bpf(context, write_end) != 0:
            raise OSError("libseccomp could not export the filter")
        os.close(write_end)
        write_end = -1
        return _read_all(read_end)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)
