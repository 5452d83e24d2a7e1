"""How close `robot.place_at` and `robot.push` put an object to where they were asked.

Usage: python scripts/measure_accuracy.py [--places 20] [--pushes 10] [--seed 0] [--json]

Each trial builds a random scene from words (`sim.scenes.build_scene`: 2-4 movable
objects, a cube, small cube or cylinder each, plus distractors) in one DIRECT PyBullet
`World`, makes a `skills.robot.Robot` on it the way the sandbox worker does (oracle
poses), asks for one move to a free target inside the workspace, and measures the xy
distance between the target and where the object's footprint center ended. A move that
raises SkillError counts as a failure and is left out of the error figures. The figures
go into the LLM's API reference (`agent.llm.prompts.PLACE_ACCURACY`, `PUSH_ACCURACY`).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

SHAPES = ("cube", "small cube", "cylinder")
COLORS = ("red", "green", "blue", "yellow", "purple", "orange", "pink", "cyan")


def random_objects(rng: np.random.Generator) -> str:
    n = int(rng.integers(2, 5))
    colors = rng.choice(COLORS, size=n, replace=False)
    return ", ".join(f"{c} {SHAPES[int(rng.integers(len(SHAPES)))]}" for c in colors)


def free_target(world, obj, rng, near=None) -> tuple[float, float] | None:
    """A point in the workspace with room for `obj` (and, with `near`, 6-15 cm from it)."""
    from sim.geometry import WORKSPACE

    (x0, x1), (y0, y1) = WORKSPACE
    others = [(world.pose(o)[0][:2], o.shape.radius) for o in world.objects if o is not obj]
    for _ in range(500):
        if near is None:
            xy = np.array([rng.uniform(x0 + 0.03, x1 - 0.03), rng.uniform(y0 + 0.03, y1 - 0.03)])
        else:
            a, d = rng.uniform(0, 2 * math.pi), rng.uniform(0.06, 0.15)
            xy = np.asarray(near) + d * np.array([math.cos(a), math.sin(a)])
            if not (x0 + 0.03 <= xy[0] <= x1 - 0.03 and y0 + 0.03 <= xy[1] <= y1 - 0.03):
                continue
        if all(np.hypot(*(xy - p)) >= r + obj.shape.radius + 0.03 for p, r in others):
            return float(xy[0]), float(xy[1])
    return None


def trial(world, kind: str, seed: int) -> dict | None:
    """One move on a fresh scene: {"kind", "seed", "object", "error_m"} or a failure."""
    from sim.scenes import build_scene
    from skills.errors import SkillError
    from skills.robot import Obj, Robot

    rng = np.random.default_rng(seed)
    build_scene(world, random_objects(rng), rng, distractors=int(rng.integers(0, 3)))
    movable = [i for i, o in enumerate(world.objects) if o.shape.graspable]
    i = int(rng.choice(movable))
    sim_obj = world.objects[i]
    start = world.pose(sim_obj)[0][:2]
    target = free_target(world, sim_obj, rng, near=start if kind == "push" else None)
    if target is None:
        return None
    robot = Robot(world, seed=seed)
    handle = Obj(sim_obj.description, i)
    row = {"kind": kind, "seed": seed, "object": sim_obj.description, "target": target}
    try:
        if kind == "place":
            robot.place_at(handle, target)
        else:
            robot.push(handle, target)
    except SkillError as exc:
        return row | {"error": str(exc)}
    world.settle()
    x, y = world.pose(sim_obj)[0][:2]
    return row | {"error_m": math.hypot(x - target[0], y - target[1])}


def summary(rows: list[dict]) -> dict:
    errs = np.array([r["error_m"] for r in rows if "error_m" in r])
    out = {"trials": len(rows), "failed": sum("error" in r for r in rows)}
    if len(errs):
        out |= {
            "mean_m": float(errs.mean()),
            "p95_m": float(np.percentile(errs, 95)),
            "max_m": float(errs.max()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--places", type=int, default=20)
    ap.add_argument("--pushes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from sim.world import World

    world = World()
    t0 = time.perf_counter()
    rows: dict[str, list[dict]] = {"place": [], "push": []}
    try:
        seed = args.seed
        for kind, n in (("place", args.places), ("push", args.pushes)):
            while len(rows[kind]) < n:
                row = trial(world, kind, seed)
                seed += 1
                if row is not None:
                    rows[kind].append(row)
    finally:
        world.close()
    result = {k: summary(v) for k, v in rows.items()}
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(result | {"rows": rows}))
        return
    for kind in ("place", "push"):
        s = result[kind]
        figures = (
            f"mean {100 * s['mean_m']:.2f} cm, 95th percentile {100 * s['p95_m']:.2f} cm, "
            f"max {100 * s['max_m']:.2f} cm"
            if "mean_m" in s
            else "no successful move"
        )
        print(f"{kind}: {s['trials']} trials, {s['failed']} raised SkillError; xy error {figures}")
    print(f"({result['seconds']} s)")


if __name__ == "__main__":
    main()
