"""How an object is turned or where it stands exactly: rotated_by, aligned, where_was.

Tolerances:
- rotated_by(a, deg): a's yaw is within 12 deg of its start yaw + deg (counter-clockwise
  seen from above), modulo a's symmetry (90 deg for a cube); a placed. Meaningless for a
  round object, and for a turn within 12 deg of a multiple of the symmetry (a cube turned
  by 90 deg looks as it started): both refused.
- aligned(a, b): a stands on the table (upright, bottom below 1 cm) with its center within
  1.5 cm of b's center and its yaw within 12 deg of b's, modulo a's symmetry.
- where_was(a, b): a stands on the table (upright, bottom below 1 cm) with its center
  within 2 cm of where b's center was when the episode started (b may be a itself).
- a must be movable (a fixed object is refused).
"""

from __future__ import annotations

import math

from sim.geometry import yaw_distance
from sim.goals.formula import GoalError
from sim.goals.predicates import Constraint, cm, placed, predicate, standing
from sim.goals.state import Body, State

YAW_TOL = 12.0
ALIGN_TOL = 0.015
WHERE_TOL = 0.02


def _yaw(a: Body, goal: float, what: str) -> Constraint:
    sym = a.shape.symmetry or 2 * math.pi
    off = math.degrees(yaw_distance(a.yaw, goal, sym))
    return Constraint(
        YAW_TOL - off, "deg", f"{a.description}'s yaw is {off:.0f} deg from {what} (<= 12)"
    )


def _static_mover(state: State, a: Body, *rest) -> None:
    if not a.movable:
        raise GoalError(f"the {a.description} is fixed to the table: the robot cannot move it")


def _static_rotated(state: State, a: Body, deg: float) -> None:
    if not a.movable:
        raise GoalError(f"the {a.description} is fixed to the table: the robot cannot turn it")
    if a.shape.symmetry == 0.0:
        raise GoalError(
            f"rotated_by({a.description}, {deg:g}): a {a.shape_name} looks the same at every yaw"
        )
    if math.degrees(yaw_distance(math.radians(deg), 0.0, a.shape.symmetry)) <= YAW_TOL:
        period = f"{math.degrees(a.shape.symmetry):g}"
        raise GoalError(
            f"rotated_by({a.description}, {deg:g}): a {a.shape_name} turned by a multiple of {period} deg looks as it started"
        )


@predicate(
    "rotated_by",
    "obj num",
    "a is turned by that many degrees (counter-clockwise from above) from its start",
    static=_static_rotated,
    unit="degrees",
)
def rotated_by(state: State, a: Body, deg: float) -> list[Constraint]:
    goal = a.start_pose[3] + math.radians(deg)
    return [*placed(state, a), _yaw(a, goal, f"its start yaw + {deg:g}")]


@predicate(
    "aligned",
    "obj obj",
    "a stands on b's center (1.5 cm), turned to b's yaw (12 deg)",
    static=_static_mover,
)
def aligned(state: State, a: Body, b: Body) -> list[Constraint]:
    d = math.hypot(a.pose[0] - b.pose[0], a.pose[1] - b.pose[1])
    out = [
        *standing(a),
        Constraint(
            ALIGN_TOL - d,
            "m",
            f"{a.description} is {cm(d)} from {b.description}'s center (<= 1.5 cm)",
        ),
    ]
    if a.shape.symmetry and b.shape.symmetry:
        out.append(_yaw(a, b.yaw, f"{b.description}'s"))
    return out


@predicate(
    "where_was", "obj obj", "a stands where b was at the start (within 2 cm)", static=_static_mover
)
def where_was(state: State, a: Body, b: Body) -> list[Constraint]:
    sx, sy = b.start_pose[0], b.start_pose[1]
    d = math.hypot(a.pose[0] - sx, a.pose[1] - sy)
    whose = "its own" if a is b else f"{b.description}'s"
    return [
        *standing(a),
        Constraint(
            WHERE_TOL - d, "m", f"{a.description} is {cm(d)} from {whose} start (<= 2.0 cm)"
        ),
    ]
