"""Watching it live: render modes, `--gui` and the one-line error where no display is.

PyBullet's GUI kills its whole process when it cannot reach an X server, so everything
that might open it runs in a subprocess here. The GUI itself is tested under Xvfb when
the `Xvfb` binary is installed (Debian package `xvfb`); otherwise that test skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from sim.errors import SimError

NO_DISPLAY = "--gui needs a display: DISPLAY is not set; run under xvfb-run or on a desktop"


def _env(display: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    if display is not None:
        env["DISPLAY"] = display
    return env


def cli(*args: str, display: str | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(display),
    )


def _free_display() -> int:
    for n in range(90, 200):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return n
    raise RuntimeError("no free X display number")


def _stack(**kw):
    from sim.env import TabletopEnv

    return TabletopEnv("stack", image_size=(48, 40), **kw)


def _goal(**kw):
    from sim.goal_env import GoalEnv

    return GoalEnv("in(red cube, blue bowl)", "red cube, blue bowl", image_size=(48, 40), **kw)


@pytest.mark.parametrize("make", [_stack, _goal], ids=["Stack-v0", "Goal-v0"])
def test_rgb_array_passes_check_env_and_renders_the_camera(make):
    # Built without gym.make: with a spec, check_env also opens every other declared
    # mode, "human" included, which needs a display (checked under Xvfb below).
    env = make(render_mode="rgb_array")
    try:
        assert env.metadata["render_modes"] == ["human", "rgb_array"]
        assert env.metadata["render_fps"] > 0
        check_env(env)  # the render check included
        env.reset(seed=1)
        img = env.render()
        assert img.shape == (40, 48, 3) and img.dtype == np.uint8
        assert img.std() > 0  # a scene, not a blank frame
    finally:
        env.close()


def test_unknown_render_mode_is_refused():
    from sim.env import TabletopEnv

    with pytest.raises(SimError, match="render_mode 'ansi'"):
        TabletopEnv("stack", render_mode="ansi")


@pytest.mark.parametrize("kwargs", [{"render_mode": "human"}, {"gui": True}])
def test_human_mode_without_display_is_an_error_not_a_dead_process(monkeypatch, kwargs):
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(SimError, match="needs a display: DISPLAY is not set"):
        gym.make("skillgrove/Stack-v0", obs_mode="state", **kwargs)


@pytest.mark.parametrize(
    "args",
    [
        ("oracle", "stack", "--episodes", "1", "--gui"),
        ("tasks", "show", "stack", "--gui"),
        ("run", "stack the red cube on the blue cube", "--gui"),
    ],
    ids=["oracle", "tasks-show", "run"],
)
def test_gui_without_display_is_one_line(tmp_path, args):
    out = cli("--home", str(tmp_path / "home"), *args, display=None)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.strip().splitlines() == [f"error: {NO_DISPLAY}"]


def test_gui_on_an_unreachable_display_is_one_line(tmp_path):
    # Without the probe PyBullet would exit(1) the CLI with nothing said.
    out = cli("oracle", "stack", "--episodes", "1", "--gui", display=f":{_free_display()}")
    assert out.returncode == 1 and out.stdout == ""
    [line] = out.stderr.strip().splitlines()
    assert "--gui needs a display: PyBullet's GUI cannot open on DISPLAY=:" in line


@pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="Xvfb is not installed (Debian package xvfb)"
)
@pytest.mark.slow
def test_gui_opens_under_xvfb(tmp_path):
    n = _free_display()
    xvfb = subprocess.Popen(
        ["Xvfb", f":{n}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if os.path.exists(f"/tmp/.X11-unix/X{n}"):
                break
            time.sleep(0.1)
        display = f":{n}"
        probe = (
            "import gymnasium as gym, pybullet as p, sim\n"
            "from gymnasium.utils.env_checker import check_env\n"
            "for eid in ('skillgrove/Stack-v0', sim.GOAL_ENV_ID):\n"
            "    kw = {'goal': 'in(red cube, blue bowl)'} if eid == sim.GOAL_ENV_ID else {}\n"
            "    e = gym.make(eid, obs_mode='state', render_mode='rgb_array', **kw)\n"
            "    check_env(e.unwrapped)  # every declared mode, 'human' included\n"
            "    e.close()\n"
            "env = gym.make('skillgrove/Stack-v0', obs_mode='state', render_mode='human')\n"
            "env.reset(seed=0)\n"
            "info = env.unwrapped.world.client.getConnectionInfo()\n"
            "assert env.render() is None\n"
            "print('GUI-MODE', info['connectionMethod'] == p.GUI, flush=True)\n"
            "env.close()\n"
        )
        human = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            timeout=300,
            env=_env(display),
        )
        assert human.returncode == 0, human.stderr[-2000:]
        # PyBullet's GUI prints its own lines ("main semaphore destroyed") on disconnect
        assert "GUI-MODE True" in human.stdout.splitlines(), human.stdout[-500:]
        out = cli("oracle", "stack", "--episodes", "1", "--gui", "--json", display=display)
        assert out.returncode == 0, out.stderr[-2000:]
        assert '"success_rate": 1.0' in out.stdout
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=30)
