"""The predicates a goal is made of: a registry, filled by one module per group.

A predicate is a pure function of a `State` and its arguments that returns a `Check`:
the truth, the signed slack of its tightest constraint (how far inside (+) or outside
(-) its tolerance the scene is, in meters or degrees) and a sentence saying so. Each
module documents its tolerances. Adding a predicate is one module here (it registers
itself with `@predicate`) plus its test; `load()` imports every module of the package.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace

from sim.goals.formula import GoalError
from sim.goals.state import Body, State

UPRIGHT_TOL = math.radians(15)  # tilt below which an object stands upright
TABLE_Z = 0.01  # an object's bottom below this (m) stands on the table
DEG_AS_M = 0.001  # to compare a slack in degrees with one in meters (1 degree ~ 1 mm)


@dataclass(frozen=True)
class Check:
    """The outcome of one ground atom."""

    value: bool
    margin: float  # slack of the tightest constraint: >= 0 inside the tolerance
    unit: str  # "m" or "deg"
    detail: str  # why, in words with numbers


@dataclass(frozen=True)
class Constraint:
    """One numeric condition of a predicate: slack >= 0 holds; `why` says it in words."""

    slack: float
    unit: str
    why: str
    pre: bool = False  # a precondition (placed, apart...): not the predicate's own measure

    @property
    def scaled(self) -> float:
        return self.slack * (DEG_AS_M if self.unit == "deg" else 1.0)


@dataclass(frozen=True)
class Predicate:
    """A registered predicate: its argument kinds ("obj" or "num"), docs and function.

    `variadic` lets the last kind repeat (`in_row(a, b, c, ...)`); `defaults` fills
    trailing numbers that were left out (`far_from(a, b)` means 15 cm). `static` checks
    what makes an atom meaningless before any scene runs (raises GoalError).
    """

    name: str
    kinds: tuple[str, ...]
    doc: str
    fn: Callable[..., list[Constraint]]
    variadic: bool = False
    min_args: int = 0
    defaults: tuple[float, ...] = ()
    static: Callable[..., None] | None = None
    movers: int = 1  # how many leading object arguments the robot is asked to move
    unit: str = "n"  # the name of a number argument: "degrees", "meters"

    def signature(self) -> str:
        """E.g. "left_of(a, b)", "far_from(a, b, meters=0.15)", "in_row(a, b, ...)"."""
        names, letters = [], iter("abcdefgh")
        first_default = len(self.kinds) - len(self.defaults)
        for i, k in enumerate(self.kinds):
            name = next(letters) if k == "obj" else self.unit
            if i >= first_default:
                name += f"={self.defaults[i - first_default]:g}"
            names.append(name)
        return f"{self.name}({', '.join(names)}{', ...' if self.variadic else ''})"


PREDICATES: dict[str, Predicate] = {}


def predicate(
    name: str,
    kinds: str,
    doc: str,
    variadic: bool = False,
    min_args: int = 0,
    defaults: tuple[float, ...] = (),
    static=None,
    movers: int = 1,
    unit: str = "n",
):
    """Register `fn(state, *args) -> list[Constraint]` as predicate `name`."""

    def deco(fn):
        k = tuple(kinds.split())
        PREDICATES[name] = Predicate(
            name,
            k,
            doc.strip(),
            fn,
            variadic,
            min_args or len(k) - len(defaults),
            defaults,
            static,
            movers,
            unit,
        )
        return fn

    return deco


def load() -> dict[str, Predicate]:
    """Every predicate (imports the modules of this package once)."""
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
    return PREDICATES


def get(name: str) -> Predicate:
    preds = load()
    if name not in preds:
        raise GoalError(f"unknown predicate {name!r} (known: {', '.join(sorted(preds))})")
    return preds[name]


def judge(constraints: list[Constraint]) -> Check:
    """All constraints hold; the margin is the tightest one's (first violated one's) slack."""
    if not constraints:  # pragma: no cover - every predicate has a constraint
        return Check(True, 0.0, "m", "holds")
    failed = [c for c in constraints if c.slack < 0]
    own = [c for c in constraints if not c.pre] or constraints
    worst = failed[0] if failed else min(own, key=lambda c: c.scaled)
    text = "; ".join(c.why for c in failed) if failed else worst.why
    return Check(not failed, worst.slack, worst.unit, text)


# -- geometry shared by the predicates ------------------------------------------------------
def cm(v: float) -> str:
    return f"{100 * v:.1f} cm"


def local(p: tuple[float, float], ref: Body) -> tuple[float, float]:
    """Point `p` in `ref`'s footprint frame."""
    dx, dy = p[0] - ref.pose[0], p[1] - ref.pose[1]
    c, s = math.cos(-ref.yaw), math.sin(-ref.yaw)
    return (c * dx - s * dy, s * dx + c * dy)


def inside(p: tuple[float, float], ref: Body, shrink: float = 0.0, round_=None) -> float:
    """Slack (m) of point `p` inside `ref`'s footprint shrunk by `shrink` (square or disc)."""
    lx, ly = local(p, ref)
    hx, hy = ref.shape.footprint
    is_round = ref.shape.symmetry == 0.0 if round_ is None else round_
    if is_round:
        return hx - shrink - math.hypot(lx, ly)
    return min(hx - shrink - abs(lx), hy - shrink - abs(ly))


def extent(b: Body, ux: float, uy: float) -> float:
    """Half-width of `b`'s footprint along the unit direction (ux, uy)."""
    hx, hy = b.shape.footprint
    if b.shape.symmetry == 0.0:
        return hx
    c, s = math.cos(b.yaw), math.sin(b.yaw)
    return abs(ux * c + uy * s) * hx + abs(-ux * s + uy * c) * hy


def dist(a: Body, b: Body) -> float:
    return math.hypot(a.pose[0] - b.pose[0], a.pose[1] - b.pose[1])


FIXED_SUPPORTS = ("tray", "plate", "pad", "bowl")  # fixed objects things rest on or in


def upright(b: Body) -> Constraint:
    deg = math.degrees(b.tilt)
    return Constraint(15.0 - deg, "deg", f"{b.description} tilted {deg:.0f} deg (upright < 15)")


def not_held(b: Body) -> Constraint:
    return Constraint(1.0 if not b.held else -1.0, "m", f"{b.description} is still in the gripper")


def standing(b: Body) -> list[Constraint]:
    """Upright with its bottom on the table (below 1 cm), not in the gripper."""
    return [
        not_held(b),
        upright(b),
        Constraint(
            TABLE_Z - b.z, "m", f"{b.description}'s bottom is {cm(b.z)} above the table (< 1.0 cm)"
        ),
    ]


def supported_by(state: State, b: Body) -> Body | None:
    """The object `b` rests on or in (its center over its footprint, its bottom on its
    surface within 1.5 cm), or None."""
    for s in state.bodies:
        if s is b or not s.shape.collides or s.shape.surface <= 0:
            continue
        if inside(b.xy, s) >= 0 and abs(b.z - (s.z + s.shape.surface)) < 0.015:
            return s
    return None


def placed(state: State, b: Body) -> list[Constraint]:
    """`b` has been put down: not in the gripper, upright, resting on the table or on
    something (a fixed object always is). A mover that is not placed satisfies no
    spatial relation."""
    if not b.movable:
        return []
    rests = b.z < TABLE_Z or supported_by(state, b) is not None
    out = [not_held(b), upright(b)]
    out.append(
        Constraint(1.0 if rests else -1.0, "m", f"{b.description} rests on nothing ({cm(b.z)} up)")
    )
    return [replace(c, pre=True) for c in out]


def apart(a: Body, b: Body) -> list[Constraint]:
    """Neither rests on or in the other: each center outside the other's footprint when
    one is above the other (a relation between a and b means they stand side by side)."""
    out = []
    for top, low in ((a, b), (b, a)):
        if top.z >= low.z - 1e-3:
            s = inside(top.xy, low)
            out.append(
                Constraint(-s, "m", f"{top.description} is on/in {low.description}", pre=True)
            )
    return out
