"""The goal planner: any goal of the goal language and a state -> the moves that make it hold.

`plan_moves(goal, state, seed)` reads the ground goal and a state (object descriptions
and poses, read by trusted code from the simulator), then

1. picks a disjunct of the goal (its disjunctive normal form, in order) and the objects
   that must move: the movers of its atoms that are false now (`Predicate.movers`), and
   the objects of negated atoms that hold now; when that finds no layout, every movable
   object of those atoms (the reference stands at the table's edge: it moves too);
2. samples where each mover goes with `sim.goals.solve.sample_layout`, which proposes
   poses from the atoms and accepts them only when the SAME predicates that judge the
   goal hold with margin; the whole goal is then evaluated on the expected state, and
   another sample is drawn when it does not hold;
3. orders the moves: a support before what goes on it, what rests on a mover before the
   mover, an object standing where another must go before that one, a pick (held)
   last; a circle is broken by parking one of its objects on a free spot;
4. returns the moves (`place_on`, `put_in`, `place_at`, `rotate`, `pick`), one robot
   call each.

It runs in two places: the agent asks it whether a scene can be solved at all, and the
robot API's `plan(goal)` (`skills.robot`) runs it inside a skill's process on the state
the world is in now, so that a composite skill (`agent.plan.skills`) plans for whatever
scene it is given and plans again when a move did not land as expected. A plan's
success is never assumed: the run's verdict is the goal evaluated on the simulator's
end state. It returns None when no layout was found ("could not").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.goals import Atom, Goal, State, evaluate
from sim.goals.consistency import disjuncts
from sim.goals.predicates import get as get_predicate

SAMPLES = 12
YAW_ATOMS = ("rotated_by", "aligned")


@dataclass(frozen=True)
class Move:
    """One robot call: `kind` in place_on | put_in | place_at | rotate | pick."""

    kind: str
    obj: str
    target: str | None = None  # place_on / put_in
    xy: tuple[float, float] | None = None  # place_at
    yaw_deg: float | None = None  # place_at with a yaw, or rotate's turn
    # the goal's literals this move serves, (positive, atom), those with `obj` first
    # leading; () for a parking move (what a step phrase is made from: `skills.phrases`)
    atoms: tuple[tuple[bool, Atom], ...] = ()

    def as_dict(self) -> dict:
        """What skill code sees: {"kind", "object", "target", "x", "y", "yaw", "degrees"}."""
        x, y = self.xy if self.xy is not None else (None, None)
        turn = self.yaw_deg if self.kind == "rotate" else None
        yaw = None if self.kind == "rotate" else self.yaw_deg
        return {
            "kind": self.kind,
            "object": self.obj,
            "target": self.target,
            "x": x,
            "y": y,
            "yaw": yaw,
            "degrees": turn,
        }


def plan_moves(goal: Goal, state: State, seed: int = 0) -> list[Move] | None:
    """The moves that should make `goal` hold from `state` ([] when it holds already),
    or None when no layout was found."""
    from sim.goals.solve import hypothetical, sample_layout

    rng = np.random.default_rng(seed)
    verdict = evaluate(goal, state)
    if verdict.value:
        return []
    truth = {a.atom: a.value for a in verdict.atoms}
    for lits, every in ((d, e) for d in disjuncts(goal.ground) for e in (False, True)):
        pos = [a for p, a in lits if p]
        movers = _movers(lits, truth, state, every)
        if not movers:
            continue
        # held atoms are met by a final pick, not by a pose: the sampler places the rest
        held = [a.args[0] for a in pos if a.pred == "held"]
        placed = [a for a in pos if a.pred != "held"]
        placing = [m for m in movers if m not in held]
        for _ in range(SAMPLES):
            poses = sample_layout(state, placed, placing, rng) if placing else {}
            if poses is None:
                break
            expected = hypothetical(state, poses)
            if held:
                expected = State(
                    tuple(_lift(b) if b.description in held else b for b in expected.bodies)
                )
            if evaluate(goal, expected).value:
                picks = [Move("pick", h) for h in held if not state.get(h).held]
                return _serving(_order(_moves(placed, poses, state), state, poses) + picks, lits)
    return None


def _serving(moves: list[Move], lits: list[tuple[bool, Atom]]) -> list[Move]:
    """Each move with the literals it serves: those naming its object (first-named first).
    A parking move (its object moved again later, or named by no literal) serves none."""
    from dataclasses import replace

    out = []
    for i, m in enumerate(moves):
        later = any(n.obj == m.obj for n in moves[i + 1 :])
        mine = [] if later else [(p, a) for p, a in lits if m.obj in a.args]
        mine.sort(key=lambda pa: pa[1].args[:1] != (m.obj,))
        out.append(replace(m, atoms=tuple(mine)))
    return out


def _lift(b):
    from dataclasses import replace

    return replace(b, pose=(b.pose[0], b.pose[1], 0.1, b.pose[3]), held=True)


def _movers(
    lits: list[tuple[bool, Atom]], truth: dict[str, bool], state: State, every: bool = False
) -> list[str]:
    """What must move: the movers of the atoms not yet as the goal wants them (with
    `every`, all their movable objects: when the reference must make room too)."""
    out: list[str] = []
    for positive, a in lits:
        if truth.get(str(a)) == positive:
            continue  # already as the goal wants it
        n = 99 if every else (get_predicate(a.pred).movers if positive else 1)
        for x in [x for x in a.args if isinstance(x, str)][:n]:
            if state.get(x).movable and x not in out:
                out.append(x)
    return out


def _moves(pos: list[Atom], poses: dict, state: State) -> list[Move]:
    moves = []
    shared = _shared_supports(pos)
    for obj, pose in poses.items():
        atoms = [a for a in pos if a.args and a.args[0] == obj]
        support = next(
            (a.args[1] for a in atoms if a.pred in ("on", "in") and isinstance(a.args[1], str)),
            None,
        )
        support = support or next(
            (
                a.args[a.args.index(obj) - 1]
                for a in pos
                if a.pred == "stacked" and obj in a.args[1:]
            ),
            None,
        )
        if any(a.pred == "held" for a in atoms):
            moves.append(Move("pick", obj))
        elif support is not None and support not in shared and _centered(pose, state.get(support)):
            kind = "put_in" if state.get(support).shape_name in ("bowl", "tray") else "place_on"
            moves.append(Move(kind, obj, target=support))
        else:
            start = state.get(obj).pose
            yaw = float(np.degrees(pose[3])) if any(a.pred in YAW_ATOMS for a in atoms) else None
            if yaw is not None and np.hypot(pose[0] - start[0], pose[1] - start[1]) < 0.005:
                moves.append(Move("rotate", obj, yaw_deg=float(np.degrees(pose[3] - start[3]))))
            else:
                moves.append(
                    Move("place_at", obj, xy=(float(pose[0]), float(pose[1])), yaw_deg=yaw)
                )
    return moves


def _centered(pose, support) -> bool:
    """The sampled spot is the support's center (where `place_on` puts it); else the
    spot is kept (`place_at`): an atom wanted it off center."""
    return bool(np.hypot(pose[0] - support.pose[0], pose[1] - support.pose[1]) < 0.004)


def _shared_supports(pos: list[Atom]) -> set[str]:
    """Supports more than one object goes on or in: those get their sampled spots
    (`place_at`), not the support's center (`place_on`), which only one object can take."""
    count: dict[str, int] = {}
    for a in pos:
        if a.pred in ("on", "in") and isinstance(a.args[1], str):
            count[a.args[1]] = count.get(a.args[1], 0) + 1
    return {s for s, n in count.items() if n > 1}


def _order(moves: list[Move], state: State, poses: dict) -> list[Move]:
    """Supports first, what rests on a mover before it (it cannot be grasped with a load),
    then whoever stands where another must go; picks last. A circle (the red cube on the
    blue cube, the blue cube standing where the red cube must go) is broken by parking
    one of its objects on a free spot first."""
    from sim.goals.predicates import supported_by

    where = {b.description: b.pose[:2] for b in state.bodies}  # where each stands now
    rests = {
        b.description: getattr(supported_by(state, b), "description", None) for b in state.bodies
    }
    todo = [m for m in moves if m.kind != "pick"]
    left = {m.obj for m in todo}

    def blockers(m: Move) -> set[str]:
        out = {m.target} & left if m.target else set()
        out |= {x for x in left if rests.get(x) == m.obj}
        goal = poses[m.obj]
        r = state.get(m.obj).shape.radius
        for other in left - {m.obj}:
            (x, y), ro = where[other], state.get(other).shape.radius
            if np.hypot(x - goal[0], y - goal[1]) < r + ro + 0.01:
                out.add(other)
        return out

    done: list[Move] = []
    parked: set[str] = set()
    # a load that stays out of the goal's moves still blocks the grasp of what it rests
    # on: park it first (loads of loads first)
    loads = [
        b.description
        for b in state.bodies
        if b.description not in left and b.movable and rests.get(b.description) in left
    ]
    for x in sorted(loads, key=lambda d: -state.get(d).pose[2]):
        spot = _free_spot(x, state, where, poses)
        if spot is not None:
            done.append(Move("place_at", x, xy=spot))
            where[x], rests[x] = spot, None
            parked.add(x)
    while todo:
        ready = [m for m in todo if not blockers(m)]
        if not ready:  # a circle: park an object nothing rests on, once, if there is room
            free = [
                m.obj
                for m in todo
                if m.obj not in parked and not any(rests.get(x) == m.obj for x in left)
            ]
            spot = _free_spot(free[0], state, where, poses) if free else None
            if spot is not None:
                done.append(Move("place_at", free[0], xy=spot))
                where[free[0]], rests[free[0]] = spot, None
                parked.add(free[0])
                continue
        m = ready[0] if ready else todo[0]  # no room to park: go on, the verdict will tell
        done.append(m)
        todo.remove(m)
        left.discard(m.obj)
        where[m.obj], rests[m.obj] = poses[m.obj][:2], m.target
    return done + [m for m in moves if m.kind == "pick"]


def _free_spot(obj: str, state: State, where: dict, poses: dict) -> tuple[float, float] | None:
    """A spot on the table clear (with finger room) of where everything stands now and
    of every spot a move will put something: a place to park `obj` for a while."""
    from sim.goals.predicates.regions import X0, X1, Y0, Y1
    from sim.goals.solve import FINGER_ROOM

    rng = np.random.default_rng(0)
    r = state.get(obj).shape.radius
    taken = [(xy, state.get(d).shape.radius) for d, xy in where.items() if d != obj]
    taken += [(p[:2], state.get(d).shape.radius) for d, p in poses.items() if d != obj]
    for _ in range(400):
        x, y = rng.uniform(X0 + r, X1 - r), rng.uniform(Y0 + r, Y1 - r)
        if all(np.hypot(x - q[0], y - q[1]) >= r + rq + FINGER_ROOM for q, rq in taken):
            return (float(x), float(y))
    return None
