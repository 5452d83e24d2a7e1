"""Where to put things so that a goal's atoms hold: a placement sampler.

`sample_layout(state, atoms, movers, rng)` chooses a pose (x, y, z_bottom, yaw) for
each object in `movers` such that every atom holds with a margin, judged by the very
predicates that judge a goal (`sim.goals.evaluate` on a hypothetical `State` with the
movers at the proposed poses), while every other object stays where `state` has it.
The layout is collision-free and inside the workspace: footprint bounding circles stay
apart by `finger_room` (3.5 cm) around a graspable object, by `clearance` (2 cm) between
fixed objects and from markings painted on the table, by SIBLING_GAP (5 mm) between two
things on or in the same support; an object resting on or in another (or aligned on a
marking) is exempt from colliding with what it rests on. It returns None when no layout
was found (a `held` atom, contradictory atoms, no room).

Only what judging needs is checked of the atoms (predicate, arguments, objects): the
refusals a goal gets before it runs (`sim.goals.check`, e.g. a fixed object asked to
move) are the caller's, so that a scene may put a fixed tray on the left side.

Proposals are driven by the atoms, not blind (`sim.goals.propose`: `on`/`in(a, b)` put a
at b's center at b's surface height, `left_of(a, b)` puts a beyond b within the 45
degree cone, `far_from` uniformly then tested...). Movers are placed in dependency order
(what an atom refers to first, `sim.goals.layout_graph`); each is rejection-sampled
(`PER_OBJECT` proposals) and the whole layout restarts when one cannot be placed.

The scene builder (`sim.scenes`) uses it for start relations; a planner uses it to choose
where to put objects (`hypothetical(state, poses)` is the state it expects, start poses
kept for `rotated_by` and `where_was`).

Margins: each atom's margin (`AtomResult.margin`, degrees counted as in
`sim.goals.predicates.judge`, 1 degree ~ 1 mm) must be at least `margin`, capped for the
predicates whose tolerances are tight by nature (standing on the table is "bottom below
1 cm": at most 1 cm of slack) at `CAP`.
"""

from __future__ import annotations

import math
from dataclasses import replace

from sim.goals import predicates as P
from sim.goals.consistency import contradiction
from sim.goals.evaluate import Goal, evaluate
from sim.goals.formula import And, Atom
from sim.goals.predicates.directions import DIRECTIONS
from sim.goals.predicates.regions import REGIONS, X0, X1, Y0, Y1
from sim.goals.propose import Proposer
from sim.goals.state import Body, Pose, State

FINGER_ROOM = 0.035  # gap a block keeps from anything (as `sim.tasks.place.FINGER_ROOM`)
CLEARANCE = 0.02  # gap between two fixed objects (targets, bowls, markings)
PER_OBJECT = 30  # proposals per object before the layout restarts
CAP = {  # the most margin these predicates can give (meters)
    **dict.fromkeys(
        [
            "on",
            "in",
            "on_table",
            "stacked",
            "aligned",
            "where_was",
            "in_row",
            "rotated_by",
            "upright",
        ],
        0.01,
    ),
    "pyramid": 0.005,
}
SUPPORTED = {
    "on",
    "in",
    "on_table",
    "stacked",
    "aligned",
    "where_was",
    "in_row",
    "rotated_by",
    "upright",
    "pyramid",
    "next_to",
    "far_from",
    "between",
    *DIRECTIONS,
    *REGIONS,
}


def sample_layout(
    state: State,
    atoms: list[Atom],
    movers: list[str],
    rng,
    margin: float = 0.01,
    tries: int = 30,
    clearance: float = CLEARANCE,
    finger_room: float = FINGER_ROOM,
) -> dict[str, Pose] | None:
    """Poses for `movers` that make every atom hold with `margin`, or None.

    Args:
        state: the scene; objects not in `movers` stay where it has them (obstacles).
        atoms: ground positive atoms over the scene's descriptions (quantifiers and
            defaults are expanded here; a bad atom raises GoalError).
        movers: descriptions of the objects to place (any object of `state`).
        rng: a numpy Generator; the only source of randomness.
        margin: the least margin (m) each atom must hold by (see the module docstring).
        tries: how many times the whole layout is restarted.
        clearance: least gap between the bounding circles of two fixed objects.
        finger_room: least gap between a graspable object and anything else.
    """
    return _Sampler(state, atoms, movers, rng, margin, clearance, finger_room).run(tries)


def hypothetical(state: State, poses: dict[str, Pose]) -> State:
    """`state` with the objects of `poses` put down there (upright, not held; start kept)."""
    bodies = []
    for b in state.bodies:
        if b.description in poses:
            b = replace(b, pose=poses[b.description], tilt=0.0, held=False, start=b.start_pose)
        bodies.append(b)
    return State(tuple(bodies))


def margin_ok(pred: str, value: bool, margin_m: float, margin: float) -> bool:
    """An atom holds with at least `margin` (capped for tight predicates)."""
    return value and margin_m >= min(margin, CAP.get(pred, margin)) - 1e-9


class _Sampler(Proposer):
    """Rejection sampling of whole layouts from the proposals (see the module docstring)."""

    def run(self, tries: int) -> dict[str, Pose] | None:
        if any(a.pred not in SUPPORTED for a in self.atoms):
            return None
        if self.atoms and contradiction(And(tuple(self.atoms))):
            return None
        # atoms judged as soon as the last of their objects is placed
        fixed = [d for d in self.body if d not in self.mset]
        closing: dict[str, list[Atom]] = {m: [] for m in self.order}
        rank = {m: i for i, m in enumerate(self.order)}
        for a in self.atoms:
            ms = [x for x in self._objs(a) if x in self.mset]
            if ms:
                closing[max(ms, key=rank.__getitem__)].append(a)
            elif not self._holds([a], self.state):  # no mover in it: it holds now or never
                return None
        for _ in range(tries):
            placed = {d: self.body[d] for d in fixed}
            poses: dict[str, Pose] = {}
            for m in self.order:
                body = self._place(m, placed, closing[m])
                if body is None:
                    break
                placed[m] = body
                poses[m] = body.pose
            else:
                if self._holds(self.atoms, hypothetical(self.state, poses)):
                    return poses
        return None

    def _place(self, m: str, placed: dict[str, Body], check: list[Atom]) -> Body | None:
        orig = self.body[m]
        for k in range(PER_OBJECT):
            prop = self._propose(m, placed, k)
            if prop is None:
                continue
            sym = orig.shape.symmetry
            yaw = (prop[3] + sym / 2) % sym - sym / 2 if sym else 0.0  # the same, nearest 0
            body = replace(orig, pose=(*prop[:3], yaw), tilt=0.0, held=False, start=orig.start_pose)
            if not self._inside(body) or self._collides(body, placed):
                continue
            sub = State(
                tuple(placed[d] if d != m else body for d in self.body if d in placed or d == m)
            )
            if self._holds(check, sub):
                return body
        return None

    def _holds(self, atoms: list[Atom], state: State) -> bool:
        if not atoms:
            return True
        f = And(tuple(atoms))
        verdict = evaluate(Goal(f, f), state)
        for a, r in zip(atoms, verdict.atoms, strict=True):
            m = r.margin * (P.DEG_AS_M if r.unit == "deg" else 1.0)
            if not margin_ok(a.pred, r.value, m, self.margin):
                return False
        return True

    def _collides(self, body: Body, placed: dict[str, Body]) -> bool:
        r = body.shape.radius
        for d, o in placed.items():
            if d == body.description or frozenset((d, body.description)) in self.exempt:
                continue
            need = r + o.shape.radius + self._gap(body, o)
            if math.hypot(body.pose[0] - o.pose[0], body.pose[1] - o.pose[1]) < need:
                return True
        return False

    def _inside(self, b: Body) -> bool:
        r = 0.0 if b.description in self.parent else b.shape.radius
        x, y = b.xy
        return X0 + r <= x <= X1 - r and Y0 + r <= y <= Y1 - r
