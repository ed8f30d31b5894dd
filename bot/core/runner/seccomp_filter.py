"""The syscall filter of every run, built once at start with libseccomp and handed to the worker as BPF.

Default allow, and a deny list of the kernel's usual attack surface for an unprivileged process, each
denied call failing with EPERM (a program sees an ordinary `PermissionError`):

* namespaces: `unshare`, `setns`, and `clone` with any CLONE_NEW* flag (no user namespace, so no "root with
  all capabilities" inside one); `clone3` fails with ENOSYS instead, because its flags live in memory a
  filter cannot read, and libc then falls back to `clone` (threads and subprocesses keep working);
* the kernel keyring (`keyctl`, `add_key`, `request_key`): nothing is carried from one run to the next;
* mounts (`mount`, `umount2`, `pivot_root`, `chroot`, the new mount API), `io_uring_*`, `userfaultfd`,
  `bpf`, `perf_event_open`, `ptrace` and its relatives (`process_vm_*`, `pidfd_getfd`, `kcmp`), kernel
  modules, `kexec_*`, and calls that only a privileged process could use anyway (defence in depth).

libseccomp does the assembly (architecture check: other ABIs, e.g. 32-bit `int 0x80`, kill the process);
we only export its BPF.  The binding is `pyseccomp`, a ctypes wrapper API-compatible with libseccomp's own
Python bindings (which are not on PyPI, and Debian's build serves only Debian's interpreter).
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

DENIED = (
    "unshare", "setns",
    "keyctl", "add_key", "request_key",
    "mount", "umount", "umount2", "pivot_root", "chroot",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "userfaultfd", "bpf", "perf_event_open",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "quotactl_fd",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "fanotify_init",
    "iopl", "ioperm", "uselib", "settimeofday", "clock_settime", "clock_adjtime",
)
CLONE_NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)


class _Fd:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


class SeccompUnavailable(RuntimeError):
    """libseccomp (or its Python binding) is missing."""


def _binding() -> Any:
    """libseccomp's official bindings where installed, else pyseccomp (same API)."""
    for name in ("seccomp", "pyseccomp"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
        except (OSError, RuntimeError) as exc:  # pyseccomp raises when libseccomp.so is missing
            raise SeccompUnavailable(f"libseccomp is not installed ({exc})") from None
    raise SeccompUnavailable("no Python binding for libseccomp (pip install pyseccomp)")


def build_filter() -> bytes:
    """The filter as a BPF program (raises SeccompUnavailable)."""
    sc = _binding()
    filt = sc.SyscallFilter(sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            filt.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):  # not a syscall of this architecture
            log.debug("seccomp: %s is not a syscall here", name)
    for flag in CLONE_NAMESPACE_FLAGS:
        filt.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    try:
        filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    except (OSError, ValueError, RuntimeError):
        log.debug("seccomp: no clone3 on this architecture")
    fd = os.memfd_create("corobot-seccomp", os.MFD_CLOEXEC)
    try:
        filt.export_bpf(_Fd(fd))
        data = os.pread(fd, os.fstat(fd).st_size, 0)
    finally:
        os.close(fd)
    if not data or len(data) % 8:
        raise SeccompUnavailable("libseccomp exported no usable BPF program")
    return data
