"""How good a policy is on goal templates, seen and unseen combinations reported apart.

The test goals of `goal_data` (odd seeds; alternately a training combination and a
held-out one: a relation never trained on, or a color x shape x relation never seen
together), each on its scene, two measures, always labelled:

- "proxy": no execution. The policy is asked the move's phrase on the view before it;
  a success when the grasp is within tolerance of the oracle's (`evaluate.POS_TOL`
  horizontally, `Z_TOL` in height) and the goal holds with the object put down where
  the policy says (the predicate's own tolerance: a relation such as "left of the bowl"
  has many right answers, so the distance to the planner's sampled spot says nothing).
- "sim": executed. The robot API plans the goal (`robot.plan`, every move with its
  phrase) and carries each move out with the policy as its pose provider, which is
  asked every step's phrase; the goal evaluated on the simulator's end state decides.
  With `oracle`, the same scenes run with oracle poses too (the ceiling of the plan).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import defaultdict

import numpy as np

from agent.policy.data import split_seeds
from agent.policy.evaluate import POS_TOL, Z_TOL
from agent.policy.geometry import observe


def run_moves(robot, goal: str) -> list[str]:
    """Plan `goal` once and carry out each move through the robot API (what a
    composite skill's round does); the phrases of the moves."""
    moves = robot.plan(goal)
    for m in moves:
        obj = robot.find(m["object"])
        if m["kind"] in ("place_on", "put_in"):
            getattr(robot, m["kind"])(obj, robot.find(m["target"]))
        elif m["kind"] == "rotate":
            robot.rotate(obj, m["degrees"])
        elif m["kind"] == "pick":
            robot.pick(obj)
        else:
            robot.place_at(obj, (m["x"], m["y"]), m["yaw"])
    return [m["phrase"] for m in moves]


def proxy_ok(world, policy, goal, move: dict) -> tuple[bool, float, bool]:
    """(proxy success, grasp position error in m, grasp within tolerance) of the policy
    on the scene as it is (a failure with a good grasp is the place's or the turn's)."""
    from agent.policy.goal_data import expert_poses
    from sim import poses
    from sim.geometry import yaw_from_quat
    from sim.goals import evaluate, read_world, start_poses
    from sim.goals.solve import hypothetical

    rgb, depth = observe(world, policy.spec)
    pred = policy.predict(rgb, depth, move["phrase"])
    pick, _ = expert_poses(world, move)
    err = math.dist(pred.pick[:2], pick[:2])
    grasp = err < POS_TOL and abs(pred.pick[2] - pick[2]) < Z_TOL
    held = next(o for o in world.objects if o.description == move["object"])
    yaw = yaw_from_quat(world.pose(held)[1]) + pred.turn
    x, y, z = pred.place[:3]
    state = read_world(world, start_poses(world))
    put = hypothetical(state, {held.description: (x, y, z - poses.grasp_height(held), yaw)})
    return bool(grasp and evaluate(goal, put).value), err, bool(grasp)


def evaluate_goals(policy, n: int, start: int = 0, sim: bool = True, oracle: bool = False) -> dict:
    """Proxy (and sim) success on `n` test goals, seen and unseen apart, and by relation.

    Returns:
        {"mode", "n", "seen": {"n", "proxy", "grasp", "sim", "oracle_sim", "grasp_cm"},
         "unseen": {...},
         "relations": {relation: {...}}, "held_out_relations", "seconds"}
    """
    from agent.policy.goal_data import HELD_OUT_RELATIONS, case_of, set_up
    from agent.policy.provider import PolicyPoseProvider
    from sim.goals import evaluate, read_world
    from sim.world import World
    from skills.errors import SkillError
    from skills.poses import OraclePoseProvider
    from skills.robot import Robot

    t0 = time.perf_counter()
    rows: list[dict] = []
    world = World(image_size=(policy.spec.render, policy.spec.render))
    try:
        for i, seed in enumerate(split_seeds("test", n, start)):
            case = case_of("test", start + i, seed)
            made = set_up(world, case, seed)
            if made is None:
                continue
            goal, move = made
            row = {"relation": case.relation, "unseen": case.unseen}
            row["proxy"], row["grasp_err"], row["grasp"] = proxy_ok(world, policy, goal, move)
            runs = [("sim", PolicyPoseProvider(policy))] if sim else []
            runs += [("oracle_sim", OraclePoseProvider())] if sim and oracle else []
            for key, provider in runs:
                set_up(world, case, seed)  # the same scene again
                robot = Robot(world, provider, seed=seed)
                with contextlib.suppress(SkillError):  # a failed grasp is a failed episode
                    run_moves(robot, case.goal)
                world.settle(max_steps=120)
                row[key] = bool(evaluate(goal, read_world(world, robot._start)).value)
            rows.append(row)
    finally:
        world.close()
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["relation"]].append(r)
    return {
        "mode": "proxy+sim" if sim else "proxy",
        "n": len(rows),
        "seen": _score([r for r in rows if not r["unseen"]]),
        "unseen": _score([r for r in rows if r["unseen"]]),
        "relations": {k: _score(v) for k, v in sorted(groups.items())},
        "held_out_relations": list(HELD_OUT_RELATIONS),
        "seconds": time.perf_counter() - t0,
    }


def _score(rows: list[dict]) -> dict:
    out: dict = {"n": len(rows)}
    for key in ("proxy", "grasp", "sim", "oracle_sim"):
        vals = [r[key] for r in rows if key in r]
        out[key] = float(np.mean(vals)) if vals else None
    errs = [r["grasp_err"] for r in rows]
    out["grasp_cm"] = float(np.mean(errs) * 100) if errs else None
    return out
