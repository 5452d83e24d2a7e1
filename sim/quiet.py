"""Keep PyBullet's C-level banner lines ("pybullet build time", "argv[0]=") off stdout.

`--json` promises exactly one JSON object on stdout, so the file descriptor itself is
redirected while PyBullet is imported and while a client connects.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet_stdout():
    """Redirect fd 1 to /dev/null for the duration of the block."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (embedded, closed): nothing to protect
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        _flush_c_stdio()  # C stdout is block-buffered when piped: flush it into /dev/null
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _flush_c_stdio() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no libc symbols: nothing buffered we can reach
        pass
