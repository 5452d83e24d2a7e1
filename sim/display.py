"""Is there a display PyBullet's GUI can open on? Asked before any GUI connection.

PyBullet's GUI connection calls `exit(1)` inside the C library when it cannot reach an X
server, taking the whole process with it (no exception to catch). So the question is
asked twice, cheaply first: `DISPLAY` must be set, and a throwaway process must open and
close a GUI connection on it. Only then does the caller connect its own client in GUI mode.
"""

from __future__ import annotations

import os
import subprocess
import sys

from sim.errors import SimError

PROBE_TIMEOUT_S = 60.0
_PROBE = "import pybullet as p; c = p.connect(p.GUI); p.disconnect(c)"


def require_display(what: str = "--gui", environ: dict[str, str] | None = None) -> str:
    """Return `DISPLAY` once PyBullet's GUI has been seen to open there.

    Args:
        what: what needs the display, for the message ("--gui", 'render_mode="human"').
        environ: the environment to read `DISPLAY` from (default: this process's).

    Raises:
        SimError: one line, when `DISPLAY` is not set or the GUI cannot open on it.
    """
    env = dict(os.environ if environ is None else environ)
    display = env.get("DISPLAY", "")
    if not display:
        raise SimError(
            f"{what} needs a display: DISPLAY is not set; run under xvfb-run or on a desktop"
        )
    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-c", _PROBE],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SimError(
            f"{what} needs a display: PyBullet's GUI did not open on DISPLAY={display}"
            f" within {PROBE_TIMEOUT_S:.0f} s"
        ) from None
    if probe.returncode != 0:
        said = [ln.strip() for ln in probe.stderr.decode(errors="replace").splitlines()]
        why = next((ln for ln in reversed(said) if ln and "build time" not in ln), "")
        raise SimError(
            f"{what} needs a display: PyBullet's GUI cannot open on DISPLAY={display}"
            + (f" ({why})" if why else "")
            + "; run under xvfb-run or on a desktop"
        )
    return display
