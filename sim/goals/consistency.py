"""Goals that contradict themselves, found before anything runs.

Each conjunction of the ground goal (each disjunct of an `or`, after pushing `not` onto
atoms) is read as a set of literals and tested against what cannot hold at once:

- an atom and its negation;
- an order that goes round in a circle: left_of/right_of/in_row order objects along y,
  in_front_of/behind along x (`left_of(a, b) and left_of(b, a)`, a < b < c < a);
- an object resting on two things (`on(a, b) and on(a, c)`, `on(a, b) and on_table(a)`),
  things resting on each other in a circle, or held while resting anywhere; two objects
  held at once (one gripper);
- an object in two regions that do not meet (left_side and right_side, front and back,
  middle and any side);
- a relation between two objects one of which rests on the other (`on(a, b) and
  next_to(a, b)`: a relation means they stand side by side);
- two objects where one object was, or aligned with one outline.

A painted zone is part of the table: resting in one is resting on the table. A goal is
refused only when every disjunct contradicts itself; one too large to expand (more than
MAX_DISJUNCTS disjuncts) is not refused. `contradiction` returns the reason, or None.
"""

from __future__ import annotations

from itertools import product

from sim.goals.formula import And, Atom, Formula, Not

Literal = tuple[bool, Atom]
SIDEWAYS = {
    "left_of": (1, False),
    "right_of": (1, True),
    "in_front_of": (0, True),
    "behind": (0, False),
}
RELATIONS = {"left_of", "right_of", "in_front_of", "behind", "next_to", "far_from", "between"}
REGION_CLASH = [
    ("left_side", "right_side"),
    ("front", "back"),
    ("middle", "left_side"),
    ("middle", "right_side"),
    ("middle", "front"),
    ("middle", "back"),
]
MAX_DISJUNCTS = 256
PAINTED = (" zone", " outline")  # markings on the table: what rests in them rests on the table


def disjuncts(f: Formula, positive: bool = True) -> list[list[Literal]]:
    """The formula in disjunctive normal form, as lists of literals (capped in size)."""
    if isinstance(f, Atom):
        return [[(positive, f)]]
    if isinstance(f, Not):
        return disjuncts(f.part, not positive)
    conj = isinstance(f, And) == positive  # De Morgan under a negation
    parts = [disjuncts(p, positive) for p in f.parts]
    if not conj:
        return [d for p in parts for d in p][:MAX_DISJUNCTS]
    out: list[list[Literal]] = [[]]
    for p in parts:
        out = [a + b for a, b in product(out, p)][:MAX_DISJUNCTS]
    return out


def _count(f: Formula, positive: bool = True) -> int:
    """How many disjuncts `disjuncts(f)` would have uncapped (counted up to MAX + 1)."""
    if isinstance(f, Atom):
        return 1
    if isinstance(f, Not):
        return _count(f.part, not positive)
    sizes = [_count(p, positive) for p in f.parts]
    n = 1 if isinstance(f, And) == positive else 0
    for k in sizes:
        n = n * k if isinstance(f, And) == positive else n + k
        n = min(n, MAX_DISJUNCTS + 1)
    return n


def contradiction(f: Formula) -> str | None:
    """Why every disjunct of `f` contradicts itself, or None when one may hold."""
    if _count(f) > MAX_DISJUNCTS:  # a capped list may have lost the disjunct that holds
        return None
    reasons = [_conflict(d) for d in disjuncts(f)]
    if all(reasons):
        return reasons[0]
    return None


def _conflict(lits: list[Literal]) -> str | None:
    pos = [a for p, a in lits if p]
    neg = {a for p, a in lits if not p}
    for a in pos:
        if a in neg:
            return f"{a} and not {a}"
    return _order(pos) or _support(pos) or _regions(pos) or _spots(pos)


def _order(pos: list[Atom]) -> str | None:
    for axis in (0, 1):
        edges: dict[str, set[str]] = {}
        why: dict[tuple[str, str], Atom] = {}
        for a in pos:
            pairs = []
            if a.pred in SIDEWAYS and SIDEWAYS[a.pred][0] == axis:
                lo, hi = (a.args[1], a.args[0]) if SIDEWAYS[a.pred][1] else (a.args[0], a.args[1])
                pairs = [(lo, hi)]
            elif a.pred == "in_row" and axis == 1:
                pairs = list(zip(a.args, a.args[1:], strict=False))
            for lo, hi in pairs:
                edges.setdefault(lo, set()).add(hi)
                why[(lo, hi)] = a
        cycle = _cycle(edges)
        if cycle:
            atoms = sorted({str(why[(cycle[i], cycle[i + 1])]) for i in range(len(cycle) - 1)})
            return " and ".join(atoms) + " cannot all hold"
    return None


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def _support(pos: list[Atom]) -> str | None:
    rests: dict[str, tuple[str, Atom]] = {}  # object -> (what it rests on, the atom)
    under: dict[str, set[str]] = {}  # object -> what it is on or in, zones included
    held = []
    for a in pos:
        pairs = []
        if a.pred in ("on", "in"):
            pairs = [(a.args[0], a.args[1])]
        elif a.pred in ("on_table", "aligned", "where_was"):
            pairs = [(a.args[0], "the table")]
        elif a.pred == "stacked":
            pairs = [(a.args[0], "the table")] + list(zip(a.args[1:], a.args, strict=False))
        elif a.pred in ("in_row",):
            pairs = [(x, "the table") for x in a.args]
        elif a.pred == "held":
            held.append(a)
        for obj, base in pairs:
            under.setdefault(obj, set()).add(base)
            base = "the table" if base.endswith(PAINTED) else base
            if obj in rests and rests[obj][0] != base:
                return f"{rests[obj][1]} and {a}: the {obj} cannot rest on two things"
            rests.setdefault(obj, (base, a))
    if len(held) > 1:
        return f"{held[0]} and {held[1]}: the gripper holds one object"
    for h in held:
        obj = h.args[0]
        if obj in rests:
            return f"{h} and {rests[obj][1]}: the {obj} cannot be held and put down"
        for a in pos:
            if (
                a is not h
                and obj in a.args
                and a.pred in RELATIONS | {"left_side", "right_side", "middle", "front", "back"}
            ):
                return f"{h} and {a}: a held object stands nowhere on the table"
    for obj in rests:  # a circle of things resting on each other
        seen, cur = {obj}, rests[obj][0]
        while cur in rests:
            if cur in seen:
                return f"{rests[obj][1]}: the objects would rest on each other in a circle"
            seen.add(cur)
            cur = rests[cur][0]
    for a in pos:
        if a.pred in RELATIONS:
            for x, y in product(a.args[:2], a.args[:3]):
                if x != y and y in under.get(x, ()):
                    return f"{rests[x][1]} and {a}: a relation means neither rests on the other"
    return None


def _regions(pos: list[Atom]) -> str | None:
    where: dict[str, list[Atom]] = {}
    for a in pos:
        if a.pred in ("left_side", "right_side", "middle", "front", "back"):
            where.setdefault(a.args[0], []).append(a)
    for atoms in where.values():
        preds = {a.pred for a in atoms}
        for p, q in REGION_CLASH:
            if p in preds and q in preds:
                return f"{p}({atoms[0].args[0]}) and {q}({atoms[0].args[0]}): those parts of the table do not meet"
    return None


def _spots(pos: list[Atom]) -> str | None:
    taken: dict[tuple[str, str], Atom] = {}
    for a in pos:
        if a.pred in ("where_was", "aligned"):
            key = (a.pred, a.args[1])
            if key in taken and taken[key].args[0] != a.args[0]:
                return f"{taken[key]} and {a}: two objects cannot stand on one spot"
            taken.setdefault(key, a)
    return None
