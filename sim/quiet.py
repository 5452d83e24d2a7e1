"""Keep PyBullet's C-level banner lines ("pybullet build time", "argv[0]=") out of the output.

`--json` promises exactly one JSON object on stdout, and a person should not see a build
date on every command, so the file descriptors themselves are redirected while PyBullet is
imported and while a client connects: fd 1 goes to /dev/null, fd 2 into a temporary file
whose lines, banners excepted, are written back to stderr afterwards (nothing else lost).
The PyBullet 3.2.x wheels print the banner on stderr, older builds on stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

BANNERS = (b"pybullet build time", b"argv[0]=")


@contextlib.contextmanager
def quiet_stdout():
    """Silence fd 1 and drop PyBullet's banner lines from fd 2 for the duration of the block."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        saved_out, saved_err = os.dup(1), os.dup(2)
    except (OSError, ValueError):  # no real stdout/stderr (embedded, closed): nothing to protect
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    with tempfile.TemporaryFile() as captured:
        try:
            os.dup2(devnull, 1)
            os.dup2(captured.fileno(), 2)
            yield
        finally:
            _flush_c_stdio()  # C stdio is block-buffered when redirected: flush it where it points
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            os.close(devnull)
            captured.seek(0)
            lines = captured.read().splitlines(keepends=True)
            kept = b"".join(ln for ln in lines if not ln.startswith(BANNERS))
            if kept:
                os.write(2, kept)


def _flush_c_stdio() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no libc symbols: nothing buffered we can reach
        pass
