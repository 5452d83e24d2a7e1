"""What rests on or in what: on, in, on_table, stacked, held, upright.

Tolerances (meters, degrees):
- on(a, block): a's center within 2 cm of the block's (horizontally), a's bottom at the
  block's top within 1.2 cm, a upright (tilt < 15 deg), not in the gripper.
- on(a, tray | plate | pad): a's center over the target (inside a tray's or plate's inner
  area less 1 cm: 6.5 cm from the center; inside a pad's 11 cm square), a's bottom on the
  target's surface within 1.5 cm, not in the gripper.
- in(a, bowl): a's center within the bowl's inner radius less 1 cm (5.2 cm) and its
  bottom below the rim, not in the gripper, resting on something (the bowl's floor or an
  object in it, upright or tipped over; tilt allowed: a tilted object, 15 deg or more,
  leans on something).
  in(a, tray) is on(a, tray). in(a, zone): a's center inside the painted zone less 1 cm,
  upright, bottom below 1 cm, not in the gripper. on(a, bowl) is in(a, bowl); on(a, zone)
  is in(a, zone). Nothing is in a block or an outline.
- on_table(a): upright, bottom below 1 cm, not in the gripper, and not over a tray,
  plate, pad or bowl (resting on the table itself).
- stacked(a, b, c, ...): a tower, bottom first: a on the table, each next one on(...) the
  one below.
- held(a): the gripper holds a, its bottom at least 5 cm above the table.
- upright(a): tilt below 15 deg.
"""

from __future__ import annotations

import math

from sim.goals.formula import GoalError
from sim.goals.predicates import (
    FIXED_SUPPORTS,
    TABLE_Z,
    UPRIGHT_TOL,
    Constraint,
    cm,
    inside,
    local,
    not_held,
    predicate,
    standing,
    supported_by,
    upright,
)
from sim.goals.state import Body, State

STACK_XY = 0.02
STACK_Z = 0.012
TARGET_Z = 0.015
INNER = {"plate": 0.065, "tray": 0.065}  # usable half-size of a plate's disc / tray's floor
BOWL_INNER = 0.062 - 0.01
ZONE_MARGIN = 0.01
LIFT = 0.05


def _mover(a: Body) -> None:
    if not a.movable:
        raise GoalError(f"the {a.description} is fixed to the table: the robot cannot move it")


def _static_on(state: State, a: Body, b: Body) -> None:
    _mover(a)
    if b.shape_name == "outline":
        raise GoalError(f"on({a.description}, {b.description}): use aligned(...) for an outline")


def _static_in(state: State, a: Body, b: Body) -> None:
    _mover(a)
    if b.movable or b.shape_name == "outline":
        raise GoalError(
            f"in({a.description}, {b.description}): a {b.shape_name} is no container (use on)"
        )


@predicate(
    "on",
    "obj obj",
    "a rests on b (a block, tray, plate or pad; a bowl or zone: in)",
    static=_static_on,
)
def on(state: State, a: Body, b: Body) -> list[Constraint]:
    kind = b.shape_name
    if kind in ("bowl", "zone"):
        return into(state, a, b)
    if b.movable:
        d = math.hypot(a.pose[0] - b.pose[0], a.pose[1] - b.pose[1])
        dz = abs(a.z - (b.z + b.shape.surface))
        return [
            not_held(a),
            Constraint(
                STACK_XY - d,
                "m",
                f"{a.description} is {cm(d)} off {b.description}'s center (< 2.0 cm)",
            ),
            Constraint(
                STACK_Z - dz,
                "m",
                f"{a.description}'s bottom is {cm(dz)} from {b.description}'s top (< 1.2 cm)",
            ),
            upright(a),
        ]
    slack = inside(a.xy, b) if kind == "pad" else _inner(a, b)
    dz = abs(a.z - (b.z + b.shape.surface))
    return [
        not_held(a),
        Constraint(
            slack,
            "m",
            f"{a.description}'s center is {cm(-slack)} outside {b.description}'s usable area"
            if slack < 0
            else f"{a.description} is {cm(slack)} inside {b.description}'s edge",
        ),
        Constraint(
            TARGET_Z - dz,
            "m",
            f"{a.description}'s bottom is {cm(dz)} from {b.description}'s surface (< 1.5 cm)",
        ),
    ]


def _inner(a: Body, b: Body) -> float:
    """Slack of a's center inside a plate's or tray's usable area."""
    lx, ly = local(a.xy, b)
    half = INNER[b.shape_name]
    if b.shape_name == "plate":
        return half - math.hypot(lx, ly)
    return min(half - abs(lx), half - abs(ly))


def _on_tipped(state: State, a: Body) -> bool:
    """`a` rests on a tipped-over block, whose top is not at its pose's z + surface: a's
    bottom at the block's highest point (within 1.5 cm), the block near enough below."""
    for c in state.bodies:
        if c is a or not c.movable or c.tilt < UPRIGHT_TOL:
            continue
        h, side = c.shape.height, c.shape.footprint[0]
        top = c.z + h * math.cos(c.tilt) + side * math.sin(c.tilt)
        reach = a.shape.radius + c.shape.radius + h * math.sin(c.tilt)
        if (
            math.hypot(a.pose[0] - c.pose[0], a.pose[1] - c.pose[1]) <= reach
            and abs(a.z - top) < TARGET_Z
        ):
            return True
    return False


@predicate("in", "obj obj", "a is inside b (a bowl, tray or zone)", static=_static_in)
def into(state: State, a: Body, b: Body) -> list[Constraint]:
    kind = b.shape_name
    if kind == "bowl":
        d = math.hypot(a.pose[0] - b.pose[0], a.pose[1] - b.pose[1])
        rim = b.z + b.shape.height - a.z
        # A tilted object leans on the bowl's wall or floor or on an object in it: its
        # pose's z is not its lowest point, so `supported_by` cannot judge it.
        rests = a.z < TABLE_Z or a.tilt >= UPRIGHT_TOL or supported_by(state, a) is not None
        rests = rests or _on_tipped(state, a)
        return [
            not_held(a),
            Constraint(
                1.0 if rests else -1.0, "m", f"{a.description} rests on nothing ({cm(a.z)} up)"
            ),
            Constraint(
                BOWL_INNER - d,
                "m",
                f"{a.description} is {cm(d)} from {b.description}'s center (< 5.2 cm)",
            ),
            Constraint(
                rim,
                "m",
                f"{a.description}'s bottom is {cm(abs(rim))} {'below' if rim >= 0 else 'above'} {b.description}'s rim",
            ),
        ]
    if kind == "zone":
        slack = inside(a.xy, b, ZONE_MARGIN)
        return [
            Constraint(
                slack,
                "m",
                f"{a.description}'s center is {cm(abs(slack))} {'inside' if slack >= 0 else 'outside'} {b.description} (1 cm margin)",
            ),
            *standing(a),
        ]
    return on(state, a, b)


@predicate("on_table", "obj", "a stands upright on the table itself, not on or in anything")
def on_table(state: State, a: Body) -> list[Constraint]:
    out = standing(a)
    for s in state.bodies:
        if s.shape_name in FIXED_SUPPORTS:
            slack = inside(a.xy, s)
            if slack >= 0:
                out.append(Constraint(-slack, "m", f"{a.description} is over {s.description}"))
    return out


def _static_stacked(state: State, *bodies: Body) -> None:
    for b in bodies:
        _mover(b)


@predicate(
    "stacked",
    "obj obj",
    "a tower, bottom first: a on the table, b on a, c on b...",
    variadic=True,
    static=_static_stacked,
    movers=99,
)
def stacked(state: State, *bodies: Body) -> list[Constraint]:
    out = on_table(state, bodies[0])
    for low, top in zip(bodies, bodies[1:], strict=False):
        out += on(state, top, low)
    return out


@predicate(
    "held", "obj", "the gripper holds a, lifted at least 5 cm", static=lambda s, a: _mover(a)
)
def held(state: State, a: Body) -> list[Constraint]:
    return [
        Constraint(1.0 if a.held else -1.0, "m", f"the gripper does not hold {a.description}"),
        Constraint(
            a.z - LIFT, "m", f"{a.description}'s bottom is {cm(a.z)} above the table (>= 5 cm)"
        ),
    ]


@predicate("upright", "obj", "a stands upright (tilt below 15 deg)")
def is_upright(state: State, a: Body) -> list[Constraint]:
    return [upright(a)]
