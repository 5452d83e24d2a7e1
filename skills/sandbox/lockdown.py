"""The process-level layers of the sandbox: what a skill process locks itself into.

Built once by the worker's fork server (`Lockdown(python_dirs())`), switched on by each
skill process right before the skill's first line runs (`Lockdown.apply`): resource
limits (address space, CPU, file size, open files, processes, no core dumps), all
capabilities dropped, no new privileges, a Landlock domain (read-only access to the
Python installation and nothing else on the file system, no TCP, no signals or abstract
sockets outside itself) and a seccomp filter (no exec, fork, sockets, ptrace, file
writes, signals, namespaces, keyrings...), each where the kernel offers it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import math
import os
import resource
import signal
import sys

from skills.errors import SkillError
from skills.sandbox.procs import read_all


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Lockdown:
    """The isolation layers: built once by the server, applied by each child.

    The Landlock ruleset (a file descriptor) and the seccomp program (BPF bytes) are
    inherited through fork, so a child only has to switch them on. Each layer is used
    where the kernel offers it; `apply` returns the names of those in force and fails
    (so the skill never runs) if an offered layer cannot be applied.
    """

    def __init__(self, read_dirs: list[str]) -> None:
        self.ruleset: tuple[int, int] | None = None
        self.bpf: bytes | None = None
        with contextlib.suppress(Exception):  # no Landlock on this kernel
            self.ruleset = _landlock_ruleset(read_dirs)
        with contextlib.suppress(Exception):  # no seccomp, or no libseccomp
            self.bpf = _seccomp_bpf()

    def apply(self, timeout: float, memory_mb: int) -> list[str]:
        if _thread_count() > 1:  # seccomp and Landlock bind this thread only
            raise SkillError("more than one thread before the lockdown: the others would escape it")
        layers = [_rlimits(timeout, memory_mb)]
        with contextlib.suppress(OSError, AttributeError):  # no capset (not Linux): nothing to drop
            if _drop_capabilities():
                layers.append("capabilities:none")
        if self.ruleset is None and self.bpf is None:
            return layers
        _prctl(_PR_SET_NO_NEW_PRIVS, 1)  # both need it; from here on a failure is fatal
        if self.ruleset is not None:
            fd, abi = self.ruleset
            _syscall(_SYS_LL_RESTRICT, fd, 0)
            os.close(fd)
            layers.append(f"landlock:v{abi}")
        if self.bpf is not None:
            _load_bpf(self.bpf)
            layers.append("seccomp")
        return layers


def _thread_count() -> int:
    """Threads of this process (1 where /proc cannot tell)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _rlimits(timeout: float, memory_mb: int) -> str:
    """Soft = hard limits, never above the hard limits already in force."""
    cpu = int(math.ceil(timeout)) + 1
    limits = [
        (resource.RLIMIT_CORE, 0),  # no core dumps (they are files)
        (resource.RLIMIT_FSIZE, 0),  # no bytes written to any regular file
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_NPROC, 0),  # no new processes (ignored for root: seccomp covers it)
        (resource.RLIMIT_CPU, cpu),
    ]
    vm = _vm_size()
    if vm:
        limits.append((resource.RLIMIT_AS, vm + memory_mb * 2**20))
    for res, value in limits:
        hard = resource.getrlimit(res)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(res, (value, value))
    return "rlimits"


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG = 38, 1
_SYS_LL_CREATE, _SYS_LL_ADD, _SYS_LL_RESTRICT = 444, 445, 446  # same numbers on every arch


def _libc_call(name: str, *args) -> int:
    """Call a libc function; raise OSError on a negative result."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    fn.restype = ctypes.c_long
    res = fn(*args)
    if res < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return res


def _syscall(*args) -> int:
    return _libc_call("syscall", *args)


def _prctl(option: int, arg: int) -> None:
    _libc_call("prctl", option, arg, 0, 0, 0)


def _drop_capabilities() -> bool:
    """A root child keeps uid 0 (to read the Python it already uses) but no capability."""
    if os.geteuid() != 0:
        return False

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    header, data = Header(0x20080522, 0), (Data * 2)()
    _libc_call("capset", ctypes.byref(header), ctypes.byref(data))
    return True


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _landlock_ruleset(read_dirs: list[str]) -> tuple[int, int] | None:
    """(ruleset fd, ABI): read-only access to the Python installation; no other file
    access, no TCP bind/connect, no signals or abstract sockets outside the domain."""
    abi = _syscall(_SYS_LL_CREATE, None, 0, 1)
    if abi < 1:
        return None
    fs = (1 << 13) - 1  # ABI 1: execute, write, read, dirs, remove, make-*
    fs |= (1 << 13) if abi >= 2 else 0  # refer
    fs |= (1 << 14) if abi >= 3 else 0  # truncate
    fs |= (1 << 15) if abi >= 5 else 0  # ioctl on devices
    attr = _RulesetAttr(fs, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(_SYS_LL_CREATE, ctypes.byref(attr), size, 0)
    read = (1 << 2) | (1 << 3)  # read files, read directories
    for path in read_dirs:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            _syscall(_SYS_LL_ADD, ruleset, 1, ctypes.byref(_PathBeneath(read, fd)), 0)
        finally:
            os.close(fd)
    return ruleset, abi


def python_dirs() -> list[str]:
    """Directories the child may still read: the interpreter's libraries and this project."""
    import sysconfig

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # skills/
    root = os.path.dirname(here)
    libs = {
        v
        for k, v in sysconfig.get_paths().items()
        if k in ("stdlib", "platstdlib", "purelib", "platlib")
    }
    # sys.path minus the project root, which holds more than code: only its packages
    dirs = libs | {p for p in sys.path if p and os.path.isabs(p) and p != root}
    dirs |= {here, os.path.join(root, "sim")}
    return sorted(d for d in dirs if os.path.isdir(d) or d.endswith(".zip"))


_KILL_SYSCALLS = (
    "execve",
    "execveat",
    "fork",
    "vfork",
    "clone",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "socket",
    "socketpair",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "keyctl",
    "add_key",
    "request_key",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "name_to_handle_at",
    "open_by_handle_at",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capset",
    "setrlimit",
    "syslog",
    "acct",
    "quotactl",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "sethostname",
    "setdomainname",
    "fanotify_init",
    "kcmp",
    "modify_ldt",
    "personality",
    "vhangup",
    "move_pages",
    "migrate_pages",
    "mknod",
    "mknodat",
    "rt_sigqueueinfo",
    "tkill",
    "rt_tgsigqueueinfo",
    "memfd_create",
    "memfd_secret",
    "process_madvise",
    "lookup_dcookie",
    "nfsservctl",
    "uselib",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
)
_EPERM_SYSCALLS = (
    "creat",
    "openat2",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "truncate",
    "ftruncate",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "fallocate",
)
_WRITE_FLAGS = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C


def _seccomp_bpf() -> bytes:
    """The seccomp program: kill the process on exec, fork, sockets, ptrace, namespaces,
    kernel keyrings...; refuse (EPERM) file writes and signals."""
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    kill, eperm = sc.KILL_PROCESS, sc.ERRNO(errno.EPERM)

    def rule(action, name, *args):
        with contextlib.suppress(OSError, ValueError, RuntimeError):  # not on this arch
            f.add_rule(action, name, *args)

    for name in _KILL_SYSCALLS:
        rule(kill, name)
    rule(sc.ERRNO(errno.ENOSYS), "clone3")  # flags unreadable by seccomp: libc falls back to clone
    for name in _EPERM_SYSCALLS:
        rule(eperm, name)
    for flag in _WRITE_FLAGS:
        rule(eperm, "open", sc.Arg(1, sc.MASKED_EQ, flag, flag))
        rule(eperm, "openat", sc.Arg(2, sc.MASKED_EQ, flag, flag))
    for name in ("kill", "tgkill"):  # the child never needs to signal anyone
        rule(eperm, name)
    rule(eperm, "prlimit64", sc.Arg(2, sc.NE, 0))
    for request in (_TIOCSTI, _TIOCLINUX):
        rule(eperm, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    r, w = os.pipe()
    try:
        with os.fdopen(w, "wb") as sink:
            f.export_bpf(sink)
        return read_all(r)
    finally:
        os.close(r)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_bpf(bpf: bytes) -> None:
    """Install a seccomp filter program (8-byte instructions) on the calling thread."""
    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = _SockFprog(len(bpf) // 8, ctypes.cast(buf, ctypes.c_void_p))
    _PR_SET_SECCOMP, mode_filter = 22, 2
    _libc_call("prctl", _PR_SET_SECCOMP, mode_filter, ctypes.byref(prog), 0, 0)
