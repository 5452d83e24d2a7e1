"""Small process helpers shared by the fork server and the per-run trusted process."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write all of `data`; with a deadline, `fd` may be non-blocking (TimeoutError after it)."""
    view = memoryview(data)
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("write past the deadline")
            if not select.select([], [fd], [], left)[1]:
                continue
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue


def read_all(fd: int) -> bytes:
    """Everything until end of file."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def reaped(pid: int, block: bool) -> bool:
    """Reap `pid` if it has exited (or wait for it); True once it is gone."""
    try:
        return os.waitpid(pid, 0 if block else os.WNOHANG)[0] != 0
    except ChildProcessError:
        return True


def wait(pid: int, deadline: float, kill: bool) -> int | None:
    """Exit status of `pid`; None if it is still alive at the deadline (and not killed)."""
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.002)


def signal_reason(sig: int) -> tuple[str, str]:
    """(status, reason) for a skill process killed by signal `sig`."""
    if sig == signal.SIGXCPU:
        return "timeout", "CPU time limit exceeded"
    if sig == signal.SIGSYS:
        return "error", "killed for a forbidden system call (seccomp)"
    if sig == signal.SIGXFSZ:
        return "error", "killed for writing a file (file size limit)"
    if sig == signal.SIGKILL:
        return "error", "killed (SIGKILL), probably out of memory"
    return "error", f"the skill process crashed ({signal.Signals(sig).name})"


def exit_reason(status: int) -> tuple[str, str]:
    """(status, reason) for a skill process that ended without reporting its result."""
    if os.WIFSIGNALED(status):
        return signal_reason(os.WTERMSIG(status))
    return "error", f"the skill process exited ({os.WEXITSTATUS(status)}) without a valid result"


def close_fds_except(keep: set[int]) -> None:
    """Close every file descriptor above 2 but those in `keep`."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: the classic range
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)
