"""End to end through the robot API: the same skill with oracle poses and with the policy.

For each family a canonical skill (what a library skill for it does) runs through
`skills.robot.Robot`, once with the oracle `PoseProvider` and once with
`PolicyPoseProvider`, on the same seeded scenes; the family's `is_success()` decides.
This is what `run --perception policy` relies on: the robot API asking the provider.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np


def canonical_skill(robot, family: str, params: dict) -> None:
    """The skill a library would use for `family`, written against the robot API."""
    find = robot.find
    if family == "pick":
        robot.pick(find(params["obj"]))
    elif family == "place":
        robot.place_on(find(params["obj"]), find(params["target"]))
    elif family == "stack":
        robot.place_on(find(params["top"]), find(params["base"]))
    elif family == "put-in-bowl":
        robot.put_in(find(params["obj"]), find(params["bowl"]))
    elif family == "rotate":
        robot.rotate(find(params["obj"]), float(params["angle"]))
    elif family == "align":
        x, y, _, yaw = robot.pose(find(params["target"]))
        robot.place_at(find(params["obj"]), (x, y), yaw)
    elif family == "push":
        robot.push(find(params["obj"]), find(params["zone"]))
    else:
        raise ValueError(family)


def robot_success(world, family: str, seed: int, provider) -> bool:
    """Run the canonical skill on one seeded scene with `provider`; True on task success."""
    from sim.runner import reset_task
    from skills.errors import SkillError
    from skills.robot import Robot

    task = reset_task(world, family, seed)
    robot = Robot(world, provider, seed=seed)
    with contextlib.suppress(SkillError):  # a failed grasp is a failed episode
        canonical_skill(robot, family, dict(task.params))
    world.settle(max_steps=120)
    return bool(task.is_success())


def compare_providers(policy, families: list[str], seeds: list[int], world=None) -> dict:
    """Success of the canonical skills with oracle poses vs policy poses, per family."""
    from agent.policy.provider import PolicyPoseProvider
    from sim.world import World
    from skills.poses import OraclePoseProvider

    own = world is None
    world = world or World()
    out = {}
    try:
        for fam in families:
            t0 = time.perf_counter()
            oracle = [robot_success(world, fam, s, OraclePoseProvider()) for s in seeds]
            learned = [robot_success(world, fam, s, PolicyPoseProvider(policy)) for s in seeds]
            out[fam] = {
                "oracle": float(np.mean(oracle)),
                "policy": float(np.mean(learned)),
                "episodes": len(seeds),
                "seconds": time.perf_counter() - t0,
            }
    finally:
        if own:
            world.close()
    return out
