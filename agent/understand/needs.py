"""The objects a scene must hold for a goal: `Reading.objects`.

Each named object once ("red cube"); a colorless spec ("cube") as many times as one
mention or set needs it: three for "the cubes", two for "both cylinders"; a set of one
color as the distinct objects of that color it may hold ("red cube", "red cylinder",
"red small cube": a scene holds one object per description). "<color> object" needs a
"<color> cube". A set sent each to "the <shape> of the same color" needs pairs of
matching colors ("red cube", "red bowl", "green cube", "green bowl", ...).
"""

from __future__ import annotations

from agent.understand.nouns import SAME, Group
from sim.goals import And, Atom, Formula, Not, Or, atoms

COLORS = ("red", "green", "blue", "yellow", "purple", "orange", "pink", "cyan")


def scene_needs(f: Formula, groups: dict[str, Group]) -> tuple[str, ...]:
    """Object specs a scene must hold for the goal (see the module docstring)."""
    need: list[str] = []

    def add(specs: list[str]) -> None:
        for s in dict.fromkeys(specs):
            want = specs.count(s) if s.split()[0] not in COLORS else 1
            need.extend([s] * max(0, want - need.count(s)))

    def spec(a: str) -> str:
        if a.endswith(SAME):
            return a[: -len(SAME)]
        return a[: -len("object")] + "cube" if a.endswith(" object") else a

    def walk(g: Formula) -> None:
        if isinstance(g, Atom):
            for a in g.args:
                if isinstance(a, str) and a != "x":
                    add([spec(a)])
        elif isinstance(g, And | Or):
            for q in g.parts:
                walk(q)
        elif isinstance(g, Not):
            walk(g.part)
        else:
            specs = list(groups[g.set].needs) if g.set in groups else []
            same = [
                a
                for at in atoms(g.body)
                for a in at.args
                if isinstance(a, str) and a.endswith(SAME)
            ]
            if same:  # each member needs its own container: give them colors that match
                shape, pairs = spec(same[0]), []
                free = iter(c for c in COLORS if not any(s.startswith(c + " ") for s in specs))
                for s in specs:
                    c, _, kind = s.partition(" ") if s.split()[0] in COLORS else (next(free), "", s)
                    pairs += [f"{c} {kind}", f"{c} {shape}"]
                add(pairs)
                return
            add(specs)
            walk(g.body)

    walk(f)
    return tuple(need)
