"""Parts of the table: left_side, right_side, middle, front, back.

Regions are parts of the reachable workspace (x 0.34..0.70 m, y -0.28..0.28 m), split
in thirds: left_side is y <= -0.093 (the left third as the front camera sees it),
right_side y >= 0.093; front is x >= 0.58 (toward the front camera), back x <= 0.46
(toward the robot); middle is the central cell (|y| <= 0.093 and 0.46 <= x <= 0.58).
The object must be placed (not in the gripper, upright, resting on something) and
inside the workspace. A fixed object is refused (the robot cannot move it there).
"""

from __future__ import annotations

from sim.geometry import WORKSPACE
from sim.goals.formula import GoalError
from sim.goals.predicates import Constraint, cm, placed, predicate
from sim.goals.state import Body, State

(X0, X1), (Y0, Y1) = WORKSPACE
THIRD_Y = (Y1 - Y0) / 3
THIRD_X = (X1 - X0) / 3
# name -> (description, function of (x, y) -> slack)
REGIONS = {
    "left_side": ("the left third of the table", lambda x, y: (Y0 + THIRD_Y) - y),
    "right_side": ("the right third of the table", lambda x, y: y - (Y1 - THIRD_Y)),
    "front": ("the front third of the table", lambda x, y: x - (X1 - THIRD_X)),
    "back": ("the back third of the table", lambda x, y: (X0 + THIRD_X) - x),
    "middle": (
        "the middle of the table",
        lambda x, y: min(THIRD_Y / 2 - abs(y), THIRD_X / 2 - abs(x - (X0 + X1) / 2)),
    ),
}


def workspace(b: Body) -> Constraint:
    x, y = b.xy
    slack = min(x - X0, X1 - x, y - Y0, Y1 - y)
    where = f"{cm(slack)} inside" if slack >= 0 else f"{cm(-slack)} outside"
    return Constraint(slack, "m", f"{b.description} is {where} the workspace's edge")


def _static(state: State, a: Body) -> None:
    if not a.movable:
        raise GoalError(f"the {a.description} is fixed to the table: the robot cannot move it")


def _register(name: str) -> None:
    words, fn = REGIONS[name]

    @predicate(name, "obj", f"a rests in {words}", static=_static)
    def check(state: State, a: Body) -> list[Constraint]:
        slack = fn(*a.xy)
        inside = "inside" if slack >= 0 else "outside"
        return [
            *placed(state, a),
            workspace(a),
            Constraint(slack, "m", f"{a.description} is {cm(abs(slack))} {inside} {words}"),
        ]


for _name in REGIONS:
    _register(_name)
