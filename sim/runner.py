"""Run scripted-oracle episodes: the reference every family is measured against."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from sim.env import execute
from sim.errors import SimError
from sim.families import task_class
from sim.world import World


@dataclass(frozen=True)
class Episode:
    """Outcome of one oracle episode."""

    family: str
    seed: int
    instruction: str
    success: bool
    actions: int
    steps: int
    seconds: float
    error: str | None = None


def check_seed(seed: int) -> int:
    """Seeds are non-negative integers below 2**32."""
    if not isinstance(seed, int) or seed < 0 or seed >= 2**32:
        raise SimError(f"seed must be an integer in [0, 2**32): got {seed!r}")
    return seed


def reset_task(world: World, family: str, seed: int):
    """Clear `world`, build `family`'s scene for `seed`, and return the task (begun: its
    start poses recorded and its goal checked on the settled scene)."""
    task = task_class(family)(world)
    world.clear()
    task.reset(np.random.default_rng(check_seed(seed)))
    world.settle()
    task.begin()
    return task


def run_oracle(world: World, family: str, seed: int, frames: list | None = None) -> Episode:
    """One oracle episode of `family` with `seed` in `world`.

    Args:
        frames: if a list is given, front-camera RGB frames are appended to it as the
            episode runs (about 10 per simulated second).
    """
    t0, s0 = time.perf_counter(), world.steps
    task = reset_task(world, family, seed)
    if frames is not None:
        world.recorder = lambda w: frames.append(w.render("front")[0])
        frames.append(world.render("front")[0])
    n, error = 0, None
    try:
        while n < task.max_actions and not task.is_success():
            action = task.oracle()
            if action is None:
                break
            try:
                execute(world, action)
            except SimError as exc:
                error = str(exc)
            world.settle(max_steps=120)
            n += 1
        success = task.is_success()
    finally:
        world.recorder = None
    if frames is not None:
        frames.extend([world.render("front")[0]] * 5)
    return Episode(
        family,
        seed,
        task.instruction,
        success,
        n,
        world.steps - s0,
        time.perf_counter() - t0,
        error,
    )


def write_gif(frames: list[np.ndarray], path: str, fps: int = 10) -> None:
    """Write RGB frames as an animated GIF."""
    from PIL import Image

    if not frames:
        raise SimError("no frames to write")
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
