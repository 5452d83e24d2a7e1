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

Proposals are driven by the atoms, not blind: `on`/`in(a, b)` put a at b's center at
b's surface height (bottom-up for towers), `left_of(a, b)` puts a at b.y minus a gap
within the 45 degree cone (likewise `right_of`, `in_front_of`, `behind` along y and x),
`next_to` just past both footprints, `between` near the midpoint, regions uniformly in
the region, `far_from` uniformly then tested, `rotated_by`/`aligned` set the yaw,
`in_row` steps a row from left to right, `where_was` uses the start pose. Movers are
placed in dependency order (what an atom refers to first); each is rejection-sampled
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

from sim.geometry import wrap_angle
from sim.goals import predicates as P
from sim.goals.evaluate import Goal, evaluate
from sim.goals.formula import And, Atom, GoalError
from sim.goals.predicates.arrangements import CUBE, ROW_GAP
from sim.goals.predicates.directions import DIRECTIONS, GAP
from sim.goals.predicates.proximity import END, LINE, NEAR
from sim.goals.predicates.regions import REGIONS, X0, X1, Y0, Y1
from sim.goals.predicates.support import INNER, STACK_XY
from sim.goals.state import Body, Pose, State
from sim.objects import BOWL_INNER_RADIUS, TRAY_INNER_HALF

FINGER_ROOM = 0.035  # gap a block keeps from anything (as `sim.tasks.place.FINGER_ROOM`)
CLEARANCE = 0.02  # gap between two fixed objects (targets, bowls, markings)
SIBLING_GAP = 0.005  # between two things on or in the same support
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
# a direction seen from its second argument: left_of(a, b) means right_of(b, a)
INVERSE = {
    "left_of": "right_of",
    "right_of": "left_of",
    "in_front_of": "behind",
    "behind": "in_front_of",
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


def _shape_yaw(b: Body, rng) -> float:
    return float(rng.uniform(-math.pi / 4, math.pi / 4)) if b.shape.symmetry else 0.0


class _Sampler:
    def __init__(self, state, atoms, movers, rng, margin, clearance, finger_room) -> None:
        self.state, self.rng, self.margin = state, rng, margin
        self.clearance, self.finger_room = clearance, finger_room
        self.atoms = list(dict.fromkeys(_ground(a, state) for a in atoms))
        self.movers = list(dict.fromkeys(movers))
        for m in self.movers:
            state.get(m)
        self.body = {b.description: b for b in state.bodies}
        self.mset = set(self.movers)
        self.parent = self._supports()
        self.order = self._order()
        self.exempt = self._exempt()
        self.bounds = self._chains()

    # -- structure ---------------------------------------------------------------------
    def _objs(self, a: Atom) -> list[str]:
        return [x for x in a.args if isinstance(x, str)]

    def _deps(self, a: Atom) -> list[tuple[str, str]]:
        """(dependent, dependency) pairs: the dependent is placed after the dependency."""
        o = self._objs(a)
        if a.pred in ("stacked", "in_row"):
            return list(zip(o[1:], o, strict=False))
        if a.pred == "pyramid":
            return [(o[1], o[0]), (o[2], o[0]), (o[2], o[1])]
        if a.pred == "where_was":
            return []
        return [(o[0], x) for x in o[1:]]

    def _supports(self) -> dict[str, str]:
        """What each object rests on: movers by the atoms, the others as `state` has them."""
        parent: dict[str, str] = {}
        for a in self.atoms:
            o = self._objs(a)
            if a.pred in ("on", "in") or a.pred == "aligned" and _flat(self.body[o[1]]):
                parent.setdefault(o[0], o[1])
            elif a.pred == "stacked":
                for low, top in zip(o, o[1:], strict=False):
                    parent.setdefault(top, low)
        for b in self.state.bodies:
            if b.description not in self.mset and b.description not in parent:
                s = P.supported_by(self.state, b)
                if s is not None:
                    parent[b.description] = s.description
        return parent

    def _exempt(self) -> set[frozenset]:
        pairs = set()
        for child in self.body:
            seen, cur = {child}, self.parent.get(child)
            while cur is not None and cur not in seen:
                pairs.add(frozenset((child, cur)))
                seen.add(cur)
                cur = self.parent.get(cur)
        for a in self.atoms:
            if a.pred == "pyramid":
                o = self._objs(a)
                pairs |= {frozenset((o[0], o[1])), frozenset((o[2], o[0])), frozenset((o[2], o[1]))}
        return pairs

    def _chains(self) -> dict[tuple[str, int], tuple[float, float]]:
        """(mover, axis) -> (lowest, highest) center coordinate that leaves room for the
        objects a chain of directions puts beyond it (left_of(a, b), left_of(b, c): c at
        least two steps from the left edge). A step is the least offset along the axis of
        two objects that clear each other within the 45 degree cone."""
        out: dict[tuple[str, int], tuple[float, float]] = {}
        for axis, (lo_edge, hi_edge) in ((0, (X0, X1)), (1, (Y0, Y1))):
            edges: list[tuple[str, str]] = []  # (lower, higher) along the axis
            for a in self.atoms:
                if a.pred in DIRECTIONS and DIRECTIONS[a.pred][0] == axis:
                    x, y = self._objs(a)
                    edges.append((y, x) if DIRECTIONS[a.pred][1] > 0 else (x, y))
            if not edges:
                continue

            step = self._step
            lo = {d: lo_edge + b.shape.radius for d, b in self.body.items()}
            hi = {d: hi_edge - b.shape.radius for d, b in self.body.items()}
            for d, b in self.body.items():
                if d not in self.mset:
                    lo[d] = hi[d] = b.pose[axis]
            for _ in range(len(self.body)):  # longest paths (the graph has no cycle)
                for p, q in edges:
                    lo[q] = max(lo[q], lo[p] + step(p, q))
                    hi[p] = min(hi[p], hi[q] - step(p, q))
            for m in self.movers:
                out[(m, axis)] = (lo[m], hi[m])
        return out

    def _step(self, p: str, q: str) -> float:
        """The least offset along a direction from q to p (or p to q) when p and q clear
        each other and one stands within the 45 degree cone (less the margin) of the other."""
        bp, bq, mg = self.body[p], self.body[q], self.margin
        d = bp.shape.radius + bq.shape.radius + self._gap(bp, bq)
        return max(GAP + mg, (mg + math.sqrt(max(0.0, 2 * d * d - mg * mg))) / 2)

    def _order(self) -> list[str]:
        deps: dict[str, set[str]] = {m: set() for m in self.movers}
        for a in self.atoms:
            for x, y in self._deps(a):
                if x in self.mset and y in self.mset and x != y:
                    deps[x].add(y)
        order: list[str] = []
        left = list(self.movers)
        while left:
            ready = next((m for m in left if deps[m] <= set(order)), left[0])  # cycles: first
            order.append(ready)
            left.remove(ready)
        return order

    # -- sampling ----------------------------------------------------------------------
    def run(self, tries: int) -> dict[str, Pose] | None:
        if any(a.pred not in SUPPORTED for a in self.atoms):
            return None
        from sim.goals.consistency import contradiction

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

    def _gap(self, a: Body, b: Body) -> float:
        """Least gap between two footprints: finger room around a graspable object, the
        clearance between fixed ones and from a marking painted on the table (the fingers
        pass over it), SIBLING_GAP between two things on the same support."""
        if self.parent.get(a.description, 0) == self.parent.get(b.description, 1):
            return min(SIBLING_GAP, self.clearance)
        if (a.movable or b.movable) and a.shape.collides and b.shape.collides:
            return self.finger_room
        return self.clearance

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

    def _box(self, m: str, placed: dict[str, Body]) -> list[float]:
        """[x_lo, x_hi, y_lo, y_hi] for m's center from the workspace, directions, regions."""
        r = self.body[m].shape.radius
        box = [X0 + r, X1 - r, Y0 + r, Y1 - r]
        for axis in (0, 1):
            lo, hi = self.bounds.get((m, axis), (box[2 * axis], box[2 * axis + 1]))
            box[2 * axis], box[2 * axis + 1] = max(box[2 * axis], lo), min(box[2 * axis + 1], hi)
        mg = self.margin
        for a in self.atoms:
            o = self._objs(a)
            if a.pred in REGIONS and o[0] == m:
                lo_hi = _region_box(a.pred, mg)
                box = [
                    max(box[0], lo_hi[0]),
                    min(box[1], lo_hi[1]),
                    max(box[2], lo_hi[2]),
                    min(box[3], lo_hi[3]),
                ]
            elif a.pred in DIRECTIONS and m in o[:2]:
                other = o[1] if o[0] == m else o[0]
                if other not in placed:
                    continue
                name = a.pred if o[0] == m else INVERSE[a.pred]
                axis, sign = DIRECTIONS[name][:2]
                ref = placed[other].pose[axis]
                i = 2 * axis  # index of the axis' low bound
                if sign > 0:
                    box[i] = max(box[i], ref + GAP + mg)
                else:
                    box[i + 1] = min(box[i + 1], ref - GAP - mg)
        return box

    def _uniform(self, box: list[float]) -> tuple[float, float] | None:
        if box[0] > box[1] or box[2] > box[3]:
            return None
        return float(self.rng.uniform(box[0], box[1])), float(self.rng.uniform(box[2], box[3]))

    def _propose(self, m: str, placed: dict[str, Body], k: int) -> Pose | None:
        """One candidate pose for m, from the atoms that drive it (see the module docstring)."""
        rng, b = self.rng, self.body[m]
        kinds: dict[str, list[Atom]] = {}
        for a in self.atoms:
            o = self._objs(a)
            if m not in o:
                continue
            waits = any(x not in placed for x in o if x != m)
            if waits and a.pred not in ("stacked", "in_row", "pyramid", "where_was"):
                continue  # judged once its other objects are placed
            kinds.setdefault(a.pred, []).append(a)
        yaw, turned = _shape_yaw(b, rng), False
        z = 0.0
        xy: tuple[float, float] | None = None
        box = self._box(m, placed)

        for a in kinds.get("rotated_by", []):
            yaw, turned = wrap_angle(b.start_pose[3] + math.radians(a.args[1])), True
            if k == 0:  # turn it where it stands
                xy = (b.start_pose[0], b.start_pose[1])

        support = self._support_of(m, kinds, placed)
        if support is not None:
            s = placed[support]
            z = s.z + s.shape.surface
            xy = self._on_support(m, b, s, placed, k)
            if s.movable and b.shape.symmetry and s.shape.symmetry and not turned:
                yaw = wrap_angle(s.yaw + rng.uniform(-0.1, 0.1))  # a tower's faces line up
            return (xy[0], xy[1], z, yaw)

        for a in kinds.get("aligned", []):
            if a.args[0] == m and a.args[1] in placed:
                t = placed[a.args[1]]
                yaw = t.yaw if b.shape.symmetry else 0.0
                z = t.z + t.shape.surface if _flat(t) and t.shape.collides else 0.0  # on a pad
                return (t.xy[0], t.xy[1], z, yaw)
        for a in kinds.get("where_was", []):
            if a.args[0] == m:
                s = self.body[a.args[1]].start_pose
                return (s[0], s[1], 0.0, yaw)

        for a in kinds.get("pyramid", []):
            o = self._objs(a)
            if m in o:
                return self._pyramid(m, o, placed, box)
        for a in kinds.get("in_row", []):
            got = self._row(m, self._objs(a), placed, box)
            if got is not None:
                return (got[0], got[1], 0.0, yaw)
            return None

        cands: list[tuple[str, Atom]] = []
        for name in ("between", "next_to", *DIRECTIONS):
            for a in kinds.get(name, []):
                if name == "between" and a.args[0] != m:
                    continue
                cands.append((name, a))
        if (
            cands
            and (xy is None)
            and (rng.uniform() < 0.8 or not any(kinds.get(n) for n in DIRECTIONS))
        ):
            name, a = cands[int(rng.integers(len(cands)))]
            if name == "between":
                xy = self._between(placed[a.args[1]], placed[a.args[2]])
            elif name == "next_to":
                other = a.args[1] if a.args[0] == m else a.args[0]
                got = self._next_to(b, placed[other])
                if got is None:
                    return None
                xy, yaw = got
            else:
                xy = self._cone(m, a, placed, box)
        if xy is None:
            xy = self._uniform(box)
        if xy is None:
            return None
        return (xy[0], xy[1], z, yaw)

    def _support_of(self, m: str, kinds: dict, placed: dict) -> str | None:
        for name in ("on", "in"):
            for a in kinds.get(name, []):
                if a.args[0] == m and a.args[1] in placed:
                    return a.args[1]
        for a in kinds.get("stacked", []):
            o = self._objs(a)
            i = o.index(m)
            if i > 0 and o[i - 1] in placed:
                return o[i - 1]
        return None

    def _on_support(self, m: str, b: Body, s: Body, placed: dict, k: int) -> tuple[float, float]:
        """A spot for b on or in s: its center first when b is alone there; with others on
        the same support, the best of a few random spots (farthest from those already
        placed there, or from the center for the first one)."""
        rng = self.rng
        others = [d for d, p in self.parent.items() if p == s.description and d != m]
        if k == 0 and not others:
            return s.xy
        disc, room = self._room(b, s)
        if room <= 0:
            return s.xy
        near = [placed[d].xy for d in others if d in placed] or [s.xy]
        c, si = math.cos(s.yaw), math.sin(s.yaw)
        best, score = s.xy, -1.0
        for _ in range(12 if others else 1):  # with others: the outer part, spread out
            if disc:
                rad = room * math.sqrt(rng.uniform(0.5 if others else 0.0, 1.0))
                ang = rng.uniform(-math.pi, math.pi)
                lx, ly = rad * math.cos(ang), rad * math.sin(ang)
            else:
                lx, ly = rng.uniform(-room, room), rng.uniform(-room, room)
            p = (s.xy[0] + c * lx - si * ly, s.xy[1] + si * lx + c * ly)
            d = min(math.hypot(p[0] - q[0], p[1] - q[1]) for q in near)
            if d > score:
                best, score = p, d
        return best

    def _room(self, b: Body, s: Body) -> tuple[bool, float]:
        """Where on a support b's center may go: (True, radius) of a disc or (False, half
        side) of a square in the support's frame, around its center."""
        kind, mg, r = s.shape_name, self.margin, b.shape.radius
        if s.movable:
            return True, min(0.003, STACK_XY - mg)
        if kind == "bowl":
            return True, BOWL_INNER_RADIUS - r
        if kind == "plate":
            return True, min(INNER["plate"] - mg, s.shape.footprint[0] - r)
        if kind == "tray":
            return False, min(INNER["tray"] - mg, TRAY_INNER_HALF - r)
        return False, max(0.0, min(s.shape.footprint) - mg - 0.01)  # pad, zone (1 cm inside)

    def _cone(self, m: str, a: Atom, placed: dict, box: list[float]) -> tuple[float, float] | None:
        """A point beyond the reference along the direction, within the 45 degree cone."""
        o = self._objs(a)
        other = o[1] if o[0] == m else o[0]
        name = a.pred if o[0] == m else INVERSE[a.pred]
        axis, sign = DIRECTIONS[name][:2]
        ref = placed[other].pose
        i = 2 * axis
        far = (box[i + 1] - ref[axis]) if sign > 0 else (ref[axis] - box[i])
        near = self._step(m, other)
        if far < near:
            return None
        along = float(self.rng.uniform(near, far))
        side_max = along - self.margin
        j = 2 * (1 - axis)
        lo, hi = max(box[j], ref[1 - axis] - side_max), min(box[j + 1], ref[1 - axis] + side_max)
        if lo > hi:
            return None
        p = [0.0, 0.0]
        p[axis] = ref[axis] + sign * along
        p[1 - axis] = float(self.rng.uniform(lo, hi))
        return (p[0], p[1])

    def _between(self, b: Body, c: Body) -> tuple[float, float] | None:
        vx, vy = c.pose[0] - b.pose[0], c.pose[1] - b.pose[1]
        length = math.hypot(vx, vy)
        lo = END + self.margin
        if length < 2 * lo:
            return None
        t = length / 2 + self.rng.uniform(-1, 1) * min(length / 2 - lo, 0.2 * length)
        off = self.rng.uniform(-1, 1) * 0.5 * max(0.0, LINE - self.margin)
        ux, uy = vx / length, vy / length
        return (b.pose[0] + t * ux - off * uy, b.pose[1] + t * uy + off * ux)

    def _next_to(self, b: Body, o: Body) -> tuple[tuple[float, float], float] | None:
        """Beside o, just past both footprints, facing so that the footprints come close."""
        rng = self.rng
        if o.shape.symmetry and rng.uniform() < 0.6:  # toward a corner of o: extent = radius
            theta = (
                o.yaw + math.pi / 4 + int(rng.integers(4)) * math.pi / 2 + rng.uniform(-0.25, 0.25)
            )
        else:
            theta = rng.uniform(-math.pi, math.pi)
        yaw = _shape_yaw(b, rng)
        if b.shape.symmetry and rng.uniform() < 0.7:
            yaw = wrap_angle(theta + math.pi / 4)
        ux, uy = math.cos(theta), math.sin(theta)
        tb = replace(b, pose=(0.0, 0.0, 0.0, yaw))
        lo = b.shape.radius + o.shape.radius + self._gap(b, o) + 1e-4
        hi = NEAR - self.margin + P.extent(tb, ux, uy) + P.extent(o, ux, uy)
        if lo > hi:
            return None
        d = float(rng.uniform(lo, hi))
        return (o.pose[0] + d * ux, o.pose[1] + d * uy), yaw

    def _row(self, m: str, row: list[str], placed: dict, box: list[float]):
        """Next in a left-to-right row: a step right of the nearest placed one before it
        (or left of the one after it); the first anywhere that leaves room for the rest."""
        i = row.index(m)
        rng = self.rng

        def step(p: str, q: str) -> float:
            a, b = self.body[p], self.body[q]
            return max(ROW_GAP + self.margin, a.shape.radius + b.shape.radius + self._gap(a, b))

        prev = next((j for j in range(i - 1, -1, -1) if row[j] in placed), None)
        nxt = next((j for j in range(i + 1, len(row)) if row[j] in placed), None)
        jit = 0.5 * min(self.margin, 0.01)
        if prev is not None:
            p = placed[row[prev]]
            gap = sum(step(row[j], row[j + 1]) for j in range(prev, i))
            return (p.pose[0] + rng.uniform(-jit, jit), p.pose[1] + gap + rng.uniform(0, 0.02))
        if nxt is not None:
            p = placed[row[nxt]]
            gap = sum(step(row[j], row[j + 1]) for j in range(i, nxt))
            return (p.pose[0] + rng.uniform(-jit, jit), p.pose[1] - gap - rng.uniform(0, 0.02))
        before = sum(step(row[j], row[j + 1]) for j in range(i))
        after = sum(step(row[j], row[j + 1]) + 0.02 for j in range(i, len(row) - 1))
        lo, hi = max(box[2], Y0 + before + self.body[m].shape.radius), box[3] - after
        return self._uniform([box[0], box[1], lo, hi])

    def _pyramid(self, m: str, o: list[str], placed: dict, box: list[float]) -> Pose | None:
        """Left base anywhere, right base 4.5-5.5 cm right of it, the top on both (yaw 0)."""
        rng = self.rng
        i = o.index(m)
        if i == 0:
            xy = self._uniform([box[0], box[1], box[2], box[3] - 0.06])
            return None if xy is None else (xy[0], xy[1], 0.0, 0.0)
        if i == 1 and o[0] in placed:
            lp = placed[o[0]].pose
            return (lp[0] + rng.uniform(-0.003, 0.003), lp[1] + rng.uniform(0.045, 0.055), 0.0, 0.0)
        if i == 2 and o[0] in placed and o[1] in placed:
            lp, rp = placed[o[0]].pose, placed[o[1]].pose
            return ((lp[0] + rp[0]) / 2, (lp[1] + rp[1]) / 2, CUBE, 0.0)
        return None


def _flat(b: Body) -> bool:
    """A marking or a pad: what stands on it still stands on the table (bottom < 1 cm)."""
    return not b.shape.collides or b.z + b.shape.surface < P.TABLE_Z


def _ground(a, state: State) -> Atom:
    """A positive atom over the scene's descriptions, its default numbers filled in.

    Only what judging needs is checked (the predicate, its arguments, the objects): the
    refusals a goal gets before it runs (`sim.goals.check`: a fixed object asked to move...)
    are the caller's; a layout of a fixed object in a region is what a scene builder wants.
    """
    if not isinstance(a, Atom):
        raise GoalError(f"sample_layout takes positive atoms, not {a}")
    pred = P.get(a.pred)
    n, k = len(a.args), len(pred.kinds)
    if n < pred.min_args or (n > k and not pred.variadic):
        raise GoalError(f"{a}: wrong number of arguments, {pred.signature()}")
    for i, arg in enumerate(a.args):
        if pred.kinds[min(i, k - 1)] == "num" and not isinstance(arg, float | int):
            raise GoalError(f"{a}: argument {i + 1} must be a number")
        if pred.kinds[min(i, k - 1)] == "obj":
            if not isinstance(arg, str):
                raise GoalError(f"{a}: argument {i + 1} must be an object")
            state.get(arg)  # GoalError naming what the scene has
    args = tuple(float(x) if not isinstance(x, str) else x for x in a.args)
    if n < k:
        args += tuple(pred.defaults[n - (k - len(pred.defaults)) :])
    return Atom(a.pred, args)


def _region_box(name: str, mg: float) -> list[float]:
    third_y, third_x = (Y1 - Y0) / 3, (X1 - X0) / 3
    if name == "left_side":
        return [X0, X1, Y0, Y0 + third_y - mg]
    if name == "right_side":
        return [X0, X1, Y1 - third_y + mg, Y1]
    if name == "front":
        return [X1 - third_x + mg, X1, Y0, Y1]
    if name == "back":
        return [X0, X0 + third_x - mg, Y0, Y1]
    cx = (X0 + X1) / 2
    return [cx - third_x / 2 + mg, cx + third_x / 2 - mg, -third_y / 2 + mg, third_y / 2 - mg]
