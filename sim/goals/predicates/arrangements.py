"""Arrangements of several objects: in_row, pyramid.

Tolerances:
- in_row(a, b, c, ...): a row from left to right as the front camera sees it: every
  object stands on the table (upright, bottom below 1 cm), each next center at least 4 cm
  to the right (+y) of the previous one, every center's x within 2 cm of their mean.
- pyramid(l, r, t): l and r stand on the table side by side (centers' x within 1.5 cm,
  l left of r, centers 4-6 cm apart); t upright with its center within 2 cm of their
  midpoint (horizontally) and its bottom at cube height (4 cm, within 1.2 cm), not in the
  gripper. All three must be movable (a fixed object is refused).
"""

from __future__ import annotations

import math

from sim.goals.formula import GoalError
from sim.goals.predicates import Constraint, cm, not_held, predicate, standing, upright
from sim.goals.state import Body, State

ROW_GAP = 0.04
ROW_TOL = 0.02
CUBE = 0.04


@predicate(
    "in_row",
    "obj obj",
    "a row from left to right: a, b, c, ...",
    variadic=True,
    min_args=2,
    movers=99,
)
def in_row(state: State, *bodies: Body) -> list[Constraint]:
    out = [c for b in bodies for c in standing(b)]
    for p, q in zip(bodies, bodies[1:], strict=False):
        gap = q.pose[1] - p.pose[1]
        out.append(
            Constraint(
                gap - ROW_GAP,
                "m",
                f"{q.description} is {cm(gap)} right of {p.description} (>= 4.0 cm)",
            )
        )
    mean = sum(b.pose[0] for b in bodies) / len(bodies)
    for b in bodies:
        off = abs(b.pose[0] - mean)
        out.append(
            Constraint(
                ROW_TOL - off,
                "m",
                f"{b.description} is {cm(off)} out of the row's line (<= 2.0 cm)",
            )
        )
    return out


def _static_pyramid(state: State, *bodies: Body) -> None:
    for b in bodies:
        if not b.movable:
            raise GoalError(f"the {b.description} is fixed to the table: the robot cannot move it")


@predicate(
    "pyramid",
    "obj obj obj",
    "a and b side by side on the table (a left), c on top of both",
    movers=99,
    static=_static_pyramid,
)
def pyramid(state: State, left: Body, right: Body, top: Body) -> list[Constraint]:
    dx = abs(left.pose[0] - right.pose[0])
    d = math.hypot(left.pose[0] - right.pose[0], left.pose[1] - right.pose[1])
    mid = ((left.pose[0] + right.pose[0]) / 2, (left.pose[1] + right.pose[1]) / 2)
    off = math.hypot(top.pose[0] - mid[0], top.pose[1] - mid[1])
    dz = abs(top.z - CUBE)
    return [
        *standing(left),
        *standing(right),
        Constraint(0.015 - dx, "m", f"the base cubes' x differ by {cm(dx)} (< 1.5 cm)"),
        Constraint(
            right.pose[1] - left.pose[1],
            "m",
            f"{left.description} is not left of {right.description}",
        ),
        Constraint(
            min(d - 0.04, 0.06 - d), "m", f"the base cubes' centers are {cm(d)} apart (4-6 cm)"
        ),
        not_held(top),
        upright(top),
        Constraint(
            0.02 - off, "m", f"{top.description} is {cm(off)} from the bases' midpoint (< 2.0 cm)"
        ),
        Constraint(0.012 - dz, "m", f"{top.description}'s bottom is {cm(top.z)} up (4 cm +- 1.2)"),
    ]
