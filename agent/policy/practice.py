"""Practice: a failed step tried again in the simulator until its atoms hold, as a training row.

A run whose goal did not hold still shows, step by step, where the robot put each object
(`run_steps`). For a step whose own atoms (the literals the planned move serves) are false
where the object came to rest, `practise` rebuilds the scene before the step and puts the
object down at other spots near the one the robot chose, nearest first, on whatever
surface is there, letting physics settle it each time, until the simulator's evaluation of
the step's atoms says they hold with `MARGIN` to spare and no other object was moved (a
ring of candidates with none holding widens the search; then turns of the object are tried
where it was put). The spot found becomes a row like a successful run's step: the view
before the step, the grasp of the object where it stood, the placement where it came to
rest (`self_data.confirmed_poses`). No expert label and no oracle pose is used: the
candidates come from the robot's own attempt, the judge is the simulator's verdict, as
grasps of unknown objects are found by trying (`sim.grasping`).

A step of a failed run whose atoms did hold where the object came to rest gives its row
as it was carried out (the step was right; a later one failed). A step that no candidate
repairs gives no row, with why (it stays in the correction queue for a person).

Objects are put down directly (a reset of their pose), not carried by the arm: what the
row records is where the object must come to rest, which the arm's placement reaches to
within its own precision, the same convention as every other row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from sim.geometry import WORKSPACE

RINGS = (0.02, 0.04, 0.06, 0.09, 0.12, 0.16, 0.2)  # meters from the spot the robot chose
PER_RING = 12  # candidates on each ring
TURNS = tuple(k * 15 for k in (1, -1, 2, -2, 3, -3, 4, -4, 6, -6, 8, -8, 12))  # degrees
MARGIN = 0.01  # meters an atom must hold by (an atom in other units: it holds)
DISTURB = 0.01  # meters another object may be moved by putting the object down
DROP = 0.003  # meters above the surface an object is let go of


@dataclass(frozen=True)
class Tried:
    """What practising one step found: the rest pose [x, y, z, yaw_deg] where its atoms held
    (None: no candidate did), how many candidates were tried, and why not."""

    after: list | None
    tried: int
    why: str = ""


def _start(world, record) -> dict:
    """body id -> the run's start pose (radians), for atoms about where objects were."""
    first = {o["description"]: o["start"] for o in record.objects}
    out = {}
    for o in world.objects:
        p = first.get(o.description)
        if p is not None:
            out[o.body] = (float(p[0]), float(p[1]), float(p[2]), math.radians(float(p[3])))
    return out


def _holds(world, start, atoms) -> float | None:
    """The smallest margin of the step's atoms in the world's state (None: one is false)."""
    from sim.goals import GoalError, check, evaluate, read_world

    state = read_world(world, start)
    worst = math.inf
    for positive, text in atoms:
        try:
            verdict = evaluate(check(text, state), state)
        except GoalError:
            return None
        if verdict.value != positive:
            return None
        if positive:
            for r in verdict.atoms:
                worst = min(worst, r.margin if r.unit == "m" else MARGIN)
    return worst


def _put(world, obj, xy, yaw_rad: float) -> None:
    """Put `obj` down at `xy` on the highest surface there, turned to `yaw_rad`; settle."""
    from sim.geometry import quat_from_yaw
    from sim.poses import supports, surface_z

    under = [o for o in world.objects if o.body in supports(world, xy) and o.body != obj.body]
    z = max([surface_z(world, o) for o in under], default=0.0) + DROP
    c = world.client
    pos = (float(xy[0]), float(xy[1]), z)
    c.resetBasePositionAndOrientation(obj.body, pos, quat_from_yaw(yaw_rad))
    c.resetBaseVelocity(obj.body, (0, 0, 0), (0, 0, 0))
    world.settle()


def _reachable(xy) -> bool:
    (x0, x1), (y0, y1) = WORKSPACE
    return x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1


def _candidates(x: float, y: float, yaw_deg: float):
    """(xy, yaw degrees) to try, ring by ring from the spot the robot chose, then turns."""
    for r in RINGS:
        ring = []
        for k in range(PER_RING):
            a = 2 * math.pi * k / PER_RING
            ring.append(((x + r * math.cos(a), y + r * math.sin(a)), yaw_deg))
        yield ring
    yield [((x, y), yaw_deg + t) for t in TURNS]


def practise(world, record, step) -> Tried:
    """Try the step's object at spots near where the robot put it (see the module
    docstring); the world is left in an unspecified state."""
    from agent.policy.run_steps import rebuild
    from sim.goals import read_world

    if step.before is None or step.after is None:
        return Tried(None, 0, "not seen carried out")
    if not step.atoms:
        return Tried(None, 0, "a parking move")
    if step.move["kind"] == "pick":
        return Tried(None, 0, "a pick (only placements are practised)")
    if step.obj not in step.before:
        return Tried(None, 0, f"the {step.obj} is not in the scene")
    x, y, _, yaw = (float(v) for v in step.after)
    tried = 0
    for ring in _candidates(x, y, yaw):
        best = None
        for xy, yaw_deg in ring:
            if not _reachable(xy):
                continue
            why = rebuild(world, step.before)
            if why:
                return Tried(None, tried, why)
            obj = next(o for o in world.objects if o.description == step.obj)
            others = {o.description: world.pose(o)[0] for o in world.objects if o is not obj}
            _put(world, obj, xy, math.radians(yaw_deg))
            tried += 1
            if any(
                float(np.linalg.norm(world.pose(o)[0] - others[o.description])) > DISTURB
                for o in world.objects
                if o is not obj
            ):
                continue
            margin = _holds(world, _start(world, record), step.atoms)
            if margin is None or margin < MARGIN:
                continue
            if best is None or margin > best[0]:
                body = next(b for b in read_world(world).bodies if b.description == step.obj)
                x1, y1, z1, yaw1 = body.pose
                best = (margin, [x1, y1, z1, math.degrees(yaw1)])
        if best is not None:
            return Tried(best[1], tried)
    return Tried(None, tried, f"no spot near where it was put holds ({tried} tried)")


def step_holds(world, record, step) -> bool:
    """Whether the step's atoms held where its object came to rest (scene rebuilt before
    the step, the object put at its recorded rest pose)."""
    from agent.policy.run_steps import rebuild

    if step.before is None or step.after is None or not step.atoms:
        return False
    if rebuild(world, step.before):
        return False
    return holds_at_rest(world, record, step)


def holds_at_rest(world, record, step) -> bool:
    """`step_holds` on a world already rebuilt as it was before the step."""
    obj = next((o for o in world.objects if o.description == step.obj), None)
    if obj is None:
        return False
    x, y, _, yaw = (float(v) for v in step.after)
    _put(world, obj, (x, y), math.radians(yaw))
    margin = _holds(world, _start(world, record), step.atoms)
    return margin is not None and margin >= 0.0


def practised(world, record, step):
    """The step as it should have been carried out (its `after` where the atoms hold),
    or (None, why)."""
    if step_holds(world, record, step):
        return step, ""
    found = practise(world, record, step)
    if found.after is None:
        return None, found.why
    return replace(step, after=found.after), ""
