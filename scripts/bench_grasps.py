"""Tasks with kinds of object no family uses, before and after grasp learning and memory.

    .venv/bin/python scripts/bench_grasps.py [--episodes N]

Three ways to grasp, on the same seeded scenes (`sim.scenes.build_scene`), the oracle's
poses, the goal judged by the simulator:

- default: the pose provider's one grasp, held when both fingers touch (what the robot did
  before grasps were learned: the novel kinds treated as the catalogue's blocks);
- candidates: the default, then the grasps the object's geometry offers, each judged
  (`skills.grasps.Grasper`), with an empty memory in every episode;
- memory: the same, with the grasps remembered in a data home tried first: the home
  learned from 3 earlier episodes of the task (other seeds) and keeps learning from each
  episode measured, as a home does.

Per task and way: goal success, grasp attempts per pick, and simulated seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile

import numpy as np

TASKS = [
    ("yellow duck, blue bowl", "in(yellow duck, blue bowl)"),
    ("red mug, yellow plate", "on(red mug, yellow plate)"),
    ("red bracket, yellow plate", "on(red bracket, yellow plate)"),
    ("green bar, blue bowl", "in(green bar, blue bowl)"),
    ("yellow duck, blue bowl, red mug", "left_of(red mug, blue bowl)"),
]


def _episode(world, objects: str, goal: str, seed: int, known=None):
    from sim.goals import check, evaluate, read_world, start_poses
    from sim.scenes import build_scene
    from skills.errors import SkillError
    from skills.robot import Robot

    build_scene(world, objects, np.random.default_rng(seed), goal=goal)
    start = start_poses(world)
    robot = Robot(world, start=start, grasps=known)
    steps0 = world.steps
    try:
        for m in robot.plan(goal):
            obj = robot.find(m["object"])
            if m["kind"] in ("place_on", "put_in"):
                robot.place_on(obj, robot.find(m["target"]))
            elif m["kind"] == "place_at":
                robot.place_at(obj, (m["x"], m["y"]), m["yaw"])
    except SkillError:
        pass
    state = read_world(world, start)
    ok = bool(evaluate(check(goal, state), state).value)
    tries = len(robot._grasper.outcomes) or 1
    return ok, tries, (world.steps - steps0) / world.hz, robot._grasper.outcomes


def main() -> None:
    from sim import objects
    from sim.world import World
    from skills.grasps import GraspMemory

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--episodes", type=int, default=10)
    args = ap.parse_args()
    world = World()
    seeds = range(100, 100 + args.episodes)
    print("| task | way | success | grasp attempts / pick | sim s / episode |")
    print("|---|---|---|---|---|")
    for objs, goal in TASKS:
        kind = objs.split(",")[0].split()[1]
        rows = {}
        saved = objects.SHAPES[kind]
        objects.SHAPES[kind] = dataclasses.replace(saved, novel=False)  # the catalogue's rule
        try:
            rows["default"] = [_episode(world, objs, goal, s) for s in seeds]
        finally:
            objects.SHAPES[kind] = saved
        rows["candidates"] = [_episode(world, objs, goal, s) for s in seeds]
        memory = GraspMemory(tempfile.mkdtemp())
        for s in (90, 91, 92):  # earlier episodes
            memory.record(_episode(world, objs, goal, s, memory.known())[3])
        rows["memory"] = []
        for s in seeds:
            rows["memory"].append(_episode(world, objs, goal, s, memory.known()))
            memory.record(rows["memory"][-1][3])
        for way, eps in rows.items():
            ok = sum(e[0] for e in eps)
            tries = np.mean([e[1] for e in eps]) if way != "default" else 1.0
            secs = np.mean([e[2] for e in eps])
            print(f"| {goal} | {way} | {ok}/{len(eps)} | {tries:.2f} | {secs:.1f} |")
    world.close()


if __name__ == "__main__":
    main()
