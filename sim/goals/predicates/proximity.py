"""How near objects stand: next_to, far_from, between.

Tolerances:
- next_to(a, b): the gap between their footprints along the line joining their centers
  is at most 5 cm; both placed; neither on or in the other.
- far_from(a, b, d): their centers are at least d meters apart (default 0.15); both
  placed; neither on or in the other.
- between(a, b, c): a's center lies within 3 cm of the segment from b to c, at least 3 cm
  from either end along it; all placed; a on or in neither.
"""

from __future__ import annotations

import math

from sim.goals.predicates import Constraint, apart, cm, dist, extent, placed, predicate
from sim.goals.state import Body, State

NEAR = 0.05
FAR = 0.15
LINE = 0.03
END = 0.03


@predicate("next_to", "obj obj", "a stands beside b, footprints at most 5 cm apart")
def next_to(state: State, a: Body, b: Body) -> list[Constraint]:
    d = dist(a, b)
    ux, uy = ((b.pose[0] - a.pose[0]) / d, (b.pose[1] - a.pose[1]) / d) if d > 1e-9 else (1.0, 0.0)
    gap = d - extent(a, ux, uy) - extent(b, ux, uy)
    return [
        *placed(state, a),
        *placed(state, b),
        *apart(a, b),
        Constraint(
            NEAR - gap, "m", f"{a.description} is {cm(gap)} from {b.description}'s edge (<= 5.0 cm)"
        ),
    ]


@predicate(
    "far_from",
    "obj obj num",
    "a's and b's centers are at least that many meters apart",
    defaults=(FAR,),
    unit="meters",
)
def far_from(state: State, a: Body, b: Body, d: float = FAR) -> list[Constraint]:
    gap = dist(a, b)
    return [
        *placed(state, a),
        *placed(state, b),
        *apart(a, b),
        Constraint(gap - d, "m", f"{a.description} is {cm(gap)} from {b.description} (>= {cm(d)})"),
    ]


@predicate("between", "obj obj obj", "a stands on the segment from b to c (within 3 cm)")
def between(state: State, a: Body, b: Body, c: Body) -> list[Constraint]:
    vx, vy = c.pose[0] - b.pose[0], c.pose[1] - b.pose[1]
    length = math.hypot(vx, vy) or 1e-9
    px, py = a.pose[0] - b.pose[0], a.pose[1] - b.pose[1]
    t = (px * vx + py * vy) / length
    off = abs(px * vy - py * vx) / length
    return [
        *placed(state, a),
        *placed(state, b),
        *placed(state, c),
        *apart(a, b),
        *apart(a, c),
        Constraint(
            LINE - off,
            "m",
            f"{a.description} is {cm(off)} off the line from {b.description} to {c.description} (<= 3.0 cm)",
        ),
        Constraint(
            min(t, length - t) - END,
            "m",
            f"{a.description} is {cm(t)} along a {cm(length)} line (>= 3.0 cm from each end)",
        ),
    ]
