"""How good a policy is on a task family: pose errors, a tolerance proxy, sim success.

Two measures of success, always labelled with the one used:

- "sim": the predicted poses are executed in the simulator (one primitive, as the
  oracle's first action; `sim.env.execute`) and the family's own `is_success()` decides.
- "proxy": no execution; a prediction counts as a success when every key pose is within
  tolerance of the oracle's: horizontal position within the family's tolerance
  (`POS_TOL`, 2 cm; 1.5 cm for align), grasp height within 1.5 cm, and yaw within 12
  degrees modulo the object's symmetry for the orientation-critical families (rotate,
  align; grasp yaw only has to be within 30 degrees elsewhere, cylinders any). Push
  ignores yaw (the push primitive picks its own).

Errors reported: position error (cm, horizontal, the worse of the two key poses) and
geodesic yaw error (degrees, the worse of the two, modulo the held object's symmetry).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from agent.policy.data import Samples, acted_object
from agent.policy.geometry import observe, yaw_error
from agent.policy.policy import Policy, Prediction

ORIENTATION_FAMILIES = frozenset({"rotate", "align"})
POS_TOL = 0.02
FAMILY_POS_TOL = {"align": 0.015}
Z_TOL = 0.015
YAW_TOL = math.radians(12)
GRASP_YAW_TOL = math.radians(30)


@dataclass(frozen=True)
class PoseError:
    """Errors of one prediction against the expert's poses.

    Attributes:
        pos: worse horizontal position error of the key poses, meters.
        rot: worse yaw error, radians (0 where yaw does not matter).
        pick_pos, place_pos: horizontal errors of each key pose (place NaN if none).
        pick_rot, place_rot: yaw errors of each key pose.
        pick_dz: grasp height error, meters.
    """

    pos: float
    rot: float
    pick_pos: float
    place_pos: float
    pick_rot: float
    place_rot: float
    pick_dz: float


def pose_error(pred_pick, pred_place, pick, place, symmetry: float, primitive: str) -> PoseError:
    """Errors of predicted key poses against the expert's (`place` None: pick only)."""
    pp = math.dist(pred_pick[:2], pick[:2])
    dz = abs(float(pred_pick[2]) - float(pick[2]))
    yaw_matters = primitive != "push" and symmetry > 0
    sym = symmetry if yaw_matters else 0.0
    pr = yaw_error(pred_pick[3], pick[3], sym)
    if place is None or np.isnan(place[0]):
        return PoseError(pp, pr, pp, float("nan"), pr, float("nan"), dz)
    lp = math.dist(pred_place[:2], place[:2])
    lr = yaw_error(pred_place[3], place[3], sym)
    return PoseError(max(pp, lp), max(pr, lr), pp, lp, pr, lr, dz)


def faults(err: PoseError, family: str) -> tuple[bool, bool]:
    """(position wrong, orientation wrong) of a prediction under the proxy's tolerances:
    horizontal position of each key pose and grasp height; yaw of both key poses for the
    orientation-critical families, the grasp yaw (looser) for the others."""
    tol = FAMILY_POS_TOL.get(family, POS_TOL)
    pos_bad = (
        not err.pick_pos < tol
        or not err.pick_dz < Z_TOL
        or not (math.isnan(err.place_pos) or err.place_pos < tol)
    )
    if family in ORIENTATION_FAMILIES:
        return pos_bad, not err.rot < YAW_TOL
    return pos_bad, not err.pick_rot < GRASP_YAW_TOL


def within_tolerance(err: PoseError, family: str) -> bool:
    """The proxy success test (see the module docstring)."""
    return not any(faults(err, family))


@dataclass(frozen=True)
class EvalResult:
    """A family's score: success rate, mean errors, and how success was measured."""

    family: str
    n: int
    success: float
    pos_cm: float
    rot_deg: float
    mode: str
    seconds: float

    def to_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in ("family", "n", "success", "pos_cm", "rot_deg", "mode", "seconds")
        }


def _summary(
    family: str, errs: list[PoseError], oks: list[bool], mode: str, t0: float
) -> EvalResult:
    n = len(errs)
    return EvalResult(
        family,
        n,
        float(np.mean(oks)) if n else float("nan"),
        float(np.mean([e.pos for e in errs]) * 100) if n else float("nan"),
        float(np.degrees(np.mean([e.rot for e in errs]))) if n else float("nan"),
        mode,
        time.perf_counter() - t0,
    )


def evaluate_proxy(policy: Policy, samples: Samples, family: str | None = None) -> EvalResult:
    """Pose errors and proxy success of `policy` on held-out demonstrations."""
    t0 = time.perf_counter()
    preds = policy.predict_many(
        samples.rgb, samples.depth, list(samples.instruction), list(samples.primitive)
    )
    errs = [
        pose_error(
            p.pick,
            p.place,
            samples.pick[i],
            samples.place[i],
            float(samples.symmetry[i]),
            str(samples.primitive[i]),
        )
        for i, p in enumerate(preds)
    ]
    fam = family or str(samples.family[0])
    oks = [within_tolerance(e, str(samples.family[i])) for i, e in enumerate(errs)]
    return _summary(fam, errs, oks, "proxy", t0)


@dataclass(frozen=True)
class Attempt:
    """One executed attempt: the scene, the prediction, the expert's action and the outcome."""

    family: str
    seed: int
    instruction: str
    rgb: np.ndarray
    depth: np.ndarray
    prediction: Prediction
    expert_pick: tuple
    expert_place: tuple | None
    primitive: str
    symmetry: float
    error: PoseError
    success: bool


def attempt(policy: Policy, world, family: str, seed: int) -> Attempt:
    """Build the scene of `seed`, predict, execute the predicted action, check success."""
    from sim.env import execute
    from sim.errors import SimError
    from sim.runner import reset_task
    from sim.tasks.base import Action

    task = reset_task(world, family, seed)
    rgb, depth = observe(world, policy.spec)
    expert = task.oracle()
    held = acted_object(world, expert.pose0)
    pred = policy.predict(rgb, depth, task.instruction, expert.primitive)
    place = None if expert.primitive == "pick" else expert.pose1
    err = pose_error(
        pred.pick, pred.place, expert.pose0, place, held.shape.symmetry, expert.primitive
    )
    action = Action(expert.primitive, pred.pick, None if place is None else pred.place)
    try:
        execute(world, action)
        world.settle(max_steps=120)
        ok = bool(task.is_success())
    except SimError:
        ok = False
    return Attempt(
        family,
        seed,
        task.instruction,
        rgb,
        depth,
        pred,
        tuple(expert.pose0),
        None if place is None else tuple(place),
        expert.primitive,
        held.shape.symmetry,
        err,
        ok,
    )


def evaluate_sim(policy: Policy, family: str, seeds: list[int], world=None) -> EvalResult:
    """Success rate of executing the policy's poses in the simulator on `seeds`."""
    from sim.world import World

    t0 = time.perf_counter()
    own = world is None
    world = world or World(image_size=(policy.spec.render, policy.spec.render))
    try:
        runs = [attempt(policy, world, family, s) for s in seeds]
    finally:
        if own:
            world.close()
    return _summary(family, [r.error for r in runs], [r.success for r in runs], "sim", t0)
