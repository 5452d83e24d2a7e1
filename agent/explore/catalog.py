"""What exploration scenes are made of: the simulator's object kinds, colors and roles.

Kinds are read from the simulator's catalogue (`sim.objects.SHAPES`), never listed here:
a kind added there (a mug, a duck, a bar, a sphere) is explored without a change here.
What a kind can do in a goal follows from its geometry:

- `movable`: the robot may pick it (`Shape.graspable`);
- `turnable`: movable and not round (a yaw means something: `Shape.symmetry > 0`);
- `base`: movable with a flat top level with its height, not round (a stack's base);
- `container`: fixed, with a rim above its floor (`surface < height`: a bowl, a tray);
- `flat`: fixed, its surface its top (a plate, a pad);
- `reference`: anything that takes room on the table (markings do not).

`--objects` narrows the catalogue: a comma-separated list of kinds, or of descriptions
("red cube, duck, blue bowl": a kind without a color may take any color).
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.errors import AgentError

ROLES = ("movable", "turnable", "base", "container", "flat", "reference")
_EPS = 1e-6


def roles_of(shape) -> set[str]:
    """The roles a `sim.objects.Shape` can play in a goal (see the module docstring)."""
    out: set[str] = set()
    if not shape.collides:
        return out
    out.add("reference")
    flat_top = abs(shape.surface - shape.height) < _EPS
    if shape.graspable:
        out.add("movable")
        if shape.symmetry > 0:
            out.add("turnable")
            if flat_top:
                out.add("base")
    elif shape.surface < shape.height - _EPS:
        out.add("container")
    else:
        out.add("flat")
    return out


@dataclass(frozen=True)
class Catalog:
    """Kinds with their roles, and the colors each kind may take."""

    kinds: tuple[tuple[str, frozenset[str]], ...]  # (kind, roles), in the catalogue's order
    colors: tuple[tuple[str, tuple[str, ...]], ...]  # (kind, colors it may take)

    def with_role(self, role: str) -> list[str]:
        """The kinds that can play `role`."""
        return [k for k, roles in self.kinds if role in roles]

    def colors_of(self, kind: str) -> tuple[str, ...]:
        return dict(self.colors)[kind]

    @property
    def names(self) -> list[str]:
        return [k for k, _ in self.kinds]


def catalog(objects: str | None = None) -> Catalog:
    """The simulator's catalogue, narrowed to `objects` when given (see the module docstring).

    Raises:
        AgentError: a word of `objects` that names no kind or color of the catalogue.
    """
    from sim.errors import SimError
    from sim.object_list import parse_description
    from sim.objects import COLORS, SHAPES

    every = tuple(COLORS)
    if objects is None or not objects.strip():
        kinds = [(k, frozenset(roles_of(s))) for k, s in SHAPES.items()]
        return Catalog(tuple((k, r) for k, r in kinds if r), tuple((k, every) for k, _ in kinds))
    wanted: dict[str, set[str] | None] = {}
    for entry in (e.strip() for e in objects.split(",")):
        if not entry:
            continue
        try:
            color, kind = parse_description(entry)
        except SimError as exc:
            raise AgentError(f"--objects: {exc}") from None
        have = wanted.get(kind, set())
        if color is None or have is None:
            wanted[kind] = None  # any color
        else:
            wanted[kind] = have | {color}
    kinds = [(k, frozenset(roles_of(SHAPES[k]))) for k in SHAPES if k in wanted]
    kinds = [(k, r) for k, r in kinds if r]
    if not kinds:
        raise AgentError(f"--objects {objects!r} names no object that takes room on the table")
    colors = tuple(
        (k, every if wanted[k] is None else tuple(c for c in every if c in wanted[k]))
        for k, _ in kinds
    )
    return Catalog(tuple(kinds), colors)
