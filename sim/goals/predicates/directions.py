"""Where one object stands relative to another: left_of, right_of, in_front_of, behind.

Frame: left and right as the front camera sees the table (left = -y, right = +y); in
front = toward the front camera (+x), behind = toward the robot (-x).

Tolerances: a's center is at least 3 cm beyond b's center along the direction, and the
direction dominates (the sideways offset is at most the offset along it: within 45 deg
of the direction). Both are placed (not in the gripper, upright, resting on something),
and neither rests on or in the other.
"""

from __future__ import annotations

from sim.goals.predicates import Constraint, apart, cm, placed, predicate
from sim.goals.state import Body, State

GAP = 0.03
# name -> (axis index, sign, word for the direction, word for its opposite)
DIRECTIONS = {
    "left_of": (1, -1, "left", "right"),
    "right_of": (1, +1, "right", "left"),
    "in_front_of": (0, +1, "in front", "behind"),
    "behind": (0, -1, "behind", "in front"),
}


def _of(word: str) -> str:
    """'left' -> 'left of', 'in front' -> 'in front of', 'behind' -> 'behind'."""
    return word if word == "behind" else f"{word} of"


def relation(state: State, a: Body, b: Body, name: str) -> list[Constraint]:
    axis, sign, word, opposite = DIRECTIONS[name]
    along = sign * (a.pose[axis] - b.pose[axis])
    side = abs(a.pose[1 - axis] - b.pose[1 - axis])
    where = f"{cm(along)} {_of(word)}" if along >= 0 else f"{cm(-along)} {_of(opposite)}"
    out = [
        *placed(state, a),
        *placed(state, b),
        *apart(a, b),
        Constraint(
            along - GAP, "m", f"{a.description} is {where} {b.description}, needs >= 3.0 cm {word}"
        ),
    ]
    if along >= GAP:  # short of 3 cm the first reason says it all
        cone = along - side
        why = (
            f"{a.description} is {where} {b.description} and {cm(side)} to the side (needs >= 3.0 cm {word}, within 45 deg)"
            if cone >= 0
            else f"{a.description} is {cm(side)} to the side of {b.description}, more than its {cm(along)} {word} (needs within 45 deg)"
        )
        out[-1] = Constraint(along - GAP, "m", why)
        out.append(Constraint(cone, "m", why))
    return out


def _register(name: str) -> None:
    phrase = name.replace("_", " ")

    @predicate(name, "obj obj", f"a stands {phrase} b (>= 3 cm, within 45 deg)")
    def check(state: State, a: Body, b: Body) -> list[Constraint]:
        return relation(state, a, b, name)


for _name in DIRECTIONS:
    _register(_name)
