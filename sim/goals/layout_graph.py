"""What a layout must respect before any pose is drawn: the atoms' structure.

`LayoutGraph` grounds the atoms over the scene (`sim.goals.solve.sample_layout` takes
positive atoms; defaults filled in, bad ones refused), then reads what each object rests
on, in which order the movers are placed (what an atom refers to first), which pairs may
touch (an object and what it rests on, a pyramid's blocks), how far a chain of directions
keeps each mover from the workspace's edges, and the gap two footprints keep. It draws
nothing: `sim.goals.propose` and `sim.goals.solve` sample on top of it.
"""

from __future__ import annotations

import math

from sim.goals import predicates as P
from sim.goals.formula import Atom, GoalError
from sim.goals.predicates.directions import DIRECTIONS, GAP
from sim.goals.predicates.regions import X0, X1, Y0, Y1
from sim.goals.state import Body, State

SIBLING_GAP = 0.005  # between two things on or in the same support


class LayoutGraph:
    """The structure of a layout request: grounded atoms, supports, order, bounds.

    Args:
        state: the scene; objects not in `movers` stay where it has them.
        atoms: positive atoms over the scene's descriptions.
        movers: descriptions of the objects to place.
        margin: the least margin (m) each atom must hold by.
        clearance: least gap between the bounding circles of two fixed objects.
        finger_room: least gap between a graspable object and anything else.
    """

    def __init__(self, state, atoms, movers, margin, clearance, finger_room) -> None:
        self.state, self.margin = state, margin
        self.clearance, self.finger_room = clearance, finger_room
        self.atoms = list(dict.fromkeys(layout_atom(a, state) for a in atoms))
        self.movers = list(dict.fromkeys(movers))
        for m in self.movers:
            state.get(m)
        self.body = {b.description: b for b in state.bodies}
        self.mset = set(self.movers)
        self.parent = self._supports()
        self.order = self._order()
        self.exempt = self._exempt()
        self.bounds = self._chains()

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
            if a.pred in ("on", "in") or a.pred == "aligned" and is_flat(self.body[o[1]]):
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

    def _gap(self, a: Body, b: Body) -> float:
        """Least gap between two footprints: finger room around a graspable object, the
        clearance between fixed ones and from a marking painted on the table (the fingers
        pass over it), SIBLING_GAP between two things on the same support."""
        if self.parent.get(a.description, 0) == self.parent.get(b.description, 1):
            return min(SIBLING_GAP, self.clearance)
        if (a.movable or b.movable) and a.shape.collides and b.shape.collides:
            return self.finger_room
        return self.clearance


def is_flat(b: Body) -> bool:
    """A marking or a pad: what stands on it still stands on the table (bottom < 1 cm)."""
    return not b.shape.collides or b.z + b.shape.surface < P.TABLE_Z


def layout_atom(a, state: State) -> Atom:
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
