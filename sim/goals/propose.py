"""Candidate poses for one mover, driven by the atoms that name it (not blind).

`on`/`in(a, b)` put a at b's center at b's surface height (bottom-up for towers; spread
out when several share a support), `left_of(a, b)` puts a beyond b within the 45 degree
cone (likewise `right_of`, `in_front_of`, `behind`), `next_to` just past both footprints,
`between` near the midpoint, regions uniformly in the region, `rotated_by`/`aligned` set
the yaw, `in_row` steps a row from left to right, `pyramid` puts the right base beside
the left one and the top on both, `where_was` uses the start pose. `sim.goals.solve`
judges each proposal.
"""

from __future__ import annotations

import math
from dataclasses import replace

from sim.geometry import wrap_angle
from sim.goals import predicates as P
from sim.goals.formula import Atom
from sim.goals.layout_graph import LayoutGraph, is_flat
from sim.goals.predicates.arrangements import CUBE, ROW_GAP
from sim.goals.predicates.directions import DIRECTIONS, GAP
from sim.goals.predicates.proximity import END, LINE, NEAR
from sim.goals.predicates.regions import REGIONS, X0, X1, Y0, Y1
from sim.goals.predicates.support import INNER, STACK_XY
from sim.goals.state import Body, Pose
from sim.objects import BOWL_INNER_RADIUS, TRAY_INNER_HALF

# a direction seen from its second argument: left_of(a, b) means right_of(b, a)
INVERSE = {
    "left_of": "right_of",
    "right_of": "left_of",
    "in_front_of": "behind",
    "behind": "in_front_of",
}


class Proposer(LayoutGraph):
    """`LayoutGraph` plus `rng`, the only source of randomness, and the proposals."""

    def __init__(self, state, atoms, movers, rng, margin, clearance, finger_room) -> None:
        super().__init__(state, atoms, movers, margin, clearance, finger_room)
        self.rng = rng

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
                z = t.z + t.shape.surface if is_flat(t) and t.shape.collides else 0.0  # on a pad
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


def _shape_yaw(b: Body, rng) -> float:
    return float(rng.uniform(-math.pi / 4, math.pi / 4)) if b.shape.symmetry else 0.0


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
